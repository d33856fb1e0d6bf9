package org.diffxai.fiji;

import ij.CompositeImage;
import ij.IJ;
import ij.ImageJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.WindowManager;
import ij.gui.ImageWindow;
import ij.gui.Plot;
import ij.gui.PlotWindow;
import ij.measure.ResultsTable;
import ij.process.FloatProcessor;
import ij.process.LUT;
import java.awt.Dimension;
import java.awt.Frame;
import java.awt.GraphicsEnvironment;
import java.awt.Rectangle;
import java.awt.Window;
import java.lang.reflect.Field;
import java.util.List;
import java.util.Map;
import org.diffxai.core.Table;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;
import org.diffxai.io.Plots;
import org.diffxai.io.RgbStack;
import org.diffxai.io.RgbTiff;
import org.diffxai.run.Outputs;
import org.diffxai.run.ResultImage;
import org.diffxai.run.ResultImage.Look;
import org.scijava.ItemIO;
import org.scijava.plugin.Parameter;

/**
 * The presentation step of every command: turns a run's {@link Outputs} into ImageJ windows — images with unique
 * titles ({@code Synthesized-2}), composite hyperstacks with a lookup table and display range per channel (grey for
 * images, a heat table with a calibration bar for maps, a diverging table for signed maps), small images zoomed to a
 * readable size, windows placed beside each other below the ImageJ bar; tables as results tables; plots as live
 * ImageJ plots (List, Data, Save). It also fills the command's script outputs ({@code @Parameter(type = OUTPUT)}
 * fields named like the outputs' ids). Headless, nothing is shown.
 */
public final class Present {
  /** Images smaller than this (pixels, longer side) are zoomed in until they reach it. */
  static final int READABLE_SIDE = 256;
  private static final int GAP = 8;

  /** Where the next window goes (screen coordinates); reset when it runs off the screen. */
  private static int nextX = -1;
  private static int nextY = -1;
  private static int rowHeight;

  private Present() {}

  /** Shows the outputs (unless headless) and sets the command's output fields. */
  public static void show(Outputs outputs, Object command) {
    boolean show = !Ui.headless();
    for (String text : outputs.log()) IJ.log(text);
    for (ResultImage r : outputs.images()) {
      ImagePlus imp = image(r);
      setOutput(command, r.id, imp);
      if (show) showImage(imp);
    }
    for (Outputs.NamedTable t : outputs.tables()) {
      ResultsTable rt = table(t.table);
      setOutput(command, t.id, rt);
      if (show) {
        String title = uniqueWindowTitle(t.title);
        rt.show(title);
        place(WindowManager.getWindow(title));
      }
    }
    for (Outputs.NamedChart c : outputs.charts()) {
      Plot plot = Plots.toPlot(c.chart);
      setOutput(command, c.id, plot.getImagePlus());
      if (show) {
        PlotWindow pw = plot.show();
        if (pw != null) place(pw);
      }
    }
  }

