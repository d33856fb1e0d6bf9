package org.diffxai.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.WindowManager;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import ij.plugin.frame.Recorder;
import java.awt.Choice;
import java.awt.Component;
import java.awt.EventQueue;
import java.awt.TextField;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A user records a macro: with the Recorder open, Generate Phantoms and Explain with Prototypes are chosen from the
 * menu, their dialogs filled (text fields, the image choice left at the active image, the model choice set to a
 * bundled sample, an output folder typed) and run. The recorded lines are then replayed as a macro in a fresh
 * session (images closed, first results moved away), and every file is compared with the first run's: TIFF pixels,
 * CSV text. Prints {@code FACT recorded.<n>}, {@code FACT replay.files} and {@code FACT replay.differ}.
 */
public class RecordReplayScenario implements PlugIn {

  @Override
  public void run(String arg) {
    GuiDriver.start("record-replay-scenario", () -> scenario(Paths.get(arg)));
  }

  private static void scenario(Path dir) throws Exception {
    Path out = dir.resolve("my results");
    EventQueue.invokeAndWait(Recorder::new);

    fill("Generate Phantoms", Map.of("count", "2", "size", "64", "output", out.resolve("phantoms").toString()));
    waitForLine("Generate Phantoms", 60000);
    GuiDriver.fact("active", WindowManager.getCurrentImage().getTitle());

    GenericDialog gd = open("Explain with Prototypes");
    GuiDriver.fact("explain.image.selected", ((Choice) CommandDialog.find(gd, "image")).getSelectedItem());
    set(gd, Map.of("model", "sample-ppnet", "top", "2", "device", "cpu", "output", out.resolve("explain").toString()));
    GuiDriver.press(gd, "OK");
    waitForLine("Explain with Prototypes", 300000);

    List<String> lines = new ArrayList<>();
    for (String line : Recorder.getInstance().getText().split("\n")) {
      if (line.startsWith("run(")) lines.add(line.trim());
    }
    for (int i = 0; i < lines.size(); i++) GuiDriver.fact("recorded." + i, lines.get(i));

    for (String line : lines) {
      if (!line.contains("\", \"")) throw new AssertionError("recorded without its options: " + line);
    }

    Path first = dir.resolve("first run");
    Files.move(out, first);
    closeImages();
    replay(String.join("\n", lines) + "\n", 300000);
    List<String> files = files(first);
    GuiDriver.fact("replay.files", String.join(" ; ", files));
    GuiDriver.fact("replay.same_names", files.equals(files(out)));
    List<String> differ = new ArrayList<>();
    for (String f : files) {
      if (!same(first.resolve(f), out.resolve(f))) differ.add(f);
    }
    GuiDriver.fact("replay.differ", String.join(" ; ", differ));
  }

  /**
   * Runs the macro on its own thread and waits for it, bounded: a dialog that opens meanwhile (a line that lost its
   * options) or the time running out fails the scenario with what is showing.
   */
  private static void replay(String macro, long millis) throws InterruptedException {
    Thread t = new Thread(() -> IJ.runMacro(macro), "Run$_replay");
    t.start();
    long end = System.currentTimeMillis() + millis;
    while (t.isAlive()) {
      for (java.awt.Window w : java.awt.Window.getWindows()) {
        if (w instanceof GenericDialog && w.isShowing()) {
          throw new AssertionError("the replay opened the dialog \"" + ((GenericDialog) w).getTitle() + "\"");
        }
      }
      if (System.currentTimeMillis() > end) {
        throw new AssertionError("the replay did not end within " + millis + " ms; showing: "
            + GuiDriver.showingTitles());
      }
      t.join(100);
    }
  }

  private static GenericDialog open(String label) throws Exception {
    IJ.doCommand(label);
    return GuiDriver.waitForDialog(label, 20000);
  }

  private static void fill(String label, Map<String, String> values) throws Exception {
    GenericDialog gd = open(label);
    set(gd, values);
    GuiDriver.press(gd, "OK");
  }

  /** Types into text fields and picks drop-down entries, as a user would. */
  private static void set(GenericDialog gd, Map<String, String> values) throws Exception {
    EventQueue.invokeAndWait(() -> {
      for (Map.Entry<String, String> e : values.entrySet()) {
        Component c = CommandDialog.find(gd, e.getKey());
        if (c instanceof Choice) ((Choice) c).select(e.getValue());
        else ((TextField) c).setText(e.getValue());
      }
    });
  }

  private static void waitForLine(String label, long millis) throws InterruptedException {
    long end = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < end) {
      if (Recorder.getInstance().getText().contains("run(\"" + label + "\"")) return;
      Thread.sleep(100);
    }
    throw new AssertionError("nothing recorded for " + label + " within " + millis + " ms; showing: "
        + GuiDriver.showingTitles() + "; recorded: " + Recorder.getInstance().getText());
  }

  private static void closeImages() throws Exception {
    EventQueue.invokeAndWait(() -> {
      int[] ids = WindowManager.getIDList();
      for (int id : ids == null ? new int[0] : ids) {
        ImagePlus imp = WindowManager.getImage(id);
        imp.changes = false;
        imp.close();
      }
    });
  }

  /** The files below a folder, relative and sorted. */
  private static List<String> files(Path root) throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted()
          .collect(Collectors.toList());
    }
  }

  /** TIFFs: the same pixels; CSV: the same text; JSON (provenance with the date) is not compared. */
  private static boolean same(Path a, Path b) throws Exception {
    String name = a.getFileName().toString();
    if (name.endsWith(".json")) return true;
    if (name.endsWith(".csv")) {
      return new String(Files.readAllBytes(a), StandardCharsets.UTF_8)
          .equals(new String(Files.readAllBytes(b), StandardCharsets.UTF_8));
    }
    if (name.endsWith(".tif")) {
      ImagePlus x = IJ.openImage(a.toString());
      ImagePlus y = IJ.openImage(b.toString());
      ImageStack sx = x.getStack();
      ImageStack sy = y.getStack();
      if (sx.getSize() != sy.getSize()) return false;
      for (int i = 1; i <= sx.getSize(); i++) {
        Object px = sx.getPixels(i);
        Object py = sy.getPixels(i);
        boolean eq = px instanceof float[] ? Arrays.equals((float[]) px, (float[]) py)
            : px instanceof int[] ? Arrays.equals((int[]) px, (int[]) py)
            : px instanceof short[] ? Arrays.equals((short[]) px, (short[]) py)
            : Arrays.equals((byte[]) px, (byte[]) py);
        if (!eq) return false;
      }
      return true;
    }
    return Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(b));
  }
}
