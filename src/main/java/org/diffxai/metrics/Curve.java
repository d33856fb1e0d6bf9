package org.diffxai.metrics;

/** A metric's curve (a line) or point cloud (a scatter), with axis labels. The arrays are not copied. */
public final class Curve {
  public final String xLabel;
  public final String yLabel;
  public final double[] x;
  public final double[] y;
  /** True for a point cloud whose points have no order (correlations), false for a line. */
  public final boolean scatter;

  public Curve(String xLabel, String yLabel, double[] x, double[] y, boolean scatter) {
    if (x.length != y.length) throw new IllegalArgumentException(x.length + " x values, " + y.length + " y values");
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    this.x = x;
    this.y = y;
    this.scatter = scatter;
  }
}
