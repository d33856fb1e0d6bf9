package org.diffxai.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.diffxai.core.GaussianNoise;
import org.junit.jupiter.api.Test;

class StatsAndBootstrapTest {

  @Test
  void pearsonSpearmanAndTrapezoidByHand() {
    // x = 1..5, y = 2, 4, 5, 4, 5: r = 6 / sqrt(10 * 6) = 0.7746 (hand-computed sums of squares)
    double[] x = {1, 2, 3, 4, 5}, y = {2, 4, 5, 4, 5};
    assertEquals(6 / Math.sqrt(60), Stats.pearson(x, y), 1e-15);
    // ranks of y with ties averaged: 1, 2.5, 4.5, 2.5, 4.5
    assertArrayEquals(new double[] {1, 2.5, 4.5, 2.5, 4.5}, Stats.ranks(y), 0);
    assertEquals(Stats.pearson(x, new double[] {1, 2.5, 4.5, 2.5, 4.5}), Stats.spearman(x, y), 0);
    // Spearman is 1 for any increasing function
    assertEquals(1, Stats.spearman(x, new double[] {-10, 0, 0.1, 7, 1e9}), 0);
    assertTrue(Double.isNaN(Stats.pearson(x, new double[] {3, 3, 3, 3, 3})));
    assertEquals(0.5, Stats.trapezoid(new double[] {0, 0.25, 1}, new double[] {0, 0.25, 1}), 1e-15);
  }

  @Test
  void boundedIntegersFollowTheDocumentedRejectionRule() {
    for (int bound : new int[] {1, 3, 10, 1 << 20, Integer.MAX_VALUE}) {
      SplitMix64 a = new SplitMix64(77);
      SplittableRandom bits = new SplittableRandom(77); // same SplitMix64 stream (GaussianNoiseTest)
      for (int i = 0; i < 1000; i++) {
        int expected;
        while (true) {
          int u = (int) (bits.nextLong() >>> 33);
          if (u / bound < (int) ((1L << 31) / bound) || (1L << 31) % bound == 0) {
            expected = u % bound;
            break;
          }
        }
        assertEquals(expected, a.nextInt(bound), "bound " + bound + " draw " + i);
      }
    }
    // roughly uniform: chi-square of 60000 draws in 6 cells below the 0.1 % critical value 20.5
    SplitMix64 r = new SplitMix64(5);
    int[] count = new int[6];
    for (int i = 0; i < 60000; i++) count[r.nextInt(6)]++;
    double chi = 0;
    for (int cnt : count) chi += (cnt - 10000.0) * (cnt - 10000.0) / 10000.0;
    assertTrue(chi < 20.5, Arrays.toString(count));
  }

  @Test
  void bootstrapIsSeededAndMatchesAnIndependentComputation() {
    double[] v = new double[40];
    GaussianNoise g = new GaussianNoise(3);
    for (int i = 0; i < v.length; i++) v[i] = 2 + g.nextGaussian();
    Bootstrap.Interval a = Bootstrap.meanCi(v, 500, 0.9, 11);
    Bootstrap.Interval b = Bootstrap.meanCi(v, 500, 0.9, 11);
    assertEquals(a.low, b.low, 0);
    assertEquals(a.high, b.high, 0);
    assertNotEquals(a.low, Bootstrap.meanCi(v, 500, 0.9, 12).low);
    // independent: resample with the same index stream, sort, interpolate at q(B-1)
    SplitMix64 r = new SplitMix64(11);
    double[] means = new double[500];
    for (int k = 0; k < 500; k++) {
      double s = 0;
      for (int i = 0; i < 40; i++) s += v[r.nextInt(40)];
      means[k] = s / 40;
    }
    Arrays.sort(means);
    double pos = 0.05 * 499; // 24.95
    assertEquals(means[24] + 0.95 * (means[25] - means[24]), a.low, 1e-12);
    assertEquals(means[474] + 0.05 * (means[475] - means[474]), a.high, 1e-12);
    assertEquals(Stats.mean(v), a.mean, 0);
    assertTrue(pos > 24);
    // the interval is about ±1.645 standard errors wide for a 90 % level
    double sd = 0;
    for (double x : v) sd += (x - a.mean) * (x - a.mean);
    double se = Math.sqrt(sd / (v.length - 1) / v.length);
    assertEquals(2 * 1.645 * se, a.high - a.low, 0.25 * 2 * 1.645 * se);
    assertTrue(a.low < a.mean && a.mean < a.high);
  }

  @Test
  void bootstrapEdgeCases() {
    Bootstrap.Interval one = Bootstrap.meanCi95(new double[] {0.7}, 1);
    assertEquals(0.7, one.low, 0);
    assertEquals(0.7, one.high, 0);
    assertEquals(2000, one.resamples);
    assertThrows(IllegalArgumentException.class, () -> Bootstrap.meanCi(new double[0], 10, 0.95, 1));
    assertThrows(IllegalArgumentException.class, () -> Bootstrap.meanCi(new double[] {Double.NaN}, 10, 0.95, 1));
    assertThrows(IllegalArgumentException.class, () -> Bootstrap.meanCi(new double[] {1}, 10, 1.0, 1));
  }
}
