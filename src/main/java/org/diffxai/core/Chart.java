package org.diffxai.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A plot as plain data: title, axis labels, series of points (lines, markers or bars, each with a colour and a
 * legend name), optional error bars and category labels. The Fiji layer shows it as a live ImageJ {@code Plot}
 * (List, Data, Save); io renders the same plot to PNG. No drawing code here.
 */
public final class Chart {

  /** How a series is drawn. */
  public enum Style { LINE, CONNECTED_CIRCLES, CIRCLES, BARS }

  /** One named series. */
  public static final class Series {
    public final String name;
    public final double[] x;
    public final double[] y;
    public final Style style;
    /** Packed RGB. */
    public final int rgb;

    Series(String name, double[] x, double[] y, Style style, int rgb) {
      if (x.length != y.length) throw new IllegalArgumentException(x.length + " x values for " + y.length + " y");
      this.name = name;
      this.x = x.clone();
      this.y = y.clone();
      this.style = style;
      this.rgb = rgb;
    }
  }

  /** A vertical error bar from {@code low} to {@code high} at {@code x}. */
  public static final class ErrorBar {
    public final double x, low, high;

    ErrorBar(double x, double low, double high) {
      this.x = x;
      this.low = low;
      this.high = high;
    }
  }

  /** A colour cycle for series without a meaning of their own (Tableau 10). */
  public static final int[] PALETTE = {0x1f77b4, 0xd62728, 0x2ca02c, 0x9467bd, 0xff7f0e, 0x17becf, 0x8c564b,
      0xe377c2};

  public final String title;
  public final String xLabel;
  public final String yLabel;
  private final List<Series> series = new ArrayList<>();
  private final List<ErrorBar> errorBars = new ArrayList<>();
  private List<String> categories = Collections.emptyList();
  private final List<Double> markers = new ArrayList<>();
  private double[] limits;
  private String note = "";
  private boolean legend = true;

  public Chart(String title, String xLabel, String yLabel) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
  }

  public Chart add(String name, double[] x, double[] y, Style style, int rgb) {
    series.add(new Series(name, x, y, style, rgb));
    return this;
  }

  public Chart errorBar(double x, double low, double high) {
    errorBars.add(new ErrorBar(x, low, high));
    return this;
  }

  /** A dotted vertical line at {@code x} across the plot (e.g. the decision step). */
  public Chart marker(double x) {
    markers.add(x);
    return this;
  }

  public List<Double> markers() {
    return Collections.unmodifiableList(markers);
  }

  /** Names of the x positions 0, 1, 2, ... (bar charts). */
  public Chart categories(List<String> names) {
    categories = Collections.unmodifiableList(new ArrayList<>(names));
    return this;
  }

  /** Axis limits {xmin, xmax, ymin, ymax}; null: fit the data. */
  public Chart limits(double xmin, double xmax, double ymin, double ymax) {
    limits = new double[] {xmin, xmax, ymin, ymax};
    return this;
  }

  /** A line of text under the plot (e.g. what the error bars are). */
  public Chart note(String text) {
    note = text == null ? "" : text;
    return this;
  }

  /** Whether to draw a legend of the series names (on by default when there are two or more series). */
  public Chart legend(boolean on) {
    legend = on;
    return this;
  }

  public List<Series> series() {
    return Collections.unmodifiableList(series);
  }

  public List<ErrorBar> errorBars() {
    return Collections.unmodifiableList(errorBars);
  }

  public List<String> categories() {
    return categories;
  }

  /** {xmin, xmax, ymin, ymax} or null. */
  public double[] limits() {
    return limits == null ? null : limits.clone();
  }

  public String note() {
    return note;
  }

  public boolean legend() {
    return legend && series.size() > 1;
  }
}
