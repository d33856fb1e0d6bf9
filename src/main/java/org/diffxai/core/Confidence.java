package org.diffxai.core;

/**
 * How far a classifier's outputs can be trusted (docs/confidence.md): its calibration temperature T, applied to every
 * probability ({@code softmax(logits / T)}, Guo et al. 2017, "On Calibration of Modern Neural Networks", ICML), and for
 * prototype networks an out-of-distribution threshold on the {@linkplain #oodStatistic distance statistic}: an image
 * whose every latent patch is farther from every prototype than any validation image's is flagged {@code ood}.
 *
 * <p>Both come from the bundle (written by the trainer from its validation split); {@link #NONE} (T = 1, no
 * threshold) stands for bundles without them. Immutable and engine-free.
 */
public final class Confidence {
  /** Temperature 1 and no OOD threshold: the outputs as the network gives them, never flagged. */
  public static final Confidence NONE = new Confidence(1, Double.NaN);

  private final double temperature;
  private final double oodThreshold;

  /**
   * @param temperature T &gt; 0 (1 leaves the probabilities as they are)
   * @param oodThreshold threshold of the OOD statistic, or NaN for none
   */
  public Confidence(double temperature, double oodThreshold) {
    if (!(temperature > 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be positive and finite, got " + temperature);
    }
    if (Double.isInfinite(oodThreshold) || oodThreshold < 0) {
      throw new IllegalArgumentException("OOD threshold must be NaN (none) or finite and >= 0, got " + oodThreshold);
    }
    this.temperature = temperature;
    this.oodThreshold = oodThreshold;
  }

  public double temperature() {
    return temperature;
  }

  /** True when the bundle stores an OOD threshold (prototype networks trained with a validation split). */
  public boolean hasOodThreshold() {
    return !Double.isNaN(oodThreshold);
  }

  /** The OOD threshold, or NaN when there is none. */
  public double oodThreshold() {
    return oodThreshold;
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
   * The OOD statistic of one image: the smallest of its prototypes' minimum distances, i.e. the distance between the
   * closest pair (latent patch of the image, prototype). Large when every patch is far from every prototype.
   *
   * @param minDistances the image's per-prototype minimum distances ({@link PrototypeActivations#minDistances})
   */
  public static double oodStatistic(float[] minDistances) {
    double m = Double.POSITIVE_INFINITY;
    for (float d : minDistances) m = Math.min(m, d);
    return m;
  }

  /**
   * True when the image's statistic exceeds the threshold (a NaN statistic counts as out of distribution); always
   * false without a threshold.
   */
  public boolean isOod(float[] minDistances) {
    if (!hasOodThreshold()) return false;
    double s = oodStatistic(minDistances);
    return !(s <= oodThreshold);
  }

  /** {@link #isOod} of n images. */
  public boolean[] ood(float[][] minDistances) {
    boolean[] f = new boolean[minDistances.length];
    for (int i = 0; i < f.length; i++) f[i] = isOod(minDistances[i]);
    return f;
  }

  @Override
  public String toString() {
    return "Confidence[T=" + temperature + (hasOodThreshold() ? ", ood > " + oodThreshold : ", no ood threshold") + "]";
  }
}
