package org.diffxai.explain;

import java.util.Arrays;

/**
 * A prototype's similarity map in image pixels: bicubic upsampling of the latent grid to the explained image, and the
 * box around its highest values.
 *
 * <p>Grid and image are aligned by their areas: latent cell (i, j) of an h×w grid covers the image rectangle
 * [j·W/w, (j+1)·W/w) × [i·H/h, (i+1)·H/h) and its value sits at that rectangle's centre; image pixel (x, y) is read at
 * its own centre, i.e. at grid coordinate ((x + ½)·w/W − ½, (y + ½)·h/H − ½). Outside the grid the edge cells repeat.
 */
public final class SimilarityMaps {

  /** Percentile of the upsampled map above which pixels form the box (ProtoPNet's 95th percentile). */
  public static final double BOX_PERCENTILE = 95;

  private SimilarityMaps() {}

  /**
   * Keys' cubic convolution kernel with a = −0.5 (R. Keys, "Cubic convolution interpolation for digital image
   * processing", IEEE Trans. ASSP 29(6), 1981, eq. 15), the choice that reproduces quadratics exactly; ImageJ's bicubic
   * interpolation uses the same kernel.
   */
  static double keys(double s) {
    s = Math.abs(s);
    if (s <= 1) return (1.5 * s - 2.5) * s * s + 1;
    if (s < 2) return ((-0.5 * s + 2.5) * s - 4) * s + 2;
    return 0;
  }

  /**
   * Bicubic upsampling (or downsampling without smoothing) of a row-major h×w grid to W×H pixels.
   *
   * @return W·H values, row-major
   */
  public static float[] bicubic(float[] grid, int w, int h, int width, int height) {
    if (grid.length != w * h) {
      throw new IllegalArgumentException(grid.length + " values for a " + w + "x" + h + " grid");
    }
    int[][] colIdx = new int[width][];
    double[][] colWt = new double[width][];
    taps(w, width, colIdx, colWt);
    int[][] rowIdx = new int[height][];
    double[][] rowWt = new double[height][];
    taps(h, height, rowIdx, rowWt);
    // Separable: interpolate along x for every grid row, then along y.
    double[] rows = new double[h * width];
    for (int i = 0; i < h; i++) {
      for (int x = 0; x < width; x++) {
        double v = 0;
        for (int k = 0; k < 4; k++) v += colWt[x][k] * grid[i * w + colIdx[x][k]];
        rows[i * width + x] = v;
      }
    }
    float[] out = new float[width * height];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        double v = 0;
        for (int k = 0; k < 4; k++) v += rowWt[y][k] * rows[rowIdx[y][k] * width + x];
        out[y * width + x] = (float) v;
      }
    }
    return out;
  }

  /** The four grid indices (edge-clamped) and kernel weights for every output position along one axis. */
  private static void taps(int n, int size, int[][] idx, double[][] wt) {
    for (int x = 0; x < size; x++) {
      double s = (x + 0.5) * n / size - 0.5;
      int base = (int) Math.floor(s);
      double t = s - base;
      idx[x] = new int[4];
      wt[x] = new double[4];
      for (int k = 0; k < 4; k++) {
        idx[x][k] = Math.min(n - 1, Math.max(0, base - 1 + k));
        wt[x][k] = keys(t - (k - 1));
      }
    }
  }

  /** The q-th percentile (0–100) with linear interpolation between order statistics, as numpy.percentile's default. */
  public static double percentile(float[] values, double q) {
    float[] s = values.clone();
    Arrays.sort(s);
    double pos = q / 100 * (s.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (pos - lo) * ((double) s[hi] - s[lo]);
  }

  /**
   * The bounding box {x, y, w, h} of the pixels whose value is at or above the {@link #BOX_PERCENTILE}th percentile of
   * the map: the "high activation" box of ProtoPNet's local analysis (Chen et al., "This looks like that", NeurIPS
   * 2019). Never empty: the maximum is always at or above the percentile.
   */
  public static int[] highActivationBox(float[] map, int width, int height) {
    double threshold = percentile(map, BOX_PERCENTILE);
    int x0 = width, y0 = height, x1 = -1, y1 = -1;
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
    return new int[] {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
  }
}
