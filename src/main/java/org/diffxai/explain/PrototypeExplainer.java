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
import org.diffxai.io.Fit;
import org.diffxai.io.FloatStack;

/**
 * Local explanations of a prototype network ("this looks like that", Chen et al., NeurIPS 2019): for each image, the
 * class probabilities and the prototypes ranked by their contribution to the target class's logit,
 * {@code contribution_p = score_p × lastLayer[target][p]} (the logit is the sum of all P contributions), each with its
 * similarity map upsampled to the image and the box around the map's top 5 %. Maps and boxes are made by
 * {@link PrototypeMaps}, as the push step made the boxes of the prototypes' source images.
 *
 * <p>Images of any size are explained: each is brought to the model's input by the {@link Fit} rule (see
 * {@link ExplainInput}); maps and boxes are in the explained image's own pixels (a map is upsampled to the fitted
 * rectangle of the image, then cut to the image; pixels a crop removed, which the model never saw, hold the map's
 * minimum).
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

  /** Explains every plane, bringing other sizes to the model's by the default {@link Fit}. */
  public List<Explanation> explain(FloatStack images, int top, int target, int batch, String imageName,
      Progress progress) {
    return explain(images, top, target, batch, Fit.DEFAULT, imageName, progress);
  }

  /**
   * Explains every plane.
   *
   * @param images one channel; every slice and frame is explained
   * @param top number of prototypes per image (at least 1; more than the P prototypes shows all P)
   * @param target class index, or −1 for each image's predicted class
   * @param batch images per model call
   * @param fit how images of another size are brought to the model's
   * @param imageName how the image is called in messages
   */
  public List<Explanation> explain(FloatStack images, int top, int target, int batch, Fit fit, String imageName,
      Progress progress) {
    if (top < 1) throw new UserException("top=" + top + ": show at least 1 prototype per image.");
    top = Math.min(top, model.prototypes());
    if (batch < 1) throw new UserException("batch=" + batch + ": use at least 1 image per model call.");
    int h = model.height(), w = model.width();
    Fit.Placement placement = fit.place(images.width, images.height, w, h);
    int n = images.planeCount();
    List<Explanation> out = new ArrayList<>(n);
    for (int start = 0; start < n; start += batch) {
      progress.checkCancelled();
      progress.report(String.format(Locale.ROOT, "Explaining %d/%d", start + 1, n), (double) start / n);
      int b = Math.min(batch, n - start);
      float[] x = new float[b * h * w];
      for (int i = 0; i < b; i++) {
        float[] plane = placement.apply(images.plane(start + i));
        System.arraycopy(plane, 0, x, i * h * w, h * w);
      }
      PrototypeActivations a = model.activations(x, b);
      for (int i = 0; i < b; i++) {
        out.add(one(start + i, images.label(start + i), a, i, top, target, placement));
      }
    }
    progress.report("Explained " + n + " image" + (n == 1 ? "" : "s"), 1);
    return out;
  }

  private Explanation one(int slice, String label, PrototypeActivations a, int i, int top, int target,
      Fit.Placement placement) {
    int width = placement.width, height = placement.height;
    int p = model.prototypes(), mh = model.mapHeight(), mw = model.mapWidth();
    float[] logits = a.logits[i];
    double[] prob = softmax(logits);
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
      float[] onRect = PrototypeMaps.upsampleBicubic(grid, mh, mw, placement.rectHeight, placement.rectWidth);
      float[] map = placement.toImage(onRect, min(onRect));
      ranked.add(new Explanation.Contribution(r + 1, q, model.prototype(q), scores[q], weights[q], map,
          PrototypeMaps.percentileBox(map, height, width, BOX_PERCENTILE)));
    }
    return new Explanation(slice, label, logits, prob, predicted, t, ranked);
  }

  private static float min(float[] v) {
    float m = Float.POSITIVE_INFINITY;
    for (float x : v) m = Math.min(m, x);
    return m;
  }

  static double[] softmax(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) max = Math.max(max, l);
    double[] e = new double[logits.length];
    double sum = 0;
    for (int k = 0; k < e.length; k++) sum += e[k] = Math.exp(logits[k] - max);
    for (int k = 0; k < e.length; k++) e[k] /= sum;
    return e;
  }

  private static int argmax(double[] v) {
    int best = 0;
    for (int k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
    return best;
  }
}