  /** The ImageJ image of a result: unique title, dimensions, properties, lookup tables and display ranges. */
  static ImagePlus image(ResultImage r) {
    ImagePlus imp;
    if (r.rgb() != null) {
      RgbStack s = r.rgb();
      imp = RgbTiff.image(r.title, s, r.properties().get("Info"));
    } else if (r.file() != null) {
      imp = ImageReaders.openVirtual(r.file());
    } else {
      FloatStack s = r.floats();
      ImageStack stack = new ImageStack(s.width, s.height);
      for (int i = 0; i < s.planeCount(); i++) {
        stack.addSlice(s.label(i), new FloatProcessor(s.width, s.height, s.plane(i)));
      }
      imp = new ImagePlus(r.title, stack);
      imp.setDimensions(s.channels, s.slices, s.frames);
    }
    for (Map.Entry<String, String> e : r.properties().entrySet()) {
      if (e.getKey().equals("Info")) imp.setProperty("Info", e.getValue());
      else imp.setProp(e.getKey(), e.getValue());
    }
    imp.setTitle(uniqueImageTitle(r.title));
    if (r.rgb() != null) return imp;
    if (imp.getNChannels() * imp.getNSlices() * imp.getNFrames() > 1 && imp.getNSlices() * imp.getNFrames() > 1
        || imp.getNChannels() > 1) {
      imp.setOpenAsHyperStack(true);
    }
    List<Look> looks = r.looks();
    if (imp.getNChannels() > 1) {
      CompositeImage ci = new CompositeImage(imp, IJ.COLOR);
      for (int c = 0; c < imp.getNChannels(); c++) {
        Look look = c < looks.size() ? looks.get(c) : Look.GREY;
        double[] range = range(imp, c, look);
        LUT lut = lut(look);
        lut.min = range[0];
        lut.max = range[1];
        ci.setChannelLut(lut, c + 1);
      }
      ci.setProperties(imp.getPropertiesAsArray());
      ci.setProperty("Info", imp.getProperty("Info"));
      ci.setTitle(imp.getTitle());
      imp = ci;
    } else {
      Look look = looks.isEmpty() ? Look.GREY : looks.get(0);
      double[] range = range(imp, 0, look);
      imp.getProcessor().setLut(lut(look));
      imp.setDisplayRange(range[0], range[1]);
    }
    return imp;
  }

