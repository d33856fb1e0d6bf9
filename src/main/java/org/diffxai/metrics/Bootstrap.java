package org.diffxai.metrics;

import java.util.Arrays;

/**
 * Seeded percentile bootstrap of a mean (Efron &amp; Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13):
 * {@code resamples} times, draw n values with replacement ({@link SplitMix64}(seed), indices drawn in order) and take
 * their mean; the interval is the (1−level)/2 and (1+level)/2 quantiles of those means, each the linear interpolation
 * between order statistics at position q·(B−1) (numpy's default "linear" quantile). Same seed, same interval.
 */
public final class Bootstrap {

  /** A mean with its bootstrap interval. */
  public static final class Interval {
    public final double mean;
    public final double low;
    public final double high;
    public final double level;
    public final int resamples;

    Interval(double mean, double low, double high, double level, int resamples) {
      this.mean = mean;
      this.low = low;
      this.high = high;
      this.level = level;
      this.resamples = resamples;
    }

    @Override
    public String toString() {
      return mean + " [" + low + ", " + high + "]";
    }
  }

  private Bootstrap() {}

  /** The 95 % interval of the mean from 2000 resamples. */
  public static Interval meanCi95(double[] values, long seed) {
    return meanCi(values, 2000, 0.95, seed);
  }

  /**
   * @param values finite values, at least one
   * @param resamples B &gt;= 1
   * @param level in (0, 1), e.g. 0.95
   */
  public static Interval meanCi(double[] values, int resamples, double level, long seed) {
    int n = values.length;
    if (n == 0) throw new IllegalArgumentException("no values");
    if (resamples < 1) throw new IllegalArgumentException("resamples must be >= 1: " + resamples);
    if (!(level > 0 && level < 1)) throw new IllegalArgumentException("level must be in (0, 1): " + level);
    for (double v : values) {
      if (!Double.isFinite(v)) throw new IllegalArgumentException("non-finite value " + v);
    }
    SplitMix64 rnd = new SplitMix64(seed);
    double[] means = new double[resamples];
    for (int b = 0; b < resamples; b++) {
      double s = 0;
      for (int i = 0; i < n; i++) s += values[rnd.nextInt(n)];
      means[b] = s / n;
    }
    Arrays.sort(means);
    return new Interval(Stats.mean(values), quantile(means, (1 - level) / 2), quantile(means, (1 + level) / 2),
        level, resamples);
  }

  /** Linear interpolation between the order statistics of sorted values at position q·(n−1). */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }
}
