package org.diffxai.attribution;

import java.util.LinkedHashMap;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.Progress;
import org.diffxai.core.Seeds;

/**
 * SmoothGrad (Smilkov, Thorat, Kim, Viégas &amp; Wattenberg, "SmoothGrad: removing noise by adding noise", 2017, eq. 3):
 * the gradient averaged over {@code samples} copies of the image with Gaussian noise, M̂ = (1/s) Σ_j ∂f(x + ε_j)/∂x,
 * ε_j ~ N(0, σ²), σ = {@code noise} · (max x − min x) of each image (the paper's noise level σ/(x_max − x_min), 10–20 %
 * recommended); the map is max over channels of |M̂|, as {@link Attributions#saliency}. The noise of image i comes
 * from {@code Seeds.gaussian(seed, "smoothgrad", i)}, so maps do not depend on batching or on the other images. Cost:
 * n·s gradient evaluations in batches. The objective value reported is f(x) of the noise-free image.
 */
public final class SmoothGrad {
  static final String STREAM = "smoothgrad";

  private SmoothGrad() {}

  /**
   * @param stream the noise stream index of each image (null: image i uses stream i)
   */
  static AttributionResult compute(DifferentiableClassifier c, String model, float[] x, int n, Objective o,
      AttributionSettings s, Progress p, long[] stream) {
    int h = c.height(), w = c.width(), ch = c.channels(), hw = h * w, px = hw * ch, m = s.samples;
    double[] sigma = new double[n];
    for (int i = 0; i < n; i++) {
      float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
      for (int q = i * px; q < (i + 1) * px; q++) {
        min = Math.min(min, x[q]);
        max = Math.max(max, x[q]);
      }
      sigma[i] = s.noise * ((double) max - min);
    }
    GaussianNoise[] noise = new GaussianNoise[n];
    double[] avg = new double[x.length];
    Attributions.gradients(c, o.kind, o.index, m, n * m, (item, buf, off) -> {
      int i = item / m, base = i * px;
      if (noise[i] == null) noise[i] = Seeds.gaussian(s.seed, STREAM, stream == null ? i : stream[i]);
      for (int q = 0; q < px; q++) buf[off + q] = (float) (x[base + q] + sigma[i] * noise[i].nextGaussian());
    }, (item, value, grad, off) -> {
      int base = (item / m) * px;
      for (int q = 0; q < px; q++) avg[base + q] += grad[off + q] / (double) m;
    }, p, "SmoothGrad");
    float[] mean = new float[x.length];
    for (int q = 0; q < mean.length; q++) mean[q] = (float) avg[q];
    return new AttributionResult(AttributionMethod.SMOOTHGRAD, w, h, Attributions.maxAbs(mean, n, hw, ch),
        Attributions.values(c, x, n, o, model), new LinkedHashMap<>(), Attributions.MAX_ABS, (long) n * m);
  }
}
