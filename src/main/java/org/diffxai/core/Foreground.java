package org.diffxai.core;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The anatomy (foreground) of an MR slice estimated from the image alone (engine-free), for real scans that come
 * without masks: where attribution mass or prototype boxes outside the anatomy are evidence of a shortcut.
 *
 * <ol>
 *   <li>Gaussian smoothing with σ = 0.35·S/64 pixels (S the shorter side; 0.35 at 64×64, 1.4 at 256×256), which
 *       narrows the spread of the Rician background (Gudbjartsson &amp; Patz 1995) without moving the head's edge;
 *   <li>Otsu's threshold on the smoothed image (Otsu, "A threshold selection method from gray-level histograms", IEEE
 *       Trans. SMC 9, 1979; 256 bins between its minimum and maximum), the classic split of background and head;
 *   <li>a one-step gain correction, as a coil's bias field can leave one side of the head below a global threshold:
 *       the head found so far (largest component, holes filled) gives a smooth gain field by normalised convolution
 *       (Knutsson &amp; Westin, CVPR 1993) of the image inside it with a Gaussian of σ = S/16, which extrapolates it
 *       smoothly outside; the image divided by that field is thresholded with Otsu again (the idea of bias-field
 *       correction before segmentation, e.g. N4, Tustison et al., IEEE TMI 29, 2010, in its simplest form);
 *   <li>a morphological closing with a disc of radius r = max(1, round(S/64)) pixels, which bridges small gaps in the
 *       bright outer ring (scalp) so the next steps see a closed head;
 *   <li>the largest 8-connected component (drops noise specks, burned-in text and marks apart from the head);
 *   <li>hole filling: every pixel not reachable from the image border through background (4-connected) is
 *       foreground — the dark skull, CSF and ventricles inside the head belong to the anatomy.
 * </ol>
 *
 * An image without contrast (all pixels equal) gets an all-true mask: nothing in it can be called outside.
 */
public final class Foreground {
  private Foreground() {}

