package org.diffxai.core;

import java.util.ArrayList;
import java.util.List;

/**
 * How far a classifier's outputs can be trusted (docs/confidence.md): its calibration temperature T, applied to every
 * probability ({@code softmax(logits / T)}, Guo et al. 2017, "On Calibration of Modern Neural Networks", ICML), and for
 * prototype networks the thresholds of two out-of-distribution statistics computed from the per-prototype minimum
 * distances of an image:
 *
 * <ul>
 *   <li>{@linkplain #nearestPart nearest part}: the smallest distance between any latent patch of the image and any
 *       prototype — large when nothing in the image resembles any prototype;
 *   <li>{@linkplain #classCoverage class coverage}: for each class, the mean over its prototypes of their distance to
 *       the nearest patch, minimised over the classes — large when the image lacks the parts of every class;
 *   <li>{@linkplain #outOfRange out of range}: the share of the image's pixels whose model-space value lies outside the
 *       input clip range (the training images' 0.5–99.5 % intensity span) — large when the intensities are unlike any
 *       the network was trained on, whatever the latent patches look like.
 * </ul>
 *
 * An image is {@code ood} when a statistic exceeds its threshold (each the largest value over the validation images,
 * {@link Calibration#oodThreshold}). All come from the bundle; {@link #NONE} (T = 1, no thresholds) stands for bundles
 * without them. Immutable and engine-free.
 */
public final class Confidence {
  /** Temperature 1 and no OOD thresholds: the outputs as the network gives them, never flagged. */
  public static final Confidence NONE = new Confidence(1, Double.NaN, Double.NaN, null);

  private final double temperature;
  private final double nearestThreshold;
  private final double coverageThreshold;
  private final int[][] classPrototypes;
  private final double rangeThreshold;
  private final IntensityMapping mapping;
  private final float[] clip;

  /**
   * @param temperature T &gt; 0 (1 leaves the probabilities as they are)
   * @param nearestThreshold threshold of the nearest-part statistic, or NaN for none
   * @param coverageThreshold threshold of the class-coverage statistic, or NaN for none
   * @param classPrototypes per class, the prototypes whose parts make up the class ({@link #classPrototypes(int[],
   *     float[][])}); may be null when there is no coverage threshold
   */
  public Confidence(double temperature, double nearestThreshold, double coverageThreshold, int[][] classPrototypes) {
    this(temperature, nearestThreshold, coverageThreshold, classPrototypes, Double.NaN, null, null);
  }

