package org.diffxai.metrics;

import java.util.Arrays;

/**
 * How well an attribution map localises a ground-truth region (engine-free): the pointing game, relevance mass and
 * relevance rank accuracy, the map's ROC AUC as a detector of mask pixels, and box overlaps. Maps are H×W row-major
 * floats, masks row-major booleans of the same size. Formulas and choices: docs/ground-truth.md.
 *
 * <p>Sign: by default every metric reads the map's positive part max(map, 0) ({@link Sign#POSITIVE}): positive
 * relevance is evidence for the class, negative evidence against it, and the relevance-mass and -rank metrics of Arras
 * et al. count the former (Arras, Osman &amp; Samek, "CLEVR-XAI: A benchmark dataset for the ground truth evaluation
 * of neural network explanations", Information Fusion 81, 2022). {@link Sign#ABSOLUTE} reads |map| instead, for maps
 * whose sign carries no meaning; {@link Sign#RAW} reads the values as they are (only for pointing game, rank and AUC,
 * which depend on the order alone).
 *
 * <p>An empty mask (a healthy image) has no localisation: every value is NaN. Non-finite map values are rejected.
 */
public final class Localisation {

  /** Which part of the map counts as relevance. */
  public enum Sign {
    /** max(map, 0) (the default). */
    POSITIVE,
    /** |map|. */
    ABSOLUTE,
    /** The values as they are; relevance mass is then undefined when a value is negative. */
    RAW
  }

  /**
   * The pointing-game tolerance of Zhang et al., 15 pixels on their ~224-pixel images, scaled to an image whose shorter
   * side is {@code side} pixels: 15 · side / 224 (4.3 pixels at 64).
   */
  public static double scaledTolerance(int side) {
    return 15.0 * side / 224.0;
  }

  /** Every localisation value of one map against one mask. */
  public static final class Result {
    /** Pointing game hit in [0, 1] (a share when the maximum is tied), with {@link #tolerance}. */
    public final double pointingGame;
    /** Relevance mass accuracy: the share of the relevance inside the mask. */
    public final double relevanceMass;
    /** Relevance rank accuracy: the share of the K most relevant pixels inside the mask, K = mask pixels. */
    public final double relevanceRank;
    /** ROC AUC of the map as a detector of mask pixels (ties count one half). */
    public final double auc;
    /** Mask pixels / all pixels: the relevance mass and rank accuracy of a uniform (random) map. */
    public final double areaFraction;
    /** The pointing game of a uniform (random) map: the share of pixels within the tolerance of the mask. */
    public final double pointingGameRandom;
    /** Number of mask pixels. */
    public final int maskPixels;
    /** Pointing-game tolerance in pixels. */
    public final double tolerance;

    Result(double pointingGame, double relevanceMass, double relevanceRank, double auc, double areaFraction,
        double pointingGameRandom, int maskPixels, double tolerance) {
      this.pointingGame = pointingGame;
      this.relevanceMass = relevanceMass;
      this.relevanceRank = relevanceRank;
      this.auc = auc;
      this.areaFraction = areaFraction;
      this.pointingGameRandom = pointingGameRandom;
      this.maskPixels = maskPixels;
      this.tolerance = tolerance;
    }