  /** The foreground mask of a width×height row-major image (true = anatomy). */
  public static boolean[] estimate(float[] image, int width, int height) {
    if (width < 1 || height < 1 || image.length != width * height) {
      throw new IllegalArgumentException(image.length + " values for " + width + "x" + height);
    }
    int side = Math.min(width, height);
    float[] s = smooth(image, width, height, 0.35 * side / 64.0);
    float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
    for (float v : s) {
      if (!Float.isFinite(v)) throw new IllegalArgumentException("non-finite value " + v + " in the image");
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    boolean[] fg = new boolean[s.length];
    if (!(max > min)) {
      Arrays.fill(fg, true);
      return fg;
    }
    threshold(s, min, max, fg);
    float[] corrected = gainCorrected(s, min, fillHoles(largestComponent(fg, width, height), width, height), width,
        height, side / 16.0);
    threshold(corrected, Float.NaN, Float.NaN, fg);
    int r = Math.max(1, Math.round(side / 64f));
    fg = erode(dilate(fg, width, height, r), width, height, r);
    fg = largestComponent(fg, width, height);
    return fillHoles(fg, width, height);
  }

  /** fg = v above Otsu's threshold of v (min and max of v computed when NaN). */
  private static void threshold(float[] v, float min, float max, boolean[] fg) {
    if (Float.isNaN(min)) {
      min = Float.POSITIVE_INFINITY;
      max = Float.NEGATIVE_INFINITY;
      for (float x : v) {
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
    }
    double t = max > min ? otsu(v, min, max) : max;
    for (int i = 0; i < v.length; i++) fg[i] = v[i] > t;
  }

  /**
   * (s − min) divided by its smooth average over the head: normalised convolution G*((s − min)·head) / G*(head) with a
   * Gaussian G of the given σ (1 where the head's weight vanishes).
   */
  private static float[] gainCorrected(float[] s, float min, boolean[] head, int w, int h, double sigma) {
    float[] num = new float[s.length], den = new float[s.length];
    for (int i = 0; i < s.length; i++) {
      num[i] = head[i] ? s[i] - min : 0;
      den[i] = head[i] ? 1 : 0;
    }
    float[] gn = smooth(num, w, h, sigma), gd = smooth(den, w, h, sigma);
    float[] out = new float[s.length];
    for (int i = 0; i < s.length; i++) {
      double gain = gd[i] > 1e-6 && gn[i] > 0 ? gn[i] / gd[i] : 1;
      out[i] = (float) ((s[i] - min) / gain);
    }
    return out;
  }

  /** Otsu's threshold: the bin edge that maximises the between-class variance of a 256-bin histogram. */
  static double otsu(float[] v, float min, float max) {
    int bins = 256;
    long[] hist = new long[bins];
    double scale = bins / ((double) max - min);
    for (float x : v) hist[Math.min(bins - 1, (int) ((x - min) * scale))]++;
    double total = v.length, sumAll = 0;
    for (int b = 0; b < bins; b++) sumAll += b * (double) hist[b];
    double w0 = 0, sum0 = 0, best = -1;
    int bestBin = 0;
    for (int b = 0; b < bins - 1; b++) {
      w0 += hist[b];
      sum0 += b * (double) hist[b];
      double w1 = total - w0;
      if (w0 == 0 || w1 == 0) continue;
      double m0 = sum0 / w0, m1 = (sumAll - sum0) / w1;
      double between = w0 * w1 * (m0 - m1) * (m0 - m1);
      if (between > best) {
        best = between;
        bestBin = b;
      }
    }
    return min + (bestBin + 1) / scale; // values in bins 0..bestBin are background
  }

  /** Separable Gaussian blur, edges repeated. */
  static float[] smooth(float[] img, int w, int h, double sigma) {
    int rad = (int) Math.ceil(3 * sigma);
    double[] k = new double[2 * rad + 1];
    double sum = 0;
    for (int i = -rad; i <= rad; i++) sum += k[i + rad] = Math.exp(-i * i / (2 * sigma * sigma));
    for (int i = 0; i < k.length; i++) k[i] /= sum;
    float[] tmp = new float[img.length], out = new float[img.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double a = 0;
        for (int i = -rad; i <= rad; i++) a += k[i + rad] * img[y * w + Math.min(w - 1, Math.max(0, x + i))];
        tmp[y * w + x] = (float) a;
      }
    }
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double a = 0;
        for (int i = -rad; i <= rad; i++) a += k[i + rad] * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x];
        out[y * w + x] = (float) a;
      }
    }
    return out;
  }

  static boolean[] dilate(boolean[] m, int w, int h, int r) {
    return disc(m, w, h, r, true);
  }

  static boolean[] erode(boolean[] m, int w, int h, int r) {
    return disc(m, w, h, r, false);
  }

  /**
   * Dilation (any neighbour in the disc of radius r is set) or erosion (every neighbour is set; outside the image
   * counts as set, so erosion does not eat the border and closing leaves border objects as they were).
   */
  private static boolean[] disc(boolean[] m, int w, int h, int r, boolean dilate) {
    boolean[] out = new boolean[m.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        boolean v = !dilate;
        for (int dy = -r; dy <= r && v != dilate; dy++) {
          for (int dx = -r; dx <= r; dx++) {
            if (dx * dx + dy * dy > r * r) continue;
            int xx = x + dx, yy = y + dy;
            boolean n = xx < 0 || yy < 0 || xx >= w || yy >= h ? !dilate : m[yy * w + xx];
            if (n == dilate) {
              v = dilate;
              break;
            }
          }
        }
        out[y * w + x] = v;
      }
    }
    return out;
  }

  /** The largest 8-connected component of the true pixels (the first found among equals). */
  static boolean[] largestComponent(boolean[] m, int w, int h) {
    int[] label = new int[m.length];
    int best = 0, bestSize = 0, next = 0;
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    for (int start = 0; start < m.length; start++) {
      if (!m[start] || label[start] != 0) continue;
      int id = ++next, size = 0;
      label[start] = id;
      queue.add(start);
      while (!queue.isEmpty()) {
        int p = queue.poll();
        size++;
        int px = p % w, py = p / w;
        for (int dy = -1; dy <= 1; dy++) {
          for (int dx = -1; dx <= 1; dx++) {
            int xx = px + dx, yy = py + dy;
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
            int q = yy * w + xx;
            if (m[q] && label[q] == 0) {
              label[q] = id;
              queue.add(q);
            }
          }
        }
      }
      if (size > bestSize) {
        bestSize = size;
        best = id;
      }
    }
    boolean[] out = new boolean[m.length];
    for (int i = 0; i < m.length; i++) out[i] = best != 0 && label[i] == best;
    return out;
  }

  /** Sets every false pixel that is not 4-connected to the image border through false pixels. */
  static boolean[] fillHoles(boolean[] m, int w, int h) {
    boolean[] outside = new boolean[m.length];
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    for (int x = 0; x < w; x++) {
      seed(m, outside, queue, x);
      seed(m, outside, queue, (h - 1) * w + x);
    }
    for (int y = 0; y < h; y++) {
      seed(m, outside, queue, y * w);
      seed(m, outside, queue, y * w + w - 1);
    }
    while (!queue.isEmpty()) {
      int p = queue.poll();
      int px = p % w, py = p / w;
      if (px > 0) seed(m, outside, queue, p - 1);
      if (px < w - 1) seed(m, outside, queue, p + 1);
      if (py > 0) seed(m, outside, queue, p - w);
      if (py < h - 1) seed(m, outside, queue, p + w);
    }
    boolean[] out = new boolean[m.length];
    for (int i = 0; i < m.length; i++) out[i] = !outside[i];
    return out;
  }

  private static void seed(boolean[] m, boolean[] outside, ArrayDeque<Integer> queue, int p) {
    if (!m[p] && !outside[p]) {
      outside[p] = true;
      queue.add(p);
    }
  }
}