  /**
   * The display range of channel c over every slice and frame (for a large virtual stack, over at most 64 evenly
   * spaced planes): min..max for grey and heat, symmetric about 0 for signed maps.
   */
  static double[] range(ImagePlus imp, int c, Look look) {
    int planes = imp.getNSlices() * imp.getNFrames();
    int stride = imp.getStack().isVirtual() ? Math.max(1, planes / 64) : 1;
    double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    ImageStack st = imp.getStack();
    for (int p = 0; p < planes; p += stride) {
      int index = p * imp.getNChannels() + c + 1;
      float[] px = (float[]) st.getProcessor(index).convertToFloat().getPixels();
      for (float v : px) {
        if (!Float.isFinite(v)) continue;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    if (!(max >= min)) return new double[] {0, 1};
    if (look == Look.SIGNED) {
      double a = Math.max(Math.abs(min), Math.abs(max));
      return a > 0 ? new double[] {-a, a} : new double[] {-1, 1};
    }
    return max > min ? new double[] {min, max} : new double[] {min - 0.5, max + 0.5};
  }

  /** Grey, heat (black, red, yellow, white) or diverging (blue, white, red) lookup table. */
  static LUT lut(Look look) {
    byte[] r = new byte[256], g = new byte[256], b = new byte[256];
    for (int i = 0; i < 256; i++) {
      double t = i / 255.0;
      double[] rgb;
      switch (look) {
        case HEAT:
          rgb = new double[] {3 * t, 3 * t - 1, 3 * t - 2};
          break;
        case SIGNED:
          rgb = t < 0.5 ? new double[] {2 * t, 2 * t, 1} : new double[] {1, 2 - 2 * t, 2 - 2 * t};
          break;
        default:
          rgb = new double[] {t, t, t};
      }
      r[i] = (byte) Math.round(255 * clamp(rgb[0]));
      g[i] = (byte) Math.round(255 * clamp(rgb[1]));
      b[i] = (byte) Math.round(255 * clamp(rgb[2]));
    }
    return new LUT(r, g, b);
  }

  private static double clamp(double v) {
    return Math.max(0, Math.min(1, v));
  }

  /** A results table with the run's columns (numbers and text) and decimal places. */
  static ResultsTable table(Table t) {
    ResultsTable rt = new ResultsTable();
    for (int row = 0; row < t.size(); row++) {
      rt.incrementCounter();
      for (String col : t.columns()) {
        Object v = t.get(col, row);
        if (v instanceof Double) rt.addValue(col, (Double) v);
        else if (v != null) rt.addValue(col, (String) v);
      }
    }
    for (String col : t.columns()) {
      int d = t.decimalPlaces(col);
      if (d >= 0 && rt.getColumnIndex(col) != ResultsTable.COLUMN_NOT_FOUND) {
        rt.setDecimalPlaces(rt.getColumnIndex(col), d);
      }
    }
    return rt;
  }

  /** {@code title}, or {@code title-2}, {@code title-3}, ... when an open image already has it. */
  static String uniqueImageTitle(String title) {
    int[] ids = WindowManager.getIDList();
    if (ids == null) return title;
    java.util.Set<String> taken = new java.util.HashSet<>();
    for (int id : ids) {
      ImagePlus other = WindowManager.getImage(id);
      if (other != null) taken.add(other.getTitle());
    }
    return unique(title, taken);
  }

  private static String uniqueWindowTitle(String title) {
    java.util.Set<String> taken = new java.util.HashSet<>();
    for (Window w : Window.getWindows()) {
      if (w instanceof Frame && w.isShowing()) taken.add(((Frame) w).getTitle());
    }
    return unique(title, taken);
  }

  static String unique(String title, java.util.Set<String> taken) {
    if (!taken.contains(title)) return title;
    for (int i = 2; ; i++) {
      String t = title + "-" + i;
      if (!taken.contains(t)) return t;
    }
  }

  /** Shows an image zoomed to a readable size at the next free place (in a macro's batch mode: no window). */
  private static void showImage(ImagePlus imp) {
    int side = Math.max(imp.getWidth(), imp.getHeight());
    double mag = 1;
    while (side * mag < READABLE_SIDE && mag < 8) mag *= 2;
    Point p = next(new Dimension((int) (imp.getWidth() * mag) + 40, (int) (imp.getHeight() * mag) + 120));
    if (p != null) ImageWindow.setNextLocation(p.x, p.y);
    imp.show();
    if (mag > 1 && imp.getWindow() != null) IJ.run(imp, "Set... ", "zoom=" + (int) (mag * 100));
    if (imp.getWindow() != null) advance(imp.getWindow());
  }

  private static void place(Window w) {
    if (w == null) return;
    Point p = next(w.getSize());
    if (p != null) w.setLocation(p.x, p.y);
    advance(w);
  }

  private static final class Point {
    final int x;
    final int y;

    Point(int x, int y) {
      this.x = x;
      this.y = y;
    }
  }

  /** The place for a window of this size: right of the last one, or the next row, below the ImageJ bar. */
  private static synchronized Point next(Dimension size) {
    if (GraphicsEnvironment.isHeadless()) return null;
    Rectangle screen = GraphicsEnvironment.getLocalGraphicsEnvironment().getMaximumWindowBounds();
    ImageJ ij = IJ.getInstance();
    int top = ij != null && ij.isShowing() ? ij.getY() + ij.getHeight() + GAP : screen.y + GAP;
    if (nextX < 0 || nextY < top) {
      nextX = screen.x + GAP;
      nextY = top;
      rowHeight = 0;
    }
    if (nextX + size.width > screen.x + screen.width && nextX > screen.x + GAP) {
      nextX = screen.x + GAP;
      nextY += rowHeight + GAP;
      rowHeight = 0;
    }
    if (nextY + Math.min(size.height, 200) > screen.y + screen.height) {
      nextX = screen.x + GAP;
      nextY = top;
      rowHeight = 0;
    }
    return new Point(nextX, nextY);
  }

  private static synchronized void advance(Window w) {
    nextX = w.getX() + w.getWidth() + GAP;
    nextY = w.getY();
    rowHeight = Math.max(rowHeight, w.getHeight());
  }

  /** Sets the command's {@code @Parameter(type = OUTPUT)} field called {@code id}, when it has one of that type. */
  static void setOutput(Object command, String id, Object value) {
    if (command == null) return;
    for (Class<?> c = command.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        Parameter p = f.getAnnotation(Parameter.class);
        if (p == null || p.type() != ItemIO.OUTPUT || !f.getName().equals(id)) continue;
        if (!f.getType().isInstance(value)) continue;
        try {
          f.setAccessible(true);
          f.set(command, value);
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
        return;
      }
    }
  }
}
