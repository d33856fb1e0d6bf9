package org.diffxai.metrics;

import java.util.Arrays;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.UserException;

/**
 * The faithfulness ("NIS") score of the MRI explainability paper, as its published code computes it: for each
 * generated image's feature vector g, the largest softmax weight over the reference vectors r_1 … r_M,
 * {@code max_j exp(−‖g − r_j‖₂) / Σ_m exp(−‖g − r_m‖₂)}, averaged over the images. It is 1/M when g is equally far
 * from every reference and approaches 1 when g is much closer to one reference than to the rest.
 *
 * <p>It is a feature-space typicality score, not a perturbation test: it never asks the classifier what happens when
 * the evidence is removed, it is bounded below by 1/M (so it depends on the number of references) and it is not
 * invariant to the scale of the features. docs/faithfulness.md compares it with the perturbation metrics.
 */
public final class Nis {

  private Nis() {}

  /** max_j softmax_j(−‖g_i − r_j‖₂) for every generated vector g_i (distances and softmax in double). */
  public static double[] perImage(float[][] generated, float[][] references) {
    if (references.length == 0) throw new IllegalArgumentException("no reference vectors");
    int dim = references[0].length;
    for (float[] r : references) checkDim(r, dim);
    double[] out = new double[generated.length];
    double[] dist = new double[references.length];
    for (int i = 0; i < generated.length; i++) {
      float[] g = generated[i];
      checkDim(g, dim);
      double min = Double.POSITIVE_INFINITY;
      for (int j = 0; j < references.length; j++) {
        double s = 0;
        for (int k = 0; k < dim; k++) {
          double e = (double) g[k] - references[j][k];
          s += e * e;
        }
        dist[j] = Math.sqrt(s);
        min = Math.min(min, dist[j]);
      }
      double sum = 0; // Σ exp(−d_j + d_min): the largest weight is exp(0)/sum
      for (double dj : dist) sum += Math.exp(min - dj);
      out[i] = 1 / sum;
    }
    return out;
  }

  /** The mean of {@link #perImage}: the score as the paper reports it. */
  public static double score(float[][] generated, float[][] references) {
    return Stats.mean(perImage(generated, references));
  }

  /**
   * Global-average-pooled latent features of n images (image intensity, NHWC) under a prototype network: the vector
   * {@code f_gen} this project compares with the network's prototype vectors (both live in the latent space of depth
   * D). Called in batches of {@code batch} images.
   *
   * @return [n][D]
   */
  public static float[][] pooledFeatures(PrototypeClassifier model, float[] images, int n, int batch) {
    int d = model.height() * model.width() * model.channels();
    int cells = model.mapHeight() * model.mapWidth(), depth = model.featureDepth();
    if (images.length != (long) n * d) {
      throw new UserException("The images hold " + images.length + " values; the model needs " + n + " x " + d + ".");
    }
    float[][] out = new float[n][];
    for (int start = 0; start < n; start += batch) {
      int m = Math.min(batch, n - start);
      float[][] f = model.features(Arrays.copyOfRange(images, start * d, (start + m) * d), m);
      for (int i = 0; i < m; i++) out[start + i] = pool(f[i], cells, depth);
    }
    return out;
  }

  /** Mean over the h·w cells of a (h, w, D) row-major feature map. */
  static float[] pool(float[] features, int cells, int depth) {
    if (features.length != cells * depth) {
      throw new IllegalArgumentException(features.length + " feature values for " + cells + " cells x " + depth);
    }
    double[] s = new double[depth];
    for (int p = 0; p < cells; p++) {
      for (int k = 0; k < depth; k++) s[k] += features[p * depth + k];
    }
    float[] out = new float[depth];
    for (int k = 0; k < depth; k++) out[k] = (float) (s[k] / cells);
    return out;
  }

  private static void checkDim(float[] v, int dim) {
    if (v.length != dim) {
      throw new UserException("Feature vectors of different lengths (" + v.length + " and " + dim + "): generated and"
          + " reference features must come from the same model layer.");
    }
  }
}
