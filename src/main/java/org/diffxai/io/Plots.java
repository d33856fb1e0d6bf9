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
    if (lim != null) plot.setLimits(lim[0], lim[1], lim[2], lim[3]);
    plot.setColor(Color.GRAY);
    for (double x : c.markers()) {
      double lo = lim != null ? Math.min(lim[2], lim[3]) : 0, hi = lim != null ? Math.max(lim[2], lim[3]) : 1;
      plot.drawDottedLine(x, lo, x, hi, 3);
    }
    plot.setColor(Color.BLACK);
    // "auto" puts the legend in the corner with the fewest data points, so it does not cover the curves' ends.
    if (c.legend()) plot.addLegend(String.join("\n", names), "auto");
    if (!c.note().isEmpty()) {
      plot.setJustification(Plot.LEFT);
      plot.addLabel(0, 0, c.note());
    }
    return plot;
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
