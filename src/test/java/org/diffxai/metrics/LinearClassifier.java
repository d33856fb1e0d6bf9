package org.diffxai.metrics;

import java.util.ArrayList;
import java.util.List;
import org.diffxai.core.Classifier;

/**
 * logit_k(x) = Σ_i W[k][i]·x_i + bias_k in double, rounded to float: the classifier whose exact attribution is known.
 * Relative to a baseline b, the target logit drops by exactly Σ_{i∈S} W[t][i]·(x_i − b_i) when the pixels S go to b.
 * Counts the images and calls it receives.
 */
public final class LinearClassifier implements Classifier {
  final int h, w, c;
  final float[][] weights;
  final float[] bias;
  int images;
  int calls;

  LinearClassifier(int h, int w, int c, float[][] weights, float[] bias) {
    this.h = h;
    this.w = w;
    this.c = c;
    this.weights = weights;
    this.bias = bias;
  }

  /** K classes with weights uniform in [-1, 1] and zero bias. */
  public static LinearClassifier random(int h, int w, int c, int k, long seed) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    float[][] wt = new float[k][h * w * c];
    for (float[] row : wt) {
      for (int i = 0; i < row.length; i++) row[i] = (float) (2 * r.nextDouble() - 1);
    }
    return new LinearClassifier(h, w, c, wt, new float[k]);
  }

  /** Per-pixel exact attribution of class t relative to the baseline image b: Σ_ch W[t][p,ch]·(x − b). */
  public float[] exact(int t, float[] x, float[] b) {
    float[] a = new float[h * w];
    for (int p = 0; p < h * w; p++) {
      double s = 0;
      for (int ch = 0; ch < c; ch++) s += (double) weights[t][p * c + ch] * (x[p * c + ch] - b[p * c + ch]);
      a[p] = (float) s;
    }
    return a;
  }

  @Override
  public int height() {
    return h;
  }

  @Override
  public int width() {
    return w;
  }

  @Override
  public int channels() {
    return c;
  }

  @Override
  public List<String> classNames() {
    List<String> n = new ArrayList<>();
    for (int k = 0; k < weights.length; k++) n.add("class" + k);
    return n;
  }

  @Override
  public float[][] logits(float[] x, int n) {
    int d = h * w * c;
    if (x.length != n * d) throw new IllegalArgumentException(x.length + " values for " + n + " images");
    calls++;
    images += n;
    float[][] out = new float[n][weights.length];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < weights.length; k++) {
        double s = bias[k];
        for (int j = 0; j < d; j++) s += (double) weights[k][j] * x[i * d + j];
        out[i][k] = (float) s;
      }
    }
    return out;
  }
}
