package org.diffxai.attribution;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.diffxai.core.Classifier;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.Progress;

/**
 * Occlusion (Zeiler &amp; Fergus, "Visualizing and understanding convolutional networks", ECCV 2014, §4.2), gradient-free
 * and so usable with any {@link Classifier}: a {@code patch}×{@code patch} square (all channels) is replaced by the
 * {@link AttributionSettings#baseline} reference image at positions {@code stride} pixels apart (the last row and
 * column of positions are moved in to end at the image border, so every pixel is covered), and each pixel's value is
 * the mean over the patches covering it of the drop f(x) − f(x with the patch occluded). Positive: evidence for the
 * objective. Cost: n·(number of positions) forward passes in batches, plus n for f(x).
 */
public final class Occlusion {
  private Occlusion() {}

  /** Patch start positions along an axis of {@code extent} pixels. */
  static int[] starts(int extent, int patch, int stride) {
    List<Integer> s = new ArrayList<>();
    for (int a = 0; a + patch <= extent; a += stride) s.add(a);
    if (s.get(s.size() - 1) + patch < extent) s.add(extent - patch);
    int[] out = new int[s.size()];
    for (int i = 0; i < out.length; i++) out[i] = s.get(i);
    return out;
  }

  static AttributionResult compute(Classifier c, String model, float[] x, int n, Objective o, AttributionSettings s,
      Progress p) {
    int h = c.height(), w = c.width(), ch = c.channels(), hw = h * w, px = hw * ch;
    int patch = s.patch(h, w), stride = s.stride(h, w);
    int[] ys = starts(h, patch, stride), xs = starts(w, patch, stride);
    int per = ys.length * xs.length, count = n * per;
    float[] ref = new float[x.length];
    for (int i = 0; i < n; i++) {
      float[] img = java.util.Arrays.copyOfRange(x, i * px, (i + 1) * px);
      System.arraycopy(s.baseline.of(img, h, w, ch), 0, ref, i * px, px);
    }
    float[] fx = Attributions.values(c, x, n, o, model);
    double[] sum = new double[n * hw];
    int[] cover = new int[hw];
    for (int y0 : ys) {
      for (int x0 : xs) {
        for (int y = y0; y < y0 + patch; y++) for (int xx = x0; xx < x0 + patch; xx++) cover[y * w + xx]++;
      }
    }
    Attributions.inChunks(count, px, (item, buf, off) -> {
      int i = item / per, pos = item % per;
      int y0 = ys[pos / xs.length], x0 = xs[pos % xs.length];
      System.arraycopy(x, i * px, buf, off, px);
      for (int y = y0; y < y0 + patch; y++) {
        System.arraycopy(ref, i * px + (y * w + x0) * ch, buf, off + (y * w + x0) * ch, patch * ch);
      }
    }, (start, m, buf) -> {
      int[] idx = new int[m];
      for (int j = 0; j < m; j++) idx[j] = o.index[(start + j) / per];
      float[] v = Attributions.values(c, buf, m, new Objective(o.kind, idx), model);
      for (int j = 0; j < m; j++) {
        int item = start + j, i = item / per, pos = item % per;
        int y0 = ys[pos / xs.length], x0 = xs[pos % xs.length];
        double drop = (double) fx[i] - v[j];
        for (int y = y0; y < y0 + patch; y++) {
          for (int xx = x0; xx < x0 + patch; xx++) sum[i * hw + y * w + xx] += drop;
        }
      }
    }, p, "Occlusion: occluded images");
    float[][] maps = new float[n][hw];
    for (int i = 0; i < n; i++) {
      for (int q = 0; q < hw; q++) maps[i][q] = (float) (sum[i * hw + q] / cover[q]);
    }
    return new AttributionResult(AttributionMethod.OCCLUSION, w, h, maps, fx, new LinkedHashMap<>(), "a patch "
        + "occludes all channels of its pixels", (long) count + n);
  }
}
