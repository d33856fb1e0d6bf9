package org.diffxai.attribution;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;

/**
 * Integrated Gradients (Sundararajan, Taly &amp; Yan, "Axiomatic attribution for deep networks", ICML 2017, eq. 1):
 *
 * <pre>
 *   IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂f(x′ + α(x − x′))/∂x_i dα  ≈  (x_i − x′_i) · Σ_k w_k ∂f(x′ + α_k(x − x′))/∂x_i
 * </pre>
 *
 * with the reference x′ = {@link AttributionSettings#baseline} of each image and m = {@code steps} gradient evaluations
 * at the nodes α_k of a {@link Rule}. The map sums IG over channels. Completeness (the paper's Proposition 1):
 * Σ_i IG_i = f(x) − f(x′) for the exact integral; the per-image gap Σ_i IG_i − (f(x) − f(x′)) measures the quadrature
 * error (and kinks of ReLU networks) and is reported as {@code completeness_gap}, with {@code attribution_sum} and
 * {@code baseline_value} f(x′). Cost: n·m gradient evaluations in batches plus one forward call of 2n images for f(x)
 * and f(x′).
 */
public final class IntegratedGradients {

  /** The quadrature of the path integral with m nodes. */
  public enum Rule {
    /** α_k = k/m, weights 1/m (the right Riemann sum of the paper's eq. 3). */
    RIGHT,
    /** α_k = (k − ½)/m, weights 1/m: the midpoint rule, exact for f linear along the path, error O(1/m²). */
    MIDPOINT,
    /** α_k = k/(m − 1), k = 0 … m − 1, weights 1/(m − 1) with the two ends halved: the trapezoidal rule. */
    TRAPEZOID;

    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Parses right, midpoint or trapezoid (case-insensitive). */
    public static Rule of(String key) {
      for (Rule r : values()) if (r.key().equalsIgnoreCase(key == null ? "" : key.trim())) return r;
      throw new UserException("Unknown rule '" + key + "'. Use right, midpoint or trapezoid.");
    }

    /** The m nodes α_k in [0, 1]. */
    public double[] nodes(int m) {
      double[] a = new double[m];
      for (int k = 0; k < m; k++) {
        a[k] = this == RIGHT ? (k + 1.0) / m : this == MIDPOINT ? (k + 0.5) / m : (double) k / (m - 1);
      }
      return a;
    }

    /** The m weights w_k (summing to 1). */
    public double[] weights(int m) {
      double[] w = new double[m];
      for (int k = 0; k < m; k++) {
        w[k] = this == TRAPEZOID ? (k == 0 || k == m - 1 ? 0.5 : 1.0) / (m - 1) : 1.0 / m;
      }
      return w;
    }
  }

  private IntegratedGradients() {}

  static AttributionResult compute(DifferentiableClassifier c, String model, float[] x, int n, Objective o,
      AttributionSettings s, Progress p) {
    int h = c.height(), w = c.width(), ch = c.channels(), hw = h * w, px = hw * ch, m = s.steps;
    float[] ref = new float[x.length];
    for (int i = 0; i < n; i++) {
      float[] img = java.util.Arrays.copyOfRange(x, i * px, (i + 1) * px);
      System.arraycopy(s.baseline.of(img, h, w, ch), 0, ref, i * px, px);
    }
    double[] alpha = s.rule.nodes(m), weight = s.rule.weights(m);
    double[] avg = new double[x.length]; // Σ_k w_k ∂f/∂x at the nodes, per image
    Attributions.gradients(c, o.kind, o.index, m, n * m, (item, buf, off) -> {
      int i = item / m, base = i * px;
      float a = (float) alpha[item % m];
      for (int q = 0; q < px; q++) buf[off + q] = ref[base + q] + a * (x[base + q] - ref[base + q]);
    }, (item, value, grad, off) -> {
      int base = (item / m) * px;
      double wk = weight[item % m];
      for (int q = 0; q < px; q++) avg[base + q] += wk * grad[off + q];
    }, p, "Integrated Gradients");
    float[] attr = new float[x.length];
    for (int q = 0; q < attr.length; q++) attr[q] = (float) ((x[q] - ref[q]) * avg[q]);
    float[][] maps = Attributions.sum(attr, n, hw, ch);
    // f(x) and f(x′) in one forward call of 2n images
    float[] both = java.util.Arrays.copyOf(x, 2 * x.length);
    System.arraycopy(ref, 0, both, x.length, ref.length);
    int[] idx = java.util.Arrays.copyOf(o.index, 2 * n);
    System.arraycopy(o.index, 0, idx, n, n);
    float[] v = Attributions.values(c, both, 2 * n, new Objective(o.kind, idx), model);
    float[] fx = java.util.Arrays.copyOf(v, n), fr = java.util.Arrays.copyOfRange(v, n, 2 * n);
    double[] sums = Attributions.sums(maps), gap = new double[n], base = new double[n];
    for (int i = 0; i < n; i++) {
      base[i] = fr[i];
      gap[i] = sums[i] - ((double) fx[i] - fr[i]);
    }
    Map<String, double[]> numbers = new LinkedHashMap<>();
    numbers.put("baseline_value", base);
    numbers.put("attribution_sum", sums);
    numbers.put("completeness_gap", gap);
    return new AttributionResult(AttributionMethod.INTEGRATED_GRADIENTS, w, h, maps, fx, numbers, Attributions.SUM,
        (long) n * m);
  }
}
