package org.diffxai.explain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeMaps;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;

/**
 * Local explanations of a prototype network ("this looks like that", Chen et al., NeurIPS 2019): for each image, the
 * class probabilities and the prototypes ranked by their contribution to the target class's logit,
 * {@code contribution_p = score_p × lastLayer[target][p]} (the logit is the sum of all P contributions), each with its
 * similarity map upsampled to the image and the box around the map's top 5 %. Maps and boxes are made by
 * {@link PrototypeMaps}, as the push step made the boxes of the prototypes' source images.
 *
 * <p>Images of any size with the model's aspect ratio are explained; see {@link ExplainInput}. Maps and boxes are in
 * the explained image's own pixels.
 */
public final class PrototypeExplainer {

  /**
   * Percentile of the upsampled map above which pixels form the box: ProtoPNet's 95th (Chen et al. 2019), the same
   * as the push step's boxes in the bundle.
   */
  public static final double BOX_PERCENTILE = 95;

  private final PrototypeClassifier model;
  private final String modelName;
  private final float[][] lastLayer;

  /**
   * @param modelName how the model is called in messages
   * @throws UserException when the model takes more than one channel
   */
  public PrototypeExplainer(PrototypeClassifier model, String modelName) {
    if (model.channels() != 1) {
      throw new UserException("Model " + modelName + " takes " + model.channels() + "-channel images; explanations"
          + " work on gray (1-channel) models. Choose a 1-channel prototype model.");
    }
    this.model = model;
    this.modelName = modelName;
    this.lastLayer = model.lastLayer();
  }

  /**
   * The class index for {@code target}: empty means the predicted class of each image (−1); otherwise a class name or a
   * 0-based index.
   *
   * @throws UserException naming the classes when there is no such class
   */
  public static int targetIndex(String target, List<String> classNames, String modelName) {
    String t = target == null ? "" : target.trim();
    if (t.isEmpty()) return -1;
    int byName = classNames.indexOf(t);
    if (byName >= 0) return byName;
    try {
      int i = Integer.parseInt(t);
      if (i >= 0 && i < classNames.size()) return i;
    } catch (NumberFormatException e) {
      // not an index either
    }
    throw new UserException("target=" + t + " is not a class of model " + modelName + ". Use one of "
        + String.join(", ", classNames) + " (or its index 0 to " + (classNames.size() - 1) + "), or leave target"
        + " empty to explain the predicted class.");
  }

  /**
   * Explains every plane.
   *
   * @param images one channel; every slice and frame is explained
   * @param top number of prototypes per image (at least 1; more than the P prototypes shows all P)
   * @param target class index, or −1 for each image's predicted class
   * @param batch images per model call
   * @param imageName how the image is called in messages
   */
  public List<Explanation> explain(FloatStack images, int top, int target, int batch, String imageName,
      Progress progress) {
    if (top < 1) throw new UserException("top=" + top + ": show at least 1 prototype per image.");
    top = Math.min(top, model.prototypes());
    if (batch < 1) throw new UserException("batch=" + batch + ": use at least 1 image per model call.");
    int h = model.height(), w = model.width();
    ExplainInput.checkSize(images.width, images.height, w, h, imageName, modelName);
    int n = images.planeCount();
    List<Explanation> out = new ArrayList<>(n);
    for (int start = 0; start < n; start += batch) {
      progress.checkCancelled();
      progress.report(String.format(Locale.ROOT, "Explaining %d/%d", start + 1, n), (double) start / n);
      int b = Math.min(batch, n - start);
      float[] x = new float[b * h * w];
      for (int i = 0; i < b; i++) {
        float[] plane = ExplainInput.fit(images.plane(start + i), images.width, images.height, w, h);
        System.arraycopy(plane, 0, x, i * h * w, h * w);
      }
      PrototypeActivations a = model.activations(x, b);
      for (int i = 0; i < b; i++) {
        out.add(one(start + i, images.label(start + i), a, i, top, target, images.width, images.height));
      }
    }
    progress.report("Explained " + n + " image" + (n == 1 ? "" : "s"), 1);
    return out;
  }

  private Explanation one(int slice, String label, PrototypeActivations a, int i, int top, int target, int width,
      int height) {
    int p = model.prototypes(), mh = model.mapHeight(), mw = model.mapWidth();
    float[] logits = a.logits[i];
    double[] prob = a.probabilities[i]; // calibrated: softmax(logits / T) (docs/confidence.md)
    int predicted = argmax(prob);
    int t = target < 0 ? predicted : target;
    float[] weights = lastLayer[t];
    float[] scores = a.scores[i];
    Integer[] order = new Integer[p];
    for (int k = 0; k < p; k++) order[k] = k;
    // Largest contribution first; ties by prototype index, so the ranking is deterministic.
    Arrays.sort(order, (u, v) -> {
      int c = Double.compare((double) scores[v] * weights[v], (double) scores[u] * weights[u]);
      return c != 0 ? c : Integer.compare(u, v);
    });
    List<Explanation.Contribution> ranked = new ArrayList<>(top);
    float[] sim = a.similarity[i];
    for (int r = 0; r < top; r++) {
      int q = order[r];
      float[] grid = new float[mh * mw];
      for (int c = 0; c < grid.length; c++) grid[c] = sim[c * p + q];
      float[] map = PrototypeMaps.upsampleBicubic(grid, mh, mw, height, width);
      ranked.add(new Explanation.Contribution(r + 1, q, model.prototype(q), scores[q], weights[q], map,
          PrototypeMaps.percentileBox(map, height, width, BOX_PERCENTILE)));
    }
    return new Explanation(slice, label, logits, prob, predicted, t, ranked);
  }

  private static int argmax(double[] v) {
    int best = 0;
    for (int k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
    return best;
  }
}
