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
 *       the nearest patch, minimised over the classes — large when the image lacks the parts of every class.
 * </ul>
 *
 * An image is {@code ood} when either statistic exceeds its threshold (each the largest value over the validation
 * images, {@link Calibration#oodThreshold}). Both come from the bundle; {@link #NONE} (T = 1, no thresholds) stands for
 * bundles without them. Immutable and engine-free.
 */
public final class Confidence {
  /** Temperature 1 and no OOD thresholds: the outputs as the network gives them, never flagged. */
  public static final Confidence NONE = new Confidence(1, Double.NaN, Double.NaN, null);

  private final double temperature;
  private final double nearestThreshold;
  private final double coverageThreshold;
  private final int[][] classPrototypes;

  /**
   * @param temperature T &gt; 0 (1 leaves the probabilities as they are)
   * @param nearestThreshold threshold of the nearest-part statistic, or NaN for none
   * @param coverageThreshold threshold of the class-coverage statistic, or NaN for none
   * @param classPrototypes per class, the prototypes whose parts make up the class ({@link #classPrototypes(int[],
   *     float[][])}); may be null when there is no coverage threshold
   */
  public Confidence(double temperature, double nearestThreshold, double coverageThreshold, int[][] classPrototypes) {
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
  }

  public double temperature() {
    return temperature;
  }

  /** True when the bundle stores at least one OOD threshold (prototype networks trained with a validation split). */
  public boolean hasOodThreshold() {
    return !Double.isNaN(nearestThreshold) || !Double.isNaN(coverageThreshold);
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
   * True when a statistic exceeds its threshold (a NaN statistic under a threshold counts as out of distribution);
   * always false without thresholds.
   */
  public boolean isOod(float[] minDistances) {
    if (!Double.isNaN(nearestThreshold) && !(nearestPart(minDistances) <= nearestThreshold)) return true;
    return !Double.isNaN(coverageThreshold) && !(classCoverage(minDistances) <= coverageThreshold);
  }

  /** {@link #isOod} of n images. */
  public boolean[] ood(float[][] minDistances) {
    boolean[] f = new boolean[minDistances.length];
    for (int i = 0; i < f.length; i++) f[i] = isOod(minDistances[i]);
    return f;
  }

  private static int[][] copy(int[][] a) {
    int[][] c = new int[a.length][];
    for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
    return c;
  }

  @Override
  public String toString() {
    return "Confidence[T=" + temperature + (hasOodThreshold() ? ", ood when nearest part > " + nearestThreshold
        + " or class coverage > " + coverageThreshold : ", no ood thresholds") + "]";
  }
}
