package org.diffxai.io;

import ij.gui.Plot;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.diffxai.core.Chart;

/**
 * Charts as ImageJ plots: the live plot a window shows (List, Data, Save) and the PNG a run writes are the same
 * {@link Plot}, drawn from the plain {@link Chart}.
 */
public final class Plots {
  private Plots() {}

  /** The chart as an ImageJ plot (not shown). */
  public static Plot toPlot(Chart c) {
    boolean bars = !c.categories().isEmpty();
    String xLabel = bars ? "{" + String.join(",", clean(c.categories())) + "}" : c.xLabel;
    Plot plot = new Plot(c.title, xLabel, c.yLabel);
    if (bars) plot.setFrameSize(Math.max(360, 110 * c.categories().size()), 300);
    List<String> names = new ArrayList<>();
    for (Chart.Series s : c.series()) {
      Color col = new Color(s.rgb);
      if (s.style == Chart.Style.BARS) plot.setColor(col.darker(), col);
      else plot.setColor(col);
      plot.setLineWidth(s.style == Chart.Style.LINE ? 1.5f : 1f);
      plot.addPoints(s.x, s.y, shape(s.style));
      names.add(s.name == null ? "" : s.name.replace('\n', ' '));
    }
    plot.setColor(Color.BLACK);
    plot.setLineWidth(1f);
    for (Chart.ErrorBar e : c.errorBars()) {
      plot.drawLine(e.x, e.low, e.x, e.high);
      plot.drawLine(e.x - 0.12, e.low, e.x + 0.12, e.low);
      plot.drawLine(e.x - 0.12, e.high, e.x + 0.12, e.high);
    }
    double[] lim = c.limits();
    if (c.legend()) lim = withLegendRoom(c, lim);
    if (lim != null) plot.setLimits(lim[0], lim[1], lim[2], lim[3]);
    plot.setColor(Color.GRAY);
    for (double x : c.markers()) {
      double lo = lim != null ? Math.min(lim[2], lim[3]) : 0, hi = lim != null ? Math.max(lim[2], lim[3]) : 1;
      plot.drawDottedLine(x, lo, x, hi, 3);
    }
    plot.setColor(Color.BLACK);
    // The legend sits in a band above the data that withLegendRoom reserved, so it covers no point and no line.
    if (c.legend()) plot.addLegend(String.join("\n", names), "top-left");
    if (!c.note().isEmpty()) {
      plot.setJustification(Plot.LEFT);
      plot.addLabel(0, 0, c.note());
    }
    return plot;
  }

  /** Share of the frame height one legend line takes (measured on ImageJ's default 300-pixel frame: about 15 px). */
  static final double LEGEND_LINE = 0.055;

  /**
   * Limits whose top leaves a band above every point and error bar for a legend of the chart's series: the data keep
   * the lower part of the frame. x limits stay as given (NaN: ImageJ fits them to the data).
   */
  static double[] withLegendRoom(Chart c, double[] lim) {
    double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
    for (Chart.Series s : c.series()) {
      for (double y : s.y) {
        if (Double.isFinite(y)) {
          lo = Math.min(lo, y);
          hi = Math.max(hi, y);
        }
      }
    }
    for (Chart.ErrorBar e : c.errorBars()) {
      lo = Math.min(lo, e.low);
      hi = Math.max(hi, e.high);
    }
    if (lim != null) {
      lo = Math.min(lim[2], lim[3]);
      hi = Math.max(hi, Math.max(lim[2], lim[3]));
    }
    if (!(hi >= lo)) return lim;
    if (!c.categories().isEmpty()) lo = Math.min(lo, 0); // bars start at 0
    double span = hi > lo ? hi - lo : Math.max(1e-9, Math.abs(hi));
    double band = Math.min(0.5, LEGEND_LINE * c.series().size() + 0.05);
    double top = lo + span / (1 - band);
    return lim != null ? new double[] {lim[0], lim[1], lo, top} : new double[] {Double.NaN, Double.NaN, lo, top};
  }

  private static List<String> clean(List<String> categories) {
    List<String> out = new ArrayList<>();
    for (String s : categories) out.add(s.replace(',', ' ').replace('{', '(').replace('}', ')'));
    return out;
  }

  private static int shape(Chart.Style style) {
    switch (style) {
      case CIRCLES:
        return Plot.CIRCLE;
      case CONNECTED_CIRCLES:
        return Plot.CONNECTED_CIRCLES;
      case BARS:
        return Plot.SEPARATED_BAR;
      case LINE:
      default:
        return Plot.LINE;
    }
  }

  /** Writes the chart as a PNG (the file as given; atomicity is the caller's, see run.OutputFolder). */
  public static void writePng(Path file, Chart c) throws IOException {
    if (!ImageIO.write(toPlot(c).getProcessor().getBufferedImage(), "png", file.toFile())) {
      throw new IOException("no PNG writer");
    }
  }
}