    /** Relevance mass accuracy in units of the area fraction ("× area fraction"; 1 = no better than random). */
    public double relevanceMassRatio() {
      return relevanceMass / areaFraction;
    }

    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "pointing %.3f (random %.3f, tolerance %.1f px), mass %.3f (%.2f x "
          + "area %.4f), rank %.3f, AUC %.3f, %d mask pixels", pointingGame, pointingGameRandom, tolerance,
          relevanceMass, relevanceMassRatio(), areaFraction, relevanceRank, auc, maskPixels);
    }
  }

  private Localisation() {}

  /** All values with the positive part of the map and the scaled tolerance {@link #scaledTolerance}. */
  public static Result evaluate(float[] map, boolean[] mask, int width, int height) {
    return evaluate(map, mask, width, height, Sign.POSITIVE, scaledTolerance(Math.min(width, height)));
  }

  /** All values; see the class comment and the single metrics. */
  public static Result evaluate(float[] map, boolean[] mask, int width, int height, Sign sign, double tolerance) {
    double[] r = relevance(map, mask, width, height, sign);
    int k = count(mask);
    boolean[] near = dilate(mask, width, height, tolerance);
    double pg = k == 0 ? Double.NaN : pointingGame(r, near);
    double pgRandom = k == 0 ? Double.NaN : count(near) / (double) mask.length;
    double mass = sign == Sign.RAW ? Double.NaN : mass(r, mask);
    return new Result(pg, mass, rank(r, mask, k), auc(r, mask, k), k / (double) mask.length, pgRandom, k, tolerance);
  }

  /**
   * Pointing game (Zhang et al., "Top-down neural attention by excitation backprop", IJCV 126, 2018): a hit when the
   * map's maximum lies within {@code tolerance} pixels (Euclidean distance between pixel centres) of a mask pixel; the
   * paper uses 15 pixels. When several pixels share the maximum, the result is the share of them that hit: the
   * expected hit of picking one at random. NaN for an empty mask.
   */
  public static double pointingGame(float[] map, boolean[] mask, int width, int height, Sign sign, double tolerance) {
    double[] r = relevance(map, mask, width, height, sign);
    return count(mask) == 0 ? Double.NaN : pointingGame(r, dilate(mask, width, height, tolerance));
  }

  private static double pointingGame(double[] r, boolean[] near) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : r) max = Math.max(max, v);
    int tied = 0, hits = 0;
    for (int i = 0; i < r.length; i++) {
      if (r[i] == max) {
        tied++;
        if (near[i]) hits++;
      }
    }
    return hits / (double) tied;
  }

  /**
   * Relevance mass accuracy (Arras et al. 2022): R_within / R_total, the sum of the relevance inside the mask over its
   * sum over the image. NaN for an empty mask or a map without relevance (all zero after the sign rule).
   */
  public static double relevanceMass(float[] map, boolean[] mask, int width, int height, Sign sign) {
    if (sign == Sign.RAW) throw new IllegalArgumentException("relevance mass needs Sign.POSITIVE or Sign.ABSOLUTE");
    return mass(relevance(map, mask, width, height, sign), mask);
  }

  private static double mass(double[] r, boolean[] mask) {
    double in = 0, all = 0;
    for (int i = 0; i < r.length; i++) {
      all += r[i];
      if (mask[i]) in += r[i];
    }
    return count(mask) == 0 || !(all > 0) ? Double.NaN : in / all;
  }

  /**
   * Relevance rank accuracy (Arras et al. 2022): with K the number of mask pixels, the share of the K highest-relevance
   * pixels that lie inside the mask. Pixels tied at the K-th value share the remaining places: each counts with the
   * fraction of the tie group that fits, so the value does not depend on the order of ties. NaN for an empty mask.
   */
  public static double relevanceRank(float[] map, boolean[] mask, int width, int height, Sign sign) {
    return rank(relevance(map, mask, width, height, sign), mask, count(mask));
  }

  private static double rank(double[] r, boolean[] mask, int k) {
    if (k == 0) return Double.NaN;
    double[] sorted = r.clone();
    Arrays.sort(sorted);
    double kth = sorted[sorted.length - k];
    int above = 0, aboveIn = 0, tied = 0, tiedIn = 0;
    for (int i = 0; i < r.length; i++) {
      if (r[i] > kth) {
        above++;
        if (mask[i]) aboveIn++;
      } else if (r[i] == kth) {
        tied++;
        if (mask[i]) tiedIn++;
      }
    }
    return (aboveIn + (k - above) * (double) tiedIn / tied) / k;
  }

  /**
   * ROC AUC of the map's values as scores for "pixel is in the mask": the Mann–Whitney statistic U / (n₁ n₀) with
   * average ranks for ties (a tie counts one half), exact, in O(N log N). 0.5 for a constant map; NaN when the mask is
   * empty or covers the whole image.
   */
  public static double auc(float[] map, boolean[] mask, int width, int height, Sign sign) {
    return auc(relevance(map, mask, width, height, sign), mask, count(mask));
  }

  private static double auc(double[] r, boolean[] mask, int n1) {
    int n = r.length, n0 = n - n1;
    if (n1 == 0 || n0 == 0) return Double.NaN;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = i;
    Arrays.sort(order, (a, b) -> Double.compare(r[a], r[b]));
    double rankSum = 0; // sum of the (1-based, tie-averaged) ranks of the mask pixels
    for (int i = 0; i < n; ) {
      int j = i;
      while (j + 1 < n && r[order[j + 1]] == r[order[i]]) j++;
      double avg = (i + j) / 2.0 + 1;
      for (int t = i; t <= j; t++) {
        if (mask[order[t]]) rankSum += avg;
      }
      i = j + 1;
    }
    return (rankSum - n1 * (n1 + 1) / 2.0) / ((double) n1 * n0);
  }

  /** IoU of a box {x, y, w, h} (its pixels, clipped to the image) with the mask's pixels; NaN if both are empty. */
  public static double boxMaskIoU(int[] box, boolean[] mask, int width, int height) {
    int[] c = boxCounts(box, mask, width, height);
    int union = c[0] + count(mask) - c[1];
    return union == 0 ? Double.NaN : c[1] / (double) union;
  }

  /** {pixels of the box inside the image, of those inside the mask}. */
  private static int[] boxCounts(int[] box, boolean[] mask, int width, int height) {
    int x0 = Math.max(0, box[0]), y0 = Math.max(0, box[1]);
    int x1 = Math.min(width, box[0] + box[2]), y1 = Math.min(height, box[1] + box[3]);
    int inBox = 0, inMask = 0;
    for (int y = y0; y < y1; y++) {
      for (int x = x0; x < x1; x++) {
        inBox++;
        if (mask[y * width + x]) inMask++;
      }
    }
    return new int[] {inBox, inMask};
  }

  /** IoU of two masks of the same size (e.g. an estimated foreground and a given one); NaN if both are empty. */
  public static double maskIoU(boolean[] a, boolean[] b) {
    if (a.length != b.length) throw new IllegalArgumentException("masks of " + a.length + " and " + b.length + " pixels");
    int inter = 0, union = 0;
    for (int k = 0; k < a.length; k++) {
      inter += a[k] && b[k] ? 1 : 0;
      union += a[k] || b[k] ? 1 : 0;
    }
    return union == 0 ? Double.NaN : inter / (double) union;
  }

  /** IoU of two boxes {x, y, w, h}; NaN if both are empty. */
  public static double boxIoU(int[] a, int[] b) {
    long iw = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
    long ih = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
    long inter = iw * ih;
    long union = (long) a[2] * a[3] + (long) b[2] * b[3] - inter;
    return union == 0 ? Double.NaN : inter / (double) union;
  }

  /** The smallest box {x, y, w, h} holding every mask pixel, or null for an empty mask. */
  public static int[] boundingBox(boolean[] mask, int width, int height) {
    int x0 = width, y0 = height, x1 = -1, y1 = -1;
    for (int i = 0; i < mask.length; i++) {
      if (mask[i]) {
        int x = i % width, y = i / width;
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
    return x1 < 0 ? null : new int[] {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
  }

  /**
   * The share of the map's positive mass outside the mask (the evidence outside the anatomy when the mask is a
   * foreground mask): 1 − relevance mass accuracy with {@link Sign#POSITIVE}; NaN for a map without positive values.
   */
  public static double positiveMassOutside(float[] map, boolean[] mask, int width, int height) {
    double[] r = relevance(map, mask, width, height, Sign.POSITIVE);
    double out = 0, all = 0;
    for (int i = 0; i < r.length; i++) {
      all += r[i];
      if (!mask[i]) out += r[i];
    }
    return all > 0 ? out / all : Double.NaN;
  }

  /** Whether a box {x, y, w, h} touches the border of a width×height image (its first or last row or column). */
  public static boolean touchesBorder(int[] box, int width, int height) {
    return box[0] <= 0 || box[1] <= 0 || box[0] + box[2] >= width || box[1] + box[3] >= height;
  }

  /** The share of a box's pixels (clipped to the image) outside the mask; 1 for a box outside the image. */
  public static double boxOutsideFraction(int[] box, boolean[] mask, int width, int height) {
    int[] c = boxCounts(box, mask, width, height);
    return c[0] == 0 ? 1 : (c[0] - c[1]) / (double) c[0];
  }

  /** The map after the sign rule, in double; checks sizes and finiteness. */
  private static double[] relevance(float[] map, boolean[] mask, int width, int height, Sign sign) {
    if (width < 1 || height < 1 || map.length != width * height || mask.length != map.length) {
      throw new IllegalArgumentException("map (" + map.length + ") and mask (" + mask.length + ") must both have "
          + width + "x" + height + " values");
    }
    double[] r = new double[map.length];
    for (int i = 0; i < r.length; i++) {
      float v = map[i];
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException("map value " + v + " at x=" + i % width + ", y=" + i / width);
      }
      r[i] = sign == Sign.POSITIVE ? Math.max(v, 0) : sign == Sign.ABSOLUTE ? Math.abs(v) : v;
    }
    return r;
  }

  /** The pixels within {@code tolerance} (Euclidean, pixel centres) of a mask pixel. */
  static boolean[] dilate(boolean[] mask, int width, int height, double tolerance) {
    if (!(tolerance >= 0)) throw new IllegalArgumentException("tolerance must be >= 0: " + tolerance);
    if (tolerance < 1) return mask.clone();
    int t = (int) Math.floor(tolerance);
    double t2 = tolerance * tolerance;
    boolean[] out = new boolean[mask.length];
    for (int i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      int cx = i % width, cy = i / width;
      for (int y = Math.max(0, cy - t); y <= Math.min(height - 1, cy + t); y++) {
        for (int x = Math.max(0, cx - t); x <= Math.min(width - 1, cx + t); x++) {
          if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= t2) out[y * width + x] = true;
        }
      }
    }
    return out;
  }

  private static int count(boolean[] m) {
    int n = 0;
    for (boolean b : m) n += b ? 1 : 0;
    return n;
  }
}
