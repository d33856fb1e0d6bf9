package org.diffxai.metrics;

import java.util.Arrays;

/** Pearson and Spearman correlation and the trapezoidal area under a curve, in double precision. */
public final class Stats {

  private Stats() {}

  /**
   * Pearson's product-moment correlation of paired samples; NaN when either sample has zero variance (or fewer than
   * two pairs).
   */
  public static double pearson(double[] x, double[] y) {
    if (x.length != y.length) throw new IllegalArgumentException(x.length + " vs " + y.length + " values");
    int n = x.length;
    if (n < 2) return Double.NaN;
    double mx = mean(x), my = mean(y);
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
      double dx = x[i] - mx, dy = y[i] - my;
      sxy += dx * dy;
      sxx += dx * dx;
      syy += dy * dy;
    }
    if (sxx == 0 || syy == 0) return Double.NaN;
    return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
  }

  /** Spearman's rank correlation: Pearson of the ranks, tied values getting the mean of their ranks. */
  public static double spearman(double[] x, double[] y) {
    return pearson(ranks(x), ranks(y));
  }

  /** Ranks 1..n, ties averaged. */
  static double[] ranks(double[] v) {
    int n = v.length;
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    Arrays.sort(idx, (a, b) -> Double.compare(v[a], v[b]));
    double[] r = new double[n];
    for (int i = 0; i < n;) {
      int j = i;
      while (j + 1 < n && v[idx[j + 1]] == v[idx[i]]) j++;
      double rank = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) r[idx[k]] = rank;
      i = j + 1;
    }
    return r;
  }

  public static double mean(double[] v) {
    double s = 0;
    for (double d : v) s += d;
    return s / v.length;
  }

  /** Trapezoidal area under y(x) for increasing x: Σ (x[i+1] − x[i])·(y[i] + y[i+1])/2. */
  public static double trapezoid(double[] x, double[] y) {
    double a = 0;
    for (int i = 0; i + 1 < x.length; i++) a += (x[i + 1] - x[i]) * (y[i] + y[i + 1]) / 2;
    return a;
  }
}
