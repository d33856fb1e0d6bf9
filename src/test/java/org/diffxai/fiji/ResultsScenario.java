package org.diffxai.fiji;

import ij.CompositeImage;
import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.GenericDialog;
import ij.gui.ImageWindow;
import ij.gui.PlotWindow;
import ij.plugin.PlugIn;
import ij.process.LUT;
import ij.text.TextWindow;
import java.awt.Choice;
import java.awt.Component;
import java.awt.Dialog;
import java.awt.Frame;
import java.awt.Rectangle;
import java.awt.Window;
import java.awt.event.ItemEvent;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs the commands as a user would see their results in the ImageJ window (macro options, not batch mode) and prints
 * what every result window shows: title, composite mode, per-channel lookup table and display range, magnification,
 * window kind and bounds, the calibration bar's text, overlaps between windows; the status bar texts seen while
 * TensorFlow and the model load; and a dialog run that fails (error text, status bar, what the next dialog shows).
 * Screenshots of the whole screen go to the folder given as argument.
 */
public class ResultsScenario implements PlugIn {

  @Override
  public void run(String arg) {
    GuiDriver.start("results-scenario", () -> scenario(Paths.get(arg)));
  }

  private static void scenario(Path shots) throws Exception {
    Set<String> statuses = new LinkedHashSet<>();
    Thread watcher = new Thread(() -> {
      while (true) {
        String s = GuiDriver.statusText();
        if (s != null && !s.isEmpty()) {
          synchronized (statuses) {
            statuses.add(s);
          }
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "status-watcher");
    watcher.setDaemon(true);
    watcher.start();

    // 1. Synthesize twice: unique titles, grey composite trajectory, zoom, tiling; status while TensorFlow loads
    List<Window> before = resultWindows();
    IJ.run("Synthesize", "model=sample samples=2 steps=10 keep_every=2 seed=1 device=cpu");
    IJ.run("Synthesize", "model=sample samples=2 steps=10 keep_every=2 seed=2 device=cpu");
    synchronized (statuses) {
      GuiDriver.fact("statuses", String.join(" | ", statuses));
    }
    describeAll("synthesize", before);
    GuiDriver.screenshot(null, shots.resolve("results-synthesize.png"));
    // the next stage starts from the trajectory it explains, moved to the corner (a full screen makes new windows
    // cover the oldest, and first-fit placement can then make new ones overlap each other too)
    closeAllBut("Trajectory-2");
    java.awt.EventQueue.invokeAndWait(() -> WindowManager.getImage("Trajectory-2").getWindow().setLocation(8,
        IJ.getInstance().getY() + IJ.getInstance().getHeight() + 8));
    before = resultWindows();

    // 2. Explain Trajectory and Trajectory Profile on the second trajectory: heat maps on one scale, live plots
    IJ.run("Explain Trajectory", "trajectory=Trajectory-2 model=sample-ppnet top=2 device=cpu");
    IJ.run("Trajectory Profile", "image=Trajectory-2");
    describeAll("trajectory", before);
    GuiDriver.screenshot(null, shots.resolve("results-explain-trajectory.png"));
    closeAll();

    // 3. Phantoms, their explanation and faithfulness and comparison plots
    before = resultWindows();
    IJ.run("Generate Phantoms", "count=2 size=64 seed=1");
    IJ.run("Explain with Prototypes", "image=Phantoms model=sample-ppnet top=2 device=cpu");
    GuiDriver.screenshot(null, shots.resolve("results-explain-prototypes.png"));
    IJ.run("Faithfulness Score", "model=sample-ppnet image=Phantoms attribution=prototypes metric=deletion"
        + " device=cpu");
    IJ.run("Compare Explanation Methods", "images=Phantoms models=sample-ppnet metric=deletion bootstrap=50"
        + " randomization=none device=cpu");
    describeAll("explain", before);
    GuiDriver.screenshot(null, shots.resolve("results-explain.png"));
    closeAll();

    // 4. A dialog run that fails: the error names the field, the status bar is cleared, the value is not kept
    CommandDialog.chooser = (style, key, current) -> "/nonexistent";
    IJ.doCommand("Synthesize");
    GenericDialog gd = GuiDriver.waitForDialog("Synthesize", 20000);
    Choice model = (Choice) CommandDialog.find(gd, "model");
    java.awt.EventQueue.invokeAndWait(() -> {
      model.select(CommandDialog.CHOOSE_MODEL);
      model.dispatchEvent(new ItemEvent(model, ItemEvent.ITEM_STATE_CHANGED, CommandDialog.CHOOSE_MODEL,
          ItemEvent.SELECTED));
    });
    GuiDriver.fact("error.chosen", model.getSelectedItem());
    GuiDriver.press(gd, "OK");
    Dialog error = GuiDriver.waitFor(Dialog.class, d -> d.getTitle().equals("Synthesize") && d != gd
        && !(d instanceof GenericDialog), 60000, "error message");
    List<String> texts = new ArrayList<>();
    collectTexts(error, texts);
    GuiDriver.fact("error.text", String.join(" ", texts));
    GuiDriver.fact("error.status", GuiDriver.statusText());
    GuiDriver.screenshot(error, shots.resolve("error-dialog.png"));
    error.dispose();
    Thread.sleep(500);
    IJ.doCommand("Synthesize");
    GenericDialog again = GuiDriver.waitForDialog("Synthesize", 20000);
    GuiDriver.fact("error.next_model", ((Choice) CommandDialog.find(again, "model")).getSelectedItem());
    GuiDriver.press(again, "Cancel");
    GuiDriver.waitGone(again, 10000);
  }

  private static void collectTexts(java.awt.Container c, List<String> out) {
    for (Component k : c.getComponents()) {
      if (k instanceof java.awt.Label || k.getClass().getSimpleName().equals("MultiLineLabel")) {
        out.add(GuiDriver.text(k));
      } else if (k instanceof java.awt.Container) {
        collectTexts((java.awt.Container) k, out);
      }
    }
  }

  /** The visible result windows (not the ImageJ bar, not the Log), oldest first. */
  private static List<Window> resultWindows() {
    List<Window> shown = new ArrayList<>();
    for (Window w : Window.getWindows()) {
      if (w.isShowing() && w instanceof Frame && w != IJ.getInstance() && !((Frame) w).getTitle().equals("Log")) {
        shown.add(w);
      }
    }
    return shown;
  }

  /** An image window's image title (the frame's title adds the zoom, "Synthesized (400%)"), else the frame's. */
  private static String title(Window w) {
    return w instanceof ImageWindow ? ((ImageWindow) w).getImagePlus().getTitle() : ((Frame) w).getTitle();
  }

  /**
   * Facts about every visible result window, and whether any two windows a stage opened overlap (older ones may be
   * covered once the screen is full).
   */
  private static void describeAll(String stage, List<Window> before) throws Exception {
    Thread.sleep(1000);
    List<Window> fresh = new ArrayList<>();
    for (Window w : resultWindows()) {
      String p = stage + "." + title(w) + ".";
      Rectangle b = w.getBounds();
      GuiDriver.fact(p + "bounds", b.x + "," + b.y + "," + b.width + "," + b.height);
      GuiDriver.fact(p + "kind", w instanceof PlotWindow ? "plot" : w instanceof ImageWindow ? "image"
          : w instanceof TextWindow ? "table" : w.getClass().getName());
      if (w instanceof ImageWindow && !(w instanceof PlotWindow)) describe(p, ((ImageWindow) w).getImagePlus());
      if (w instanceof ImageWindow) {
        Component scale = CommandDialog.find(w, ChannelScale.NAME);
        GuiDriver.fact(p + "calibration", scale == null ? "" : ((ChannelScale) scale).text());
      }
      if (!before.contains(w)) fresh.add(w);
    }
    List<String> overlaps = new ArrayList<>();
    for (int i = 0; i < fresh.size(); i++) {
      for (int j = i + 1; j < fresh.size(); j++) {
        if (fresh.get(i).getBounds().intersects(fresh.get(j).getBounds())) {
          overlaps.add(title(fresh.get(i)) + " / " + title(fresh.get(j)));
        }
      }
    }
    GuiDriver.fact(stage + ".new_windows", fresh.size());
    GuiDriver.fact(stage + ".overlaps", String.join(" ; ", overlaps));
  }

  private static void describe(String p, ImagePlus imp) {
    GuiDriver.fact(p + "composite", imp.isComposite() ? ((CompositeImage) imp).getMode() == IJ.COLOR ? "color"
        : "mode" + ((CompositeImage) imp).getMode() : "no");
    GuiDriver.fact(p + "dims", imp.getNChannels() + "," + imp.getNSlices() + "," + imp.getNFrames());
    GuiDriver.fact(p + "type", imp.getBitDepth());
    GuiDriver.fact(p + "magnification", imp.getCanvas() == null ? 0 : imp.getCanvas().getMagnification());
    if (imp.getType() == ImagePlus.COLOR_RGB) return;
    for (int c = 1; c <= imp.getNChannels(); c++) {
      LUT lut = imp.isComposite() ? ((CompositeImage) imp).getChannelLut(c) : imp.getProcessor().getLut();
      double min = imp.isComposite() ? lut.min : imp.getDisplayRangeMin();
      double max = imp.isComposite() ? lut.max : imp.getDisplayRangeMax();
      GuiDriver.fact(p + "c" + c + ".lut", rgb(lut, 0) + " " + rgb(lut, 128) + " " + rgb(lut, 255));
      GuiDriver.fact(p + "c" + c + ".range", min + "," + max);
      GuiDriver.fact(p + "c" + c + ".label", imp.getStack().getSliceLabel(imp.getStackIndex(c, 1, 1)));
    }
  }

  private static String rgb(LUT lut, int i) {
    return lut.getRed(i) + "/" + lut.getGreen(i) + "/" + lut.getBlue(i);
  }

  /** Closes every image, plot and table window (the next stage starts on an empty screen). */
  private static void closeAll() throws Exception {
    closeAllBut("");
  }

  /** Closes every image and table window except the image with this title. */
  private static void closeAllBut(String keep) throws Exception {
    java.awt.EventQueue.invokeAndWait(() -> {
      for (int id : WindowManager.getIDList() == null ? new int[0] : WindowManager.getIDList()) {
        ImagePlus imp = WindowManager.getImage(id);
        if (imp != null && !imp.getTitle().equals(keep)) {
          imp.changes = false;
          imp.close();
        }
      }
      for (Window w : Window.getWindows()) {
        if (w instanceof TextWindow && w.isShowing() && !((Frame) w).getTitle().equals("Log")) {
          ((TextWindow) w).close(false);
        }
      }
    });
    Thread.sleep(500);
  }
}
