package org.diffxai.fiji;

import ij.IJ;
import ij.gui.GenericDialog;
import java.awt.Button;
import java.awt.Component;
import java.awt.EventQueue;
import java.awt.Frame;
import java.awt.Label;
import java.awt.Rectangle;
import java.awt.Robot;
import java.awt.Toolkit;
import java.awt.Window;
import java.awt.event.ActionEvent;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * Plays a user inside the real ImageJ application: scenarios are ImageJ plugins started with {@code -run "<label>"}
 * under Xvfb (see {@link ImageJApp#run}); they open dialogs as a menu click does, set fields, press buttons, take
 * screenshots with {@link Robot} and print what a user sees as {@code FACT key=value} lines, which the JUnit side reads
 * with {@link #facts(String)}. A scenario ends the JVM: 0 and {@code SCENARIO_OK}, or 1 and {@code SCENARIO_FAILED}
 * with the stack trace.
 */
final class GuiDriver {

  private GuiDriver() {}

  /** Work that may throw. */
  interface Body {
    void run() throws Exception;
  }

  /** Runs a scenario on its own thread (the plugin's run() must return so ImageJ keeps its event thread free). */
  static void start(String name, Body body) {
    Thread t = new Thread(() -> {
      try {
        body.run();
        System.out.println("SCENARIO_OK");
        System.out.flush();
        System.exit(0);
      } catch (Throwable e) {
        StringWriter sw = new StringWriter();
        e.printStackTrace(new PrintWriter(sw));
        System.out.println("SCENARIO_FAILED: " + sw);
        System.out.flush();
        System.exit(1);
      }
    }, name);
    t.start();
  }

  /** Prints a fact for the JUnit side (one line; line breaks shown as |). */
  static void fact(String key, Object value) {
    System.out.println("FACT " + key + "=" + String.valueOf(value).replace("\r", "").replace("\n", "|"));
    System.out.flush();
  }

  private static final Pattern FACT = Pattern.compile("(?m)^FACT ([^=\\n]+)=(.*)$");

  /** The facts a scenario printed, by key (the last value of a key wins). */
  static Map<String, String> facts(String stdout) {
    Map<String, String> out = new LinkedHashMap<>();
    Matcher m = FACT.matcher(stdout);
    while (m.find()) out.put(m.group(1), m.group(2));
    return out;
  }

  /** Waits for a showing window that matches. */
  static <T extends Window> T waitFor(Class<T> type, Predicate<T> match, long millis, String what)
      throws InterruptedException {
    long end = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < end) {
      for (Window w : Window.getWindows()) {
        if (type.isInstance(w) && w.isShowing() && match.test(type.cast(w))) return type.cast(w);
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no " + what + " appeared within " + millis + " ms; showing: " + showingTitles());
  }

  /** The dialog with this title. */
  static GenericDialog waitForDialog(String title, long millis) throws InterruptedException {
    return waitFor(GenericDialog.class, d -> title.equals(d.getTitle()), millis, "dialog \"" + title + "\"");
  }

  /** Waits until no showing window matches. */
  static void waitGone(Window w, long millis) throws InterruptedException {
    long end = System.currentTimeMillis() + millis;
    while (w.isShowing() && System.currentTimeMillis() < end) Thread.sleep(50);
    if (w.isShowing()) throw new AssertionError("window still showing: " + w);
  }

  static List<String> showingTitles() {
    List<String> out = new ArrayList<>();
    for (Window w : Window.getWindows()) {
      if (!w.isShowing()) continue;
      String t = w instanceof Frame ? ((Frame) w).getTitle() : w instanceof java.awt.Dialog
          ? ((java.awt.Dialog) w).getTitle() : w.getClass().getSimpleName();
      out.add(t);
    }
    return out;
  }

  /**
   * Presses a GenericDialog button ("OK", "Cancel", "Help") as a click would, on the event thread without waiting
   * (a button may open a modal window).
   */
  static void press(GenericDialog gd, String label) {
    StringBuilder labels = new StringBuilder();
    for (Button b : gd.getButtons()) {
      if (b == null) continue;
      labels.append('[').append(b.getLabel()).append(']');
      if (b.getLabel() != null && b.getLabel().trim().equals(label)) {
        ActionEvent click = new ActionEvent(b, ActionEvent.ACTION_PERFORMED, b.getLabel());
        EventQueue.invokeLater(() -> gd.actionPerformed(click));
        return;
      }
    }
    throw new AssertionError("no button " + label + " among " + labels);
  }

  /** The text of a dialog message: a Label's text or a MultiLineLabel's lines joined with "\n". */
  static String text(Component c) {
    if (c instanceof Label) return ((Label) c).getText();
    try {
      Field f = c.getClass().getDeclaredField("lines");
      f.setAccessible(true);
      return String.join("\n", (String[]) f.get(c));
    } catch (ReflectiveOperationException e) {
      return String.valueOf(c);
    }
  }

  /** Waits for painting, then saves what the screen shows inside the window (or the whole screen for null). */
  static void screenshot(Window w, Path png) throws Exception {
    Thread.sleep(700);
    EventQueue.invokeAndWait(() -> { }); // pending paints first
    Toolkit.getDefaultToolkit().sync();
    Rectangle r = w == null ? new Rectangle(Toolkit.getDefaultToolkit().getScreenSize()) : w.getBounds();
    BufferedImage img = new Robot().createScreenCapture(r);
    Files.createDirectories(png.getParent());
    ImageIO.write(img, "png", png.toFile());
    fact("screenshot." + png.getFileName(), png);
  }

  /** The text of ImageJ's status bar (the label inside {@code ImageJ.getStatusBar()}), or "". */
  static String statusText() {
    ij.ImageJ ij = IJ.getInstance();
    if (ij == null) return "";
    for (Component c : ij.getStatusBar().getComponents()) {
      if (c instanceof javax.swing.JLabel) return ((javax.swing.JLabel) c).getText();
      if (c instanceof Label) return ((Label) c).getText();
    }
    return "";
  }

  /** Runs an ImageJ command as a macro line would (waits for it), from this scenario thread. */
  static void run(String label, String options) {
    IJ.run(label, options);
  }
}
