package org.diffxai.fiji;

import org.diffxai.run.ParameterSpec;
import ij.IJ;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import ij.plugin.frame.Recorder;
import java.awt.Checkbox;
import java.awt.Choice;
import java.awt.Component;
import java.awt.EventQueue;
import java.awt.TextField;
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
 * the JVM (see {@link GuiDriver#start}).
 */
public class RecorderScenario implements PlugIn {

  static final String LABEL = "Diffusion Test Write";

  @Override
  public void run(String arg) {
    GuiDriver.start("recorder-scenario", () -> scenario(Paths.get(arg)));
  }

  private static void scenario(Path dir) throws Exception {
    Files.createDirectories(dir);
    Path out = dir.resolve("rec out.txt");
    EventQueue.invokeAndWait(() -> new Recorder());
    if (!Recorder.record) throw new AssertionError("Recorder did not start recording");

    IJ.doCommand(LABEL); // as a menu click: runs in its own thread, records when done
    GenericDialog gd = GuiDriver.waitForDialog(LABEL, 20000);

    Map<String, String> values = new HashMap<>();
    values.put("count", "7");
    values.put("text", "hello world");
    values.put("scale", "0.25");
    values.put("wait_ms", "0");
    values.put("output", out.toString());
    values.put("mode", "slow");
    values.put("fail", "none");
    EventQueue.invokeAndWait(() -> {
      for (ParameterSpec p : CommandSpec.of(TestWriteCommand.class).parameters()) {
        Component c = CommandDialog.find(gd, p.name());
        if (c instanceof Checkbox) ((Checkbox) c).setState(true);
        else if (c instanceof Choice) ((Choice) c).select(values.get(p.name()));
        else ((TextField) c).setText(values.get(p.name()));
      }
    });
    GuiDriver.press(gd, "OK");

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
