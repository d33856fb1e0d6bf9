package org.diffxai.fiji;

import org.diffxai.run.ParameterSpec;
import ij.IJ;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import ij.plugin.frame.Recorder;
import java.awt.Button;
import java.awt.Checkbox;
import java.awt.Choice;
import java.awt.EventQueue;
import java.awt.TextField;
import java.awt.Window;
import java.awt.event.ActionEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs inside the real ImageJ application with its window (started with {@code -run "Diffusion Test Recorder
 * Scenario"} under Xvfb) and plays a user: opens the macro Recorder, chooses the menu command "Diffusion Test Write",
 * fills its GenericDialog, presses OK, then reads what the Recorder wrote and replays it with {@code IJ.run} as a macro
 * would. Prints {@code RECORDED: ...}, {@code REPLAY_SAME: true|false} and {@code SCENARIO_OK} to stdout, then exits
 * the JVM (0 on success, 1 with {@code SCENARIO_FAILED} and a stack trace).
 */
public class RecorderScenario implements PlugIn {

  static final String LABEL = "Diffusion Test Write";

  @Override
  public void run(String arg) {
    Thread t = new Thread(() -> {
      try {
        scenario(Paths.get(arg));
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
    }, "recorder-scenario");
    t.start();
  }

  private static void scenario(Path dir) throws Exception {
    Files.createDirectories(dir);
    Path out = dir.resolve("rec out.txt");
    EventQueue.invokeAndWait(() -> new Recorder());
    if (!Recorder.record) throw new AssertionError("Recorder did not start recording");

    IJ.doCommand(LABEL); // as a menu click: runs in its own thread, records when done
    GenericDialog gd = waitForDialog(LABEL, 20000);

    Map<String, String> texts = new HashMap<>();
    texts.put("count", "7");
    texts.put("text", "hello world");
    texts.put("scale", "0.25");
    texts.put("wait_ms", "0");
    texts.put("output", out.toString());
    Map<String, String> choices = new HashMap<>();
    choices.put("mode", "slow");
    choices.put("fail", "none");
    EventQueue.invokeAndWait(() -> {
      CommandSpec spec = CommandSpec.of(TestWriteCommand.class);
      int ti = 0;
      int ci = 0;
      int bi = 0;
      for (ParameterSpec p : spec.parameters()) {
        if (p.kind() == ParameterSpec.Kind.BOOLEAN) {
          ((Checkbox) gd.getCheckboxes().get(bi++)).setState(true);
        } else if (!p.choices().isEmpty()) {
          ((Choice) gd.getChoices().get(ci++)).select(choices.get(p.name()));
        } else {
          ((TextField) gd.getStringFields().get(ti++)).setText(texts.get(p.name()));
        }
      }
      Button ok = null;
      StringBuilder labels = new StringBuilder();
      for (Button b : gd.getButtons()) {
        if (b == null) continue;
        labels.append('[').append(b.getLabel()).append(']');
        if (ok == null && b.getLabel() != null && b.getLabel().trim().equals("OK")) ok = b;
      }
      if (ok == null) throw new AssertionError("no OK button among " + labels);
      gd.actionPerformed(new ActionEvent(ok, ActionEvent.ACTION_PERFORMED, ok.getLabel()));
    });

    String line = waitForRecording(20000);
    System.out.println("RECORDED: " + line);
    String first = waitForFile(out, 20000);

    Matcher m = Pattern.compile("run\\(\"" + Pattern.quote(LABEL) + "\", \"(.*)\"\\);").matcher(line);
    if (!m.find()) throw new AssertionError("not a run(...) line: " + line);
    Files.delete(out);
    IJ.run(LABEL, m.group(1)); // replay as a macro or script would
    String second = waitForFile(out, 20000);
    System.out.println("REPLAY_SAME: " + first.equals(second));
    System.out.println("CONTENT: " + first.replace("\n", "|"));
  }

  private static GenericDialog waitForDialog(String title, long millis) throws InterruptedException {
    long end = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < end) {
      for (Window w : Window.getWindows()) {
        if (w instanceof GenericDialog && w.isShowing() && title.equals(((GenericDialog) w).getTitle())) {
          return (GenericDialog) w;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no dialog \"" + title + "\" appeared");
  }

  private static String waitForRecording(long millis) throws InterruptedException {
    long end = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < end) {
      Recorder r = Recorder.getInstance();
      String text = r == null ? "" : r.getText();
      for (String line : text.split("\n")) {
        if (line.contains("run(\"" + LABEL + "\"")) return line.trim();
      }
      Thread.sleep(50);
    }
    Recorder r = Recorder.getInstance();
    throw new AssertionError("nothing recorded; recorder text: " + (r == null ? null : r.getText()));
  }

  private static String waitForFile(Path p, long millis) throws Exception {
    long end = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < end) {
      if (Files.exists(p)) {
        Thread.sleep(100);
        return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no file " + p);
  }
}
