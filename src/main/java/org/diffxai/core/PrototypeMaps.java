package org.diffxai.core;

import java.util.Arrays;

/**
 * Image-space geometry of prototype similarity maps (engine-free): bicubic upsampling of an h×w map to the image, the
 * box around its high-activation pixels, and the receptive field of a latent patch.
 *
 * <p>Boxes are {x, y, w, h} in image pixels, x to the right and y down, always inside the image.
 */
public final class PrototypeMaps {
  private PrototypeMaps() {}

  /**
   * Bicubic resize of a row-major h×w map to H×W with half-pixel centres (source coordinate (i + 0.5)·h/H − 0.5),
   * Keys' cubic kernel with a = −0.75 and edge samples repeated: the interpolation of OpenCV's {@code INTER_CUBIC},
   * which ProtoPNet uses to upsample activation maps (Chen et al. 2019, §2.1 and its local-analysis code).
   */
  public static float[] upsampleBicubic(float[] map, int h, int w, int outH, int outW) {
    if (map.length != h * w) throw new IllegalArgumentException("map has " + map.length + " values, not " + h * w);
    float[] tmp = new float[h * outW];
    for (int r = 0; r < h; r++) {
      for (int x = 0; x < outW; x++) tmp[r * outW + x] = cubicAt(map, r * w, 1, w, (x + 0.5) * w / outW - 0.5);
    }
    float[] out = new float[outH * outW];
    for (int y = 0; y < outH; y++) {
      double sy = (y + 0.5) * h / outH - 0.5;
      for (int x = 0; x < outW; x++) out[y * outW + x] = cubicAt(tmp, x, outW, h, sy);
    }
    return out;
  }

  /** Cubic interpolation of the 1-D sequence a[off + i·stride], i in [0, n), at position s. */
  private static float cubicAt(float[] a, int off, int stride, int n, double s) {
    int i0 = (int) Math.floor(s);
    double t = s - i0;
    double sum = 0;
    for (int k = -1; k <= 2; k++) {
      int i = Math.min(n - 1, Math.max(0, i0 + k));
      sum += a[off + i * stride] * keys(k - t);
    }
    return (float) sum;
  }

  /** Keys' cubic convolution kernel with a = −0.75 (OpenCV's choice). */
  private static double keys(double x) {
    final double a = -0.75;
    x = Math.abs(x);
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
  }

  /**
   * The smallest box holding every pixel whose value is at or above the {@code percentile}-th percentile of the map
   * (numpy's linear-interpolation percentile), as ProtoPNet's high-activation crop (Chen et al. 2019; 95th percentile).
   */
  public static int[] percentileBox(float[] map, int height, int width, double percentile) {
    float[] sorted = map.clone();
    Arrays.sort(sorted);
    double pos = percentile / 100.0 * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(sorted.length - 1, lo + 1);
    double threshold = sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    int x0 = width;
    int y0 = height;
    int x1 = -1;
    int y1 = -1;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        if (map[y * width + x] >= threshold) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) return new int[] {0, 0, width, height}; // NaN map: nothing passes, report the whole image
    return new int[] {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
  }

  /**
   * Receptive field of a stack of convolutions, computed layer by layer (Dumoulin &amp; Visin 2016, "A guide to
   * convolution arithmetic"; as ProtoPNet's {@code compute_proto_layer_rf_info}): {@code size} pixels wide, output
   * positions {@code jump} pixels apart, the first centred on pixel {@code start}.
   */
  public static final class ReceptiveField {
    public final int size;
    public final int jump;
    public final double start;

    private ReceptiveField(int size, int jump, double start) {
      this.size = size;
      this.jump = jump;
      this.start = start;
    }

    /** The field of a single pixel. */
    public static ReceptiveField identity() {
      return new ReceptiveField(1, 1, 0);
    }

    /** The field after one more convolution with a k×k kernel, stride s and {@code padBefore} padding on top/left. */
    public ReceptiveField then(int k, int s, int padBefore) {
      return new ReceptiveField(size + (k - 1) * jump, jump * s, start + ((k - 1) / 2.0 - padBefore) * jump);
    }

    /** The box {x, y, w, h} of the latent patch (row, col), clipped to the height×width image. */
    public int[] box(int row, int col, int height, int width) {
      int[] ys = span(row, height);
      int[] xs = span(col, width);
      return new int[] {xs[0], ys[0], xs[1] - xs[0], ys[1] - ys[0]};
    }

    private int[] span(int index, int extent) {
      double centre = start + index * (double) jump;
      int a = (int) Math.max(0, Math.ceil(centre - (size - 1) / 2.0));
      int b = (int) Math.min(extent, Math.floor(centre + (size - 1) / 2.0) + 1);
      return new int[] {a, b};
    }

    @Override
    public String toString() {
      return "size " + size + ", jump " + jump + ", start " + start;
    }
  }
}
