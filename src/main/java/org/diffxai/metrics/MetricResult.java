package org.diffxai.metrics;

/** The value of one metric on one image, its curve (or null), and how many classifier forwards it took. */
public final class MetricResult {
  public final Metric metric;
  public final double value;
  public final Curve curve;
  /** Images passed through the classifier. */
  public final int forwards;
  /** Why the value is NaN, or other facts worth a table cell; empty when there is nothing to say. */
  public final String note;

  public MetricResult(Metric metric, double value, Curve curve, int forwards, String note) {
    this.metric = metric;
    this.value = value;
    this.curve = curve;
    this.forwards = forwards;
    this.note = note == null ? "" : note;
  }

  @Override
  public String toString() {
    return metric.key() + "=" + value + (note.isEmpty() ? "" : " (" + note + ")");
  }
}
