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

  private Present() {}

  /** Shows the outputs (unless headless) and sets the command's output fields. */
  public static void show(Outputs outputs, Object command) {
    boolean show = !Ui.headless();
    for (String text : outputs.log()) IJ.log(text);
    for (ResultImage r : outputs.images()) {
      ImagePlus imp = image(r);
      setOutput(command, r.id, imp);
      if (show) showImage(imp, r.looks());
    }
    for (Outputs.NamedTable t : outputs.tables()) {
      ResultsTable rt = table(t.table);
      setOutput(command, t.id, rt);
      if (show) showTable(rt, uniqueWindowTitle(t.title));
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
    double[][] ranges = ranges(imp, looks);
    labelPlaneRanges(imp, looks);
    if (imp.getNChannels() > 1) {
      CompositeImage ci = new CompositeImage(imp, IJ.COLOR);
      for (int c = 0; c < imp.getNChannels(); c++) {
        LUT lut = lut(look(looks, c));
        lut.min = ranges[c][0];
        lut.max = ranges[c][1];
        ci.setChannelLut(lut, c + 1);
      }
      ci.setProperties(imp.getPropertiesAsArray());
      ci.setProperty("Info", imp.getProperty("Info"));
      ci.setTitle(imp.getTitle());
      imp = ci;
    } else {
      imp.getProcessor().setLut(lut(look(looks, 0)));
      imp.setDisplayRange(ranges[0][0], ranges[0][1]);
    }
    return imp;
  }

  private static Look look(List<Look> looks, int c) {
    return c < looks.size() ? looks.get(c) : Look.GREY;
  }

  /**
   * The display range of every channel: grey channels over their own planes; all heat channels share one range and all
   * signed channels another, over every slice and frame, so maps of different slices, steps and prototypes are on one
   * fixed scale (a map stretched to its own min..max would make a near-flat map look like a confident spot).
   */
  static double[][] ranges(ImagePlus imp, List<Look> looks) {
    int n = imp.getNChannels();
    double[][] own = new double[n][];
    for (int c = 0; c < n; c++) own[c] = minMax(imp, c);
    double[][] out = new double[n][];
    for (int c = 0; c < n; c++) {
      Look look = look(looks, c);
      double min = own[c][0], max = own[c][1];
      if (look != Look.GREY) {
        for (int o = 0; o < n; o++) {
          if (look(looks, o) != look) continue;
          min = Math.min(min, own[o][0]);
          max = Math.max(max, own[o][1]);
        }
      }
      out[c] = range(min, max, look);
    }
    return out;
  }

  /** Display range from data limits: min..max, symmetric about 0 for signed maps, never empty. */
  static double[] range(double min, double max, Look look) {
    if (!(max >= min)) return look == Look.SIGNED ? new double[] {-1, 1} : new double[] {0, 1};
    if (look == Look.SIGNED) {
      double a = Math.max(Math.abs(min), Math.abs(max));
      return a > 0 ? new double[] {-a, a} : new double[] {-1, 1};
    }
    return max > min ? new double[] {min, max} : new double[] {min - 0.5, max + 0.5};
  }

  /** At most this many bytes of a virtual stack are read to label its maps' planes with their own range. */
  static final long LABEL_READ_BYTES = 64L << 20;

  /**
   * Appends each map plane's own range to its slice label ("top1 sample 1 step 3 [0.0012 … 0.0031]"), so a window on
   * the fixed scale still tells how much a map varies. Grey channels keep their labels; virtual stacks only when their
   * map planes are small enough to read.
   */
  static void labelPlaneRanges(ImagePlus imp, List<Look> looks) {
    ImageStack st = imp.getStack();
    int nc = imp.getNChannels();
    int planes = imp.getNSlices() * imp.getNFrames();
    long maps = 0;
    for (int c = 0; c < nc; c++) if (look(looks, c) != Look.GREY) maps += planes;
    if (maps == 0 || st.isVirtual() && maps * imp.getWidth() * imp.getHeight() * 4L > LABEL_READ_BYTES) return;
    for (int p = 0; p < planes; p++) {
      for (int c = 0; c < nc; c++) {
        if (look(looks, c) == Look.GREY) continue;
        int index = p * nc + c + 1;
        double[] mm = minMax((float[]) st.getProcessor(index).convertToFloat().getPixels());
        String old = st.getSliceLabel(index);
        String range = "[" + ChannelScale.num(mm[0]) + " \u2026 " + ChannelScale.num(mm[1]) + "]";
        st.setSliceLabel(old == null || old.isEmpty() ? range : old + " " + range, index);
      }
    }
  }

  /** Finite minimum and maximum of channel c over every slice and frame (a large virtual stack: 64 planes). */
  static double[] minMax(ImagePlus imp, int c) {
    int planes = imp.getNSlices() * imp.getNFrames();
    int stride = imp.getStack().isVirtual() ? Math.max(1, planes / 64) : 1;
    double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    ImageStack st = imp.getStack();
    for (int p = 0; p < planes; p += stride) {
      double[] mm = minMax((float[]) st.getProcessor(p * imp.getNChannels() + c + 1).convertToFloat().getPixels());
      min = Math.min(min, mm[0]);
      max = Math.max(max, mm[1]);
    }
    return new double[] {min, max};
  }

  private static double[] minMax(float[] px) {
    double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    for (float v : px) {
      if (!Float.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return new double[] {min, max};
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

  /**
   * Shows an image zoomed to a readable size, with the calibration bar of its maps under it, at the first free place
   * (in a macro's batch mode: no window).
   */
  static void showImage(ImagePlus imp, List<Look> looks) {
    int side = Math.max(imp.getWidth(), imp.getHeight());
    double mag = 1;
    while (side * mag < READABLE_SIDE && mag < 8) mag *= 2;
    java.awt.Point p = freePlace(new Dimension((int) (imp.getWidth() * mag) + 40, (int) (imp.getHeight() * mag) + 120),
        null);
    if (p != null) ImageWindow.setNextLocation(p.x, p.y);
    imp.show();
    ImageWindow win = imp.getWindow();
    if (win == null) return;
    // Zoom.set, not IJ.run("Set... "): a nested command would replace the options the recorder holds for this one
    if (mag > 1) ij.plugin.Zoom.set(imp, mag);
    if (imp.getType() != ImagePlus.COLOR_RGB) {
      ChannelScale scale = new ChannelScale(imp, looks, channelNames(imp));
      if (scale.needed()) {
        win.add(scale);
        win.pack();
      }
    }
    place(win);
  }

  /** Shows a results table in a window just large enough for its columns and rows, at the first free place. */
  static void showTable(ResultsTable rt, String title) {
    rt.show(title);
    Window w = WindowManager.getWindow(title);
    if (w == null) return;
    int width = 40;
    String[] heads = rt.getColumnHeadings().split("\t");
    for (int c = 0; c < heads.length; c++) {
      int chars = heads[c].length();
      for (int row = 0; row < Math.min(rt.size(), 50); row++) {
        String v = c == 0 ? "" : rt.getStringValue(heads[c], row);
        if (v != null) chars = Math.max(chars, v.length());
      }
      width += 8 * chars + 12;
    }
    int height = 90 + 18 * Math.min(rt.size() + 1, 15);
    w.setSize(Math.max(260, Math.min(width, w.getWidth())), Math.max(140, Math.min(height, w.getHeight())));
    w.validate();
    place(w);
  }

  /** Channel c (1-based) → the first word of its first plane's label, e.g. "top1". */
  static Map<Integer, String> channelNames(ImagePlus imp) {
    Map<Integer, String> names = new java.util.HashMap<>();
    for (int c = 1; c <= imp.getNChannels(); c++) {
      String l = imp.getStack().getSliceLabel(imp.getStackIndex(c, 1, 1));
      if (l != null && !l.trim().isEmpty()) names.put(c, l.trim().split("\\s+")[0]);
    }
    return names;
  }

  /** Moves a shown window to the first free place. */
  static void place(Window w) {
    if (w == null || GraphicsEnvironment.isHeadless()) return;
    settle(); // its own size too may still be changing
    java.awt.Point p = firstFree(w.getSize(), w);
    if (p != null) w.setLocation(p.x, p.y);
  }

  /**
   * The first place, row by row below the ImageJ bar, where a window of this size overlaps no other visible window
   * and fits on the screen: candidates are the screen's left edge and the right edges of the windows, at the top and
   * at the bottom edges of the windows. When the screen is full, the oldest windows are given up one by one (the new
   * window may cover them), so the newest results stay side by side.
   */
  static java.awt.Point freePlace(Dimension size, Window self) {
    if (GraphicsEnvironment.isHeadless()) return null;
    settle();
    return firstFree(size, self);
  }

  /** {@link #freePlace} on windows already settled. */
  private static synchronized java.awt.Point firstFree(Dimension size, Window self) {
    Rectangle screen = GraphicsEnvironment.getLocalGraphicsEnvironment().getMaximumWindowBounds();
    ImageJ ij = IJ.getInstance();
    int top = ij != null && ij.isShowing() ? ij.getY() + ij.getHeight() + GAP : screen.y + GAP;
    List<Rectangle> taken = new java.util.ArrayList<>(); // oldest first: Window.getWindows() is in creation order
    for (Window w : Window.getWindows()) {
      if (w != self && w.isShowing() && w instanceof Frame && w != ij) taken.add(w.getBounds());
    }
    Rectangle area = new Rectangle(screen.x, top, screen.width, screen.y + screen.height - top);
    while (true) {
      java.awt.Point p = firstFit(size, area, taken);
      if (p != null) return p;
      if (taken.isEmpty()) return new java.awt.Point(area.x + GAP, area.y);
      taken.remove(0);
    }
  }

  /**
   * Lets pending window work finish before windows are measured: showing, packing and zooming a window are queued on
   * the AWT event thread, so a window shown a moment ago may not have its final size yet (on a busy machine a table
   * was placed beside an image's pre-zoom bounds and the zoomed image then covered it). Runs the queue until the
   * windows' bounds stop changing, at most ten rounds; does nothing on the event thread itself. A round waits for the
   * queue as long as it takes on a busy machine but not for ever (30 s): the caller may hold a lock the event thread
   * is waiting for (a command's thread inside ImageJ), and a blocking {@code invokeAndWait} there is the suspected
   * cause of an Explain with Prototypes started from its dialog that never finished (RecordReplayGuiTest on ImageJ
   * 1.53, once in a full run on a loaded machine). With a two-second limit ResultsGuiTest failed once in CI (a
   * zoomed image over the table placed beside it), so the limit is long.
   */
  private static void settle() {
    if (java.awt.EventQueue.isDispatchThread()) return;
    String before = null;
    for (int round = 0; round < 10; round++) {
      java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
      java.awt.EventQueue.invokeLater(ran::countDown);
      try {
        if (!ran.await(30, java.util.concurrent.TimeUnit.SECONDS)) return; // blocked: place with what is known
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      StringBuilder now = new StringBuilder();
      for (Window w : Window.getWindows()) if (w.isShowing()) now.append(w.getBounds()).append(';');
      if (now.toString().equals(before)) return;
      before = now.toString();
    }
  }

  private static java.awt.Point firstFit(Dimension size, Rectangle area, List<Rectangle> taken) {
    java.util.TreeSet<Integer> xs = new java.util.TreeSet<>();
    java.util.TreeSet<Integer> ys = new java.util.TreeSet<>();
    xs.add(area.x + GAP);
    ys.add(area.y);
    for (Rectangle r : taken) {
      xs.add(r.x + r.width + GAP);
      ys.add(r.y + r.height + GAP);
    }
    for (int y : ys) {
      if (y < area.y) continue;
      for (int x : xs) {
        Rectangle want = new Rectangle(x, y, size.width, size.height);
        if (x + size.width > area.x + area.width || y + size.height > area.y + area.height) continue;
        boolean free = true;
        for (Rectangle r : taken) {
          if (r.intersects(want)) {
            free = false;
            break;
          }
        }
        if (free) return new java.awt.Point(x, y);
      }
    }
    return null;
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
