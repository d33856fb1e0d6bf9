package org.diffxai.explain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.diffxai.attribution.AttributionSettings;
import org.diffxai.attribution.PrototypeGradientMaps;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.core.PrototypeMaps;
import org.diffxai.core.UserException;
import org.diffxai.io.Fit;
import org.diffxai.io.FloatStack;

/**
 * Local explanations of a prototype network ("this looks like that", Chen et al., NeurIPS 2019): for each image, the
 * class probabilities and the prototypes ranked by their contribution to the target class's logit,
 * {@code contribution_p = score_p × lastLayer[target][p]} (the logit is the sum of all P contributions), each with its
 * pixel map and the box around the map's top 5 %. By default ({@link PrototypeMapKind#UPSAMPLE}) the map is the
 * similarity map upsampled to the image by {@link PrototypeMaps}, as the push step made the boxes of the prototypes'
 * source images; {@link #mapKind} selects a gradient map of each prototype's score instead
 * ({@link PrototypeGradientMaps}: gradient, SmoothGrad or Integrated Gradients), from which the box is recomputed.
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
  private PrototypeMapKind kind = PrototypeMapKind.UPSAMPLE;
  private AttributionSettings settings = new AttributionSettings();

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
   * Chooses how prototype maps are made (default {@link PrototypeMapKind#UPSAMPLE}).
   *
   * @param settings SmoothGrad's samples, noise and seed, Integrated Gradients' baseline, steps and rule
   * @throws UserException when a gradient kind is asked of a model that gives no gradients, or a setting is invalid
   */
  public PrototypeExplainer mapKind(PrototypeMapKind kind, AttributionSettings settings) {
    if (kind != PrototypeMapKind.UPSAMPLE && !(model instanceof DifferentiableClassifier)) {
      throw new UserException("map=" + kind.key() + " needs the gradient of the prototype scores, but model "
          + modelName + " gives none. Use map=upsample.");
    }
    settings.check(model.height(), model.width());
    this.kind = kind;
    this.settings = settings.copy();
    return this;
  }

  public PrototypeMapKind mapKind() {
    return kind;
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
      int[][] ranked = new int[b][];
      for (int i = 0; i < b; i++) ranked[i] = rank(a, i, target, top);
      float[][] gradientMaps = kind == PrototypeMapKind.UPSAMPLE ? null : gradientMaps(x, start, ranked,
          progress.sub((double) start / n, (double) (start + b) / n));
      for (int i = 0; i < b; i++) {
        out.add(one(start + i, images.label(start + i), a, i, ranked[i], target, gradientMaps, i * top,
            placement));
      }
    }
    progress.report("Explained " + n + " image" + (n == 1 ? "" : "s"), 1);
    return out;
  }

  /** The class explained for image i of a batch: the target, or the predicted class when the target is −1. */
  private int classOf(PrototypeActivations a, int i, int target) {
    return target < 0 ? argmax(a.probabilities[i]) : target;
  }

  /** The top prototypes of image i by contribution to its class, largest first; ties by prototype index. */
  private int[] rank(PrototypeActivations a, int i, int target, int top) {
    int p = model.prototypes();
    float[] weights = lastLayer[classOf(a, i, target)];
    float[] scores = a.scores[i];
    Integer[] order = new Integer[p];
    for (int k = 0; k < p; k++) order[k] = k;
    Arrays.sort(order, (u, v) -> {
      int c = Double.compare((double) scores[v] * weights[v], (double) scores[u] * weights[u]);
      return c != 0 ? c : Integer.compare(u, v);
    });
    int[] out = new int[top];
    for (int r = 0; r < top; r++) out[r] = order[r];
    return out;
  }

  /**
   * The gradient maps of every ranked (image, prototype) pair of a batch, at the model's size; SmoothGrad's noise
   * stream of a pair is slice·P + prototype.
   */
  private float[][] gradientMaps(float[] x, int start, int[][] ranked, Progress progress) {
    int pairs = ranked.length * ranked[0].length;
    int[] image = new int[pairs], proto = new int[pairs];
    long[] stream = new long[pairs];
    for (int i = 0, j = 0; i < ranked.length; i++) {
      for (int q : ranked[i]) {
        image[j] = i;
        proto[j] = q;
        stream[j++] = (long) (start + i) * model.prototypes() + q;
      }
    }
    return PrototypeGradientMaps.maps(kind, (DifferentiableClassifier) model, modelName, x, image, proto, stream,
        settings, progress);
  }

  private Explanation one(int slice, String label, PrototypeActivations a, int i, int[] ranked, int target,
      float[][] gradientMaps, int offset, Fit.Placement placement) {
    int width = placement.width, height = placement.height;
    int p = model.prototypes(), mh = model.mapHeight(), mw = model.mapWidth();
    float[] logits = a.logits[i];
    double[] prob = a.probabilities[i]; // calibrated: softmax(logits / T) (docs/confidence.md)
    int predicted = argmax(prob);
    int t = target < 0 ? predicted : target;
    float[] weights = lastLayer[t];
    float[] scores = a.scores[i];
    List<Explanation.Contribution> out = new ArrayList<>(ranked.length);
    float[] sim = a.similarity[i];
    for (int r = 0; r < ranked.length; r++) {
      int q = ranked[r];
      float[] map;
      if (gradientMaps == null) {
        float[] grid = new float[mh * mw];
        for (int c = 0; c < grid.length; c++) grid[c] = sim[c * p + q];
        float[] onRect = PrototypeMaps.upsampleBicubic(grid, mh, mw, placement.rectHeight, placement.rectWidth);
        map = placement.toImage(onRect, min(onRect));
      } else {
        // A gradient map is over the model's input, the fitted rectangle resized; pixels the model never saw get 0.
        float[] onRect = gradientMaps[offset + r];
        if (placement.rectWidth != model.width() || placement.rectHeight != model.height()) {
          onRect = PrototypeMaps.upsampleBicubic(onRect, model.height(), model.width(), placement.rectHeight,
              placement.rectWidth);
        }
        map = placement.toImage(onRect, 0f);
      }
      out.add(new Explanation.Contribution(r + 1, q, model.prototype(q), scores[q], weights[q], map,
          PrototypeMaps.percentileBox(map, height, width, BOX_PERCENTILE)));
    }
    return new Explanation(slice, label, logits, prob, predicted, t, a.ood[i], out, kind);
  }

  private static float min(float[] v) {
    float m = Float.POSITIVE_INFINITY;
    for (float x : v) m = Math.min(m, x);
    return m;
  }

  private static int argmax(double[] v) {
    int best = 0;
    for (int k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
    return best;
  }
}
