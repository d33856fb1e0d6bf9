package org.diffxai.fiji;

import ij.CompositeImage;
import ij.ImagePlus;
import ij.process.LUT;
import java.awt.Canvas;
import java.awt.Color;
import java.awt.Dimension;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffxai.run.ResultImage.Look;

/**
 * The calibration bar of a result window with maps, drawn under the image inside its window (so it adds no image a
 * macro would count): for each group of channels that share a scale (all heat maps, all signed maps) the lookup table
 * as a bar with its minimum, middle and maximum value and the channels' names. It reads the display ranges when it
 * paints, so it follows Image › Adjust › Brightness/Contrast.
 */
final class ChannelScale extends Canvas {
  static final String NAME = "calibration";
  private static final int ROW = 22;
  private static final int BAR_W = 120;

  private final ImagePlus imp;
  /** Look → 1-based channels with that look, in order; GREY is left out. */
  private final Map<Look, List<Integer>> groups = new LinkedHashMap<>();
  private final Map<Integer, String> names;

  ChannelScale(ImagePlus imp, List<Look> looks, Map<Integer, String> names) {
    this.imp = imp;
    this.names = names;
    for (int c = 0; c < looks.size(); c++) {
      if (looks.get(c) == Look.GREY) continue;
      groups.computeIfAbsent(looks.get(c), k -> new ArrayList<>()).add(c + 1);
    }
    setName(NAME);
    setFont(new Font("SansSerif", Font.PLAIN, 11));
  }

  /** True when the image has channels that need a scale (heat or signed maps). */
  boolean needed() {
    return !groups.isEmpty();
  }

  @Override
  public Dimension getPreferredSize() {
    return new Dimension(BAR_W + 260, groups.size() * ROW + 4);
  }

  @Override
  public Dimension getMinimumSize() {
    return getPreferredSize();
  }

  /** What the bar says, one line per group, e.g. "top1, top2: 0 … 0.93 (heat)". */
  String text() {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<Look, List<Integer>> g : groups.entrySet()) {
      double[] r = range(g.getValue().get(0));
      if (sb.length() > 0) sb.append('\n');
      sb.append(channelNames(g.getValue())).append(": ").append(num(r[0])).append(" \u2026 ").append(num(r[1]))
          .append(" (").append(g.getKey().name().toLowerCase(java.util.Locale.ROOT)).append(')');
    }
    return sb.toString();
  }

  private String channelNames(List<Integer> channels) {
    List<String> n = new ArrayList<>();
    for (int c : channels) n.add(names.getOrDefault(c, "channel " + c));
    return String.join(", ", n);
  }

  /** The display range of a channel now (the user may have changed it). */
  private double[] range(int channel) {
    if (imp instanceof CompositeImage) {
      LUT lut = ((CompositeImage) imp).getChannelLut(channel);
      return new double[] {lut.min, lut.max};
    }
    return new double[] {imp.getDisplayRangeMin(), imp.getDisplayRangeMax()};
  }

  private LUT lut(int channel) {
    if (imp instanceof CompositeImage) return ((CompositeImage) imp).getChannelLut(channel);
    return imp.getProcessor().getLut();
  }

  /** Four significant digits without trailing zeros: 0.117, 5.713, -12.44, 1.5e-05. */
  static String num(double v) {
    if (v == 0 || !Double.isFinite(v)) return v == 0 ? "0" : String.valueOf(v);
    String s = String.format(java.util.Locale.ROOT, "%.4g", v);
    int e = s.indexOf('e');
    String mantissa = e < 0 ? s : s.substring(0, e);
    if (mantissa.contains(".")) mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
    return e < 0 ? mantissa : mantissa + s.substring(e);
  }

  @Override
  public void paint(Graphics g) {
    g.setFont(getFont());
    FontMetrics fm = g.getFontMetrics();
    int y = 2;
    for (Map.Entry<Look, List<Integer>> grp : groups.entrySet()) {
      int ch = grp.getValue().get(0);
      double[] r = range(ch);
      LUT lut = lut(ch);
      int x = 6;
      g.setColor(Color.BLACK);
      String lo = num(r[0]);
      g.drawString(lo, x, y + 14);
      x += fm.stringWidth(lo) + 4;
      for (int i = 0; i < BAR_W; i++) {
        int idx = (int) Math.round(i * 255.0 / (BAR_W - 1));
        g.setColor(new Color(lut.getRed(idx), lut.getGreen(idx), lut.getBlue(idx)));
        g.drawLine(x + i, y + 3, x + i, y + 16);
      }
      g.setColor(Color.GRAY);
      g.drawRect(x - 1, y + 2, BAR_W + 1, 15);
      x += BAR_W + 4;
      g.setColor(Color.BLACK);
      String hi = num(r[1]) + "   " + channelNames(grp.getValue());
      g.drawString(hi, x, y + 14);
      y += ROW;
    }
  }

  @Override
  public void update(Graphics g) {
    paint(g);
  }
}
