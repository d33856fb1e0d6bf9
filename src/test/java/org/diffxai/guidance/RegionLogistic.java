package org.diffxai.guidance;

import java.util.List;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.UserException;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;

/**
 * A real differentiable classifier in plain Java: two-class logistic regression on the means of 8×8-pixel blocks
 * (image units), standardised with the training set's mean and deviation; logits (0, z) with
 * z = b + Σ_k v_k·(f_k − μ_k)/s_k, trained here by full-batch gradient descent on the cross-entropy with an L2 penalty.
 * Input gradients are analytic: ∂z/∂x_j = v_k/(s_k·64) for the block k holding pixel j, and
 * ∂ log p_c/∂x = (1 − p_c)·(±∂z/∂x). A weak but honest model (about 0.7 accurate on unseen phantoms: a lesion lies
 * anywhere in the brain and block means see it only as a darker block).
 */
public final class RegionLogistic implements DifferentiableClassifier {
  static final int BLOCK = 8;
  final int size;
  final int blocks;
  final int BINS;
  final double[] mu;
  final double[] sd;
  final double[] v;
  double b;

  RegionLogistic(int size) {
    this.size = size;
    this.blocks = size / BLOCK;
    this.BINS = blocks * blocks;
    mu = new double[BINS];
    sd = new double[BINS];
    v = new double[BINS];
  }

  int block(int j) {
    return (j / size) / BLOCK * blocks + (j % size) / BLOCK;
  }

  /** Block means (BLOCK×BLOCK pixels), row-major. */
  double[] features(float[] x, int off) {
    int d = size * size;
    double[] f = new double[BINS];
    for (int j = 0; j < d; j++) f[block(j)] += x[off + j];
    for (int k = 0; k < BINS; k++) f[k] /= BLOCK * BLOCK;
    return f;
  }

  /** The test classifier: 60 phantoms per class (seed 11), 2000 gradient steps of 0.5, L2 0.01. */
  public static RegionLogistic trained() {
    return trainOnPhantoms(64, 11, 60, 2000, 0.5, 1e-2);
  }

  /** Trains on {@code perClass} phantoms of each class (seed, indices 0..perClass−1), from v = 0. */
  static RegionLogistic trainOnPhantoms(int size, long seed, int perClass, int iterations, double lr, double l2) {
    RegionLogistic m = new RegionLogistic(size);
    PhantomGenerator g = new PhantomGenerator(size);
    int n = 2 * perClass;
    double[][] f = new double[n][];
    int[] y = new int[n];
    for (int i = 0; i < perClass; i++) {
      f[2 * i] = m.features(g.generate(seed, i, false).pixels, 0);
      f[2 * i + 1] = m.features(g.generate(seed, i, true).pixels, 0);
      y[2 * i + 1] = 1;
    }
    for (int k = 0; k < m.BINS; k++) {
      double s = 0, s2 = 0;
      for (double[] r : f) {
        s += r[k];
        s2 += r[k] * r[k];
      }
      m.mu[k] = s / n;
      m.sd[k] = Math.sqrt(Math.max(s2 / n - m.mu[k] * m.mu[k], 0)) + 1e-6;
    }
    for (int it = 0; it < iterations; it++) {
      double[] gv = new double[m.BINS];
      double gb = 0;
      for (int i = 0; i < n; i++) {
        double r = 1 / (1 + Math.exp(-m.z(f[i]))) - y[i];
        for (int k = 0; k < m.BINS; k++) gv[k] += r * (f[i][k] - m.mu[k]) / m.sd[k];
        gb += r;
      }
      for (int k = 0; k < m.BINS; k++) m.v[k] -= lr * (gv[k] / n + l2 * m.v[k]);
      m.b -= lr * gb / n;
    }
    return m;
  }

  double z(double[] f) {
    double z = b;
    for (int k = 0; k < BINS; k++) z += v[k] * (f[k] - mu[k]) / sd[k];
    return z;
  }

  /** Share of phantoms of indices [from, from + count) of each class classified as their class. */
  double accuracy(long seed, int from, int count) {
    PhantomGenerator g = new PhantomGenerator(size);
    int right = 0;
    for (int i = from; i < from + count; i++) {
      for (boolean lesion : new boolean[] {false, true}) {
        Phantom p = g.generate(seed, i, lesion);
        if ((z(features(p.pixels, 0)) > 0) == lesion) right++;
      }
    }
    return right / (2.0 * count);
  }

  @Override
  public int height() {
    return size;
  }

  @Override
  public int width() {
    return size;
  }

  @Override
  public int channels() {
    return 1;
  }

  @Override
  public List<String> classNames() {
    return List.of("healthy", "lesion");
  }

  @Override
  public float[][] logits(float[] x, int n) {
    int d = size * size;
    float[][] out = new float[n][];
    for (int i = 0; i < n; i++) out[i] = new float[] {0, (float) z(features(x, i * d))};
    return out;
  }

  @Override
  public Gradient gradient(float[] x, int n, Objective objective) {
    if (objective.kind == Kind.PROTOTYPE_SCORE) {
      throw new UserException("This classifier is not a prototype network; it has no prototype scores.");
    }
    int d = size * size;
    float[] values = new float[n];
    float[] grad = new float[n * d];
    for (int i = 0; i < n; i++) {
      double z = z(features(x, i * d));
      int c = objective.index[i];
      double sign = c == 1 ? 1 : -1;
      double factor;
      if (objective.kind == Kind.LOGIT) {
        values[i] = c == 1 ? (float) z : 0f;
        factor = c == 1 ? 1 : 0;
      } else {
        double m = sign * z; // log p_c = −log(1 + exp(−m))
        values[i] = (float) -(Math.max(-m, 0) + Math.log1p(Math.exp(-Math.abs(m))));
        factor = (1 - 1 / (1 + Math.exp(-m))) * sign;
      }
      for (int j = 0; j < d; j++) {
        int k = block(j);
        grad[i * d + j] = (float) (factor * v[k] / sd[k] / (BLOCK * BLOCK));
      }
    }
    return new Gradient(values, grad);
  }
}
