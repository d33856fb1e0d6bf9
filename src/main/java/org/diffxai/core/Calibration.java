package org.diffxai.core;

/**
 * Fits a classifier's {@link Confidence} on held-out data (docs/confidence.md), engine-free.
 *
 * <ul>
 *   <li><b>Temperature scaling</b> (Guo et al. 2017, "On Calibration of Modern Neural Networks", §4.2): the T that
 *       minimises the mean negative log-likelihood −(1/n) Σ log softmax(z_i / T)[y_i] of the validation split. With
 *       β = 1/T the NLL is −β z_y + log Σ exp(β z), a convex function of β, so a golden-section search over log β
 *       (unimodal there too) finds its minimum; T is searched in [{@value #MIN_T}, {@value #MAX_T}].
 *   <li><b>Expected calibration error</b> (Guo et al. 2017, Eq. 3; Naeini et al. 2015): confidences max_k p_k in
 *       {@value #ECE_BINS} equal-width bins [b/15, (b+1)/15) (the last bin includes 1);
 *       ECE = Σ_b (n_b / n)·|accuracy_b − mean confidence_b|.
 *   <li><b>OOD thresholds</b>: for each OOD statistic of {@link Confidence}, its largest value over the validation
 *       images. For a new image exchangeable with the n validation images, P(its statistic &gt; the maximum of
 *       theirs) ≤ 1/(n + 1) (the rank argument of conformal prediction, Vovk et al. 2005; Angelopoulos &amp; Bates
 *       2021, §1), so flagging when either of the two statistics exceeds its threshold raises a false alarm with
 *       probability at most 2/(n + 1): 0.5 % with 400 validation images, whatever the distribution.
 * </ul>
 */
public final class Calibration {
  /** Bins of the expected calibration error. */
  public static final int ECE_BINS = 15;
  /** Search range of the temperature. */
  public static final double MIN_T = 0.05;
  public static final double MAX_T = 20;

  private Calibration() {}

  /** Mean negative log-likelihood of the labels under softmax(logits / t). */
  public static double nll(float[][] logits, int[] labels, double t) {
    check(logits, labels);
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      float[] z = logits[i];
      double max = Double.NEGATIVE_INFINITY;
      for (float v : z) max = Math.max(max, v / t);
      double s = 0;
      for (float v : z) s += Math.exp(v / t - max);
      sum += max + Math.log(s) - z[labels[i]] / t;
    }
    return sum / logits.length;
  }

  /**
   * The temperature minimising {@link #nll} (golden-section search over log(1/T) to a relative precision of 1e-6,
   * within [{@value #MIN_T}, {@value #MAX_T}]).
   */
  public static double fitTemperature(float[][] logits, int[] labels) {
    check(logits, labels);
    double lo = Math.log(1 / MAX_T);
    double hi = Math.log(1 / MIN_T);
    final double g = (Math.sqrt(5) - 1) / 2;
    double a = hi - g * (hi - lo);
    double b = lo + g * (hi - lo);
    double fa = nll(logits, labels, Math.exp(-a));
    double fb = nll(logits, labels, Math.exp(-b));
    while (hi - lo > 1e-6) {
      if (fa <= fb) {
        hi = b;
        b = a;
        fb = fa;
        a = hi - g * (hi - lo);
        fa = nll(logits, labels, Math.exp(-a));
      } else {
        lo = a;
        a = b;
        fa = fb;
        b = lo + g * (hi - lo);
        fb = nll(logits, labels, Math.exp(-b));
      }
    }
    return Math.exp(-(lo + hi) / 2);
  }

  /** Expected calibration error of softmax(logits / t) with {@value #ECE_BINS} equal-width confidence bins. */
  public static double ece(float[][] logits, int[] labels, double t) {
    check(logits, labels);
    int bins = ECE_BINS;
    int[] count = new int[bins];
    double[] conf = new double[bins];
    double[] correct = new double[bins];
    for (int i = 0; i < logits.length; i++) {
      double[] p = Confidence.softmax(logits[i], t);
      int best = 0;
      for (int k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
      int b = Math.min(bins - 1, (int) Math.floor(p[best] * bins));
      count[b]++;
      conf[b] += p[best];
      if (best == labels[i]) correct[b]++;
    }
    double e = 0;
    for (int b = 0; b < bins; b++) {
      if (count[b] > 0) e += Math.abs(correct[b] - conf[b]) / logits.length;
    }
    return e;
  }

  /** The OOD threshold of a validation split: the largest of its images' statistics (see the class comment). */
  public static double oodThreshold(double[] validationStatistics) {
    if (validationStatistics.length == 0) throw new IllegalArgumentException("no validation statistics");
    double m = Double.NEGATIVE_INFINITY;
    for (double s : validationStatistics) {
      if (!Double.isFinite(s)) throw new IllegalArgumentException("non-finite statistic " + s);
      m = Math.max(m, s);
    }
    return m;
  }

  /** What a fit on one validation split gave: the temperature and NLL/ECE before (T = 1) and after. */
  public static final class Fit {
    public final double temperature;
    public final double nllBefore;
    public final double nllAfter;
    public final double eceBefore;
    public final double eceAfter;
    public final int images;

    Fit(double temperature, double nllBefore, double nllAfter, double eceBefore, double eceAfter, int images) {
      this.temperature = temperature;
      this.nllBefore = nllBefore;
      this.nllAfter = nllAfter;
      this.eceBefore = eceBefore;
      this.eceAfter = eceAfter;
      this.images = images;
    }
  }

  /** Fits the temperature and reports NLL and ECE at T = 1 and at the fitted T. */
  public static Fit fit(float[][] logits, int[] labels) {
    double t = fitTemperature(logits, labels);
    return new Fit(t, nll(logits, labels, 1), nll(logits, labels, t), ece(logits, labels, 1), ece(logits, labels, t),
        logits.length);
  }

  private static void check(float[][] logits, int[] labels) {
    if (logits.length == 0 || logits.length != labels.length) {
      throw new IllegalArgumentException(logits.length + " logit rows for " + labels.length + " labels");
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= logits[i].length) {
        throw new IllegalArgumentException("label " + labels[i] + " of image " + i + " is not a class index");
      }
    }
  }
}