  private Confidence(double temperature, double nearestThreshold, double coverageThreshold, int[][] classPrototypes,
      double rangeThreshold, IntensityMapping mapping, float[] clip) {
    if (!(temperature > 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be positive and finite, got " + temperature);
    }
    for (double t : new double[] {nearestThreshold, coverageThreshold}) {
      if (Double.isInfinite(t) || t < 0) {
        throw new IllegalArgumentException("OOD thresholds must be NaN (none) or finite and >= 0, got " + t);
      }
    }
    if (!Double.isNaN(coverageThreshold) && classPrototypes == null) {
      throw new IllegalArgumentException("a coverage threshold needs the prototypes of each class");
    }
    this.temperature = temperature;
    this.nearestThreshold = nearestThreshold;
    this.coverageThreshold = coverageThreshold;
    this.classPrototypes = classPrototypes == null ? null : copy(classPrototypes);
    if (!Double.isNaN(rangeThreshold) && !(rangeThreshold >= 0 && rangeThreshold <= 1)) {
      throw new IllegalArgumentException("the out-of-range threshold is a share in [0, 1], got " + rangeThreshold);
    }
    this.rangeThreshold = rangeThreshold;
    this.mapping = mapping;
    this.clip = clip == null ? null : clip.clone();
  }

  /**
   * This confidence with an out-of-range threshold: images are mapped to model space by {@code mapping} and a pixel
   * is out of range outside [clip[0], clip[1]].
   *
   * @param threshold the largest share of out-of-range pixels allowed, or NaN for none
   */
  public Confidence withRange(double threshold, IntensityMapping mapping, float[] clip) {
    return new Confidence(temperature, nearestThreshold, coverageThreshold, classPrototypes, threshold, mapping, clip);
  }

  public double temperature() {
    return temperature;
  }

  /** True when the bundle stores at least one OOD threshold (prototype networks trained with a validation split). */
  public boolean hasOodThreshold() {
    return !Double.isNaN(nearestThreshold) || !Double.isNaN(coverageThreshold) || !Double.isNaN(rangeThreshold);
  }

  /** The out-of-range threshold, or NaN when there is none. */
  public double rangeThreshold() {
    return rangeThreshold;
  }

  /** The nearest-part threshold, or NaN when there is none. */
  public double nearestThreshold() {
    return nearestThreshold;
  }

  /** The class-coverage threshold, or NaN when there is none. */
  public double coverageThreshold() {
    return coverageThreshold;
  }

  /** Calibrated class probabilities softmax(logits / T), in double. */
  public double[] probabilities(float[] logits) {
    return softmax(logits, temperature);
  }

  /** Calibrated probabilities of n images [n][K]. */
  public double[][] probabilities(float[][] logits) {
    double[][] p = new double[logits.length][];
    for (int i = 0; i < p.length; i++) p[i] = probabilities(logits[i]);
    return p;
  }

  /** softmax(logits / t), computed stably (the largest logit subtracted first). */
  public static double[] softmax(float[] logits, double t) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) max = Math.max(max, l);
    double[] e = new double[logits.length];
    double sum = 0;
    for (int k = 0; k < e.length; k++) sum += e[k] = Math.exp((logits[k] - max) / t);
    for (int k = 0; k < e.length; k++) e[k] /= sum;
    return e;
  }

  /**
   * The nearest-part statistic: the smallest of the image's per-prototype minimum distances, i.e. the distance of the
   * closest pair (latent patch of the image, prototype).
   *
   * @param minDistances the image's per-prototype minimum distances ({@link PrototypeActivations#minDistances})
   */
  public static double nearestPart(float[] minDistances) {
    double m = Double.POSITIVE_INFINITY;
    for (float d : minDistances) m = Math.min(m, d);
    return m;
  }

  /**
   * The class-coverage statistic: min over classes k of the mean over k's prototypes of their minimum distance; NaN
   * when no class has a prototype.
   */
  public static double classCoverage(float[] minDistances, int[][] classPrototypes) {
    double best = Double.NaN;
    for (int[] ps : classPrototypes) {
      if (ps.length == 0) continue;
      double s = 0;
      for (int p : ps) s += minDistances[p];
      s /= ps.length;
      if (Double.isNaN(best) || s < best) best = s;
    }
    return best;
  }

  /** This network's class coverage of an image (NaN without the prototypes of each class). */
  public double classCoverage(float[] minDistances) {
    return classPrototypes == null ? Double.NaN : classCoverage(minDistances, classPrototypes);
  }

  /**
   * The prototypes of each class: those whose {@code classOf} is the class and that have a non-zero weight to some
   * class in the last layer [K][P] (a ProtoPool pool prototype no slot chose belongs to none).
   */
  public static int[][] classPrototypes(int[] classOf, float[][] lastLayer) {
    int[][] out = new int[lastLayer.length][];
    for (int k = 0; k < out.length; k++) {
      List<Integer> ps = new ArrayList<>();
      for (int p = 0; p < classOf.length; p++) {
        boolean used = false;
        for (float[] row : lastLayer) used |= row[p] != 0;
        if (classOf[p] == k && used) ps.add(p);
      }
      out[k] = ps.stream().mapToInt(Integer::intValue).toArray();
    }
    return out;
  }

  /**
   * The share of pixels x[from, from + length) (image intensity) whose model-space value (x − offset) / scale lies
   * outside [lo, hi].
   */
  public static double outOfRange(float[] x, int from, int length, IntensityMapping mapping, float lo, float hi) {
    int out = 0;
    for (int j = from; j < from + length; j++) {
      double v = (x[j] - mapping.offset) / mapping.scale;
      if (!(v >= lo && v <= hi)) out++;
    }
    return out / (double) length;
  }

  /** This network's out-of-range share of one image (NaN without an input clip range). */
  public double outOfRange(float[] x, int from, int length) {
    return clip == null ? Double.NaN : outOfRange(x, from, length, mapping, clip[0], clip[1]);
  }

  /**
   * True when a statistic exceeds its threshold (a NaN statistic under a threshold counts as out of distribution);
   * always false without thresholds.
   *
   * @param outOfRange the image's {@link #outOfRange} share (NaN when unknown: not tested)
   */
  public boolean isOod(float[] minDistances, double outOfRange) {
    if (!Double.isNaN(nearestThreshold) && !(nearestPart(minDistances) <= nearestThreshold)) return true;
    if (!Double.isNaN(coverageThreshold) && !(classCoverage(minDistances) <= coverageThreshold)) return true;
    return !Double.isNaN(rangeThreshold) && !Double.isNaN(outOfRange) && outOfRange > rangeThreshold;
  }

  private static int[][] copy(int[][] a) {
    int[][] c = new int[a.length][];
    for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
    return c;
  }

  @Override
  public String toString() {
    return "Confidence[T=" + temperature + (hasOodThreshold() ? ", ood when nearest part > " + nearestThreshold
        + " or class coverage > " + coverageThreshold + " or out of range > " + rangeThreshold
        : ", no ood thresholds") + "]";
  }
}
