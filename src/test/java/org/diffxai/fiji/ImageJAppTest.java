package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Macros in the real ImageJ 1.x application (Debian's ij.jar 1.53t; one test also with Maven's ij 1.54p, the version
 * Fiji ships) under Xvfb: plugins.config menu entries, the bridge, macro options, errors, the recorder.
 */
class ImageJAppTest {

  static final String MENU = "Plugins>Diffusion XAI Test, ";
  static final String WRITE_ENTRY =
      MENU + "\"Diffusion Test Write\", org.diffxai.fiji.CommandBridge(\"org.diffxai.fiji.TestWriteCommand\")";

  static Path work;
  static ImageJApp app;

  @BeforeAll
  static void install() throws Exception {
    work = Files.createTempDirectory("diffxai-ijtest-");
    app = ImageJApp.builder().dir(work.resolve("ImageJ")).withTestClasses().menuEntry(WRITE_ENTRY)
        .menuEntry(MENU + "\"Diffusion Test Missing\", org.diffxai.fiji.CommandBridge(\"org.diffxai.fiji.NoSuch\")")
        .menuEntry(MENU + "\"Diffusion Test Recorder Scenario\", org.diffxai.fiji.RecorderScenario(\""
            + work.resolve("recorder") + "\")")
        .build();
  }

  @AfterAll
  static void remove() {
    if (app != null) app.close();
    ImageJApp.deleteTree(work);
  }

  static String writeMacro(String options) {
    return "setBatchMode(true);\nrun(\"Diffusion Test Write\", \"" + options + "\");\nprint(\"after run\");";
  }

  static void assertWritten(Path out, ImageJApp.Result r) {
    assertTrue(r.completed(), r.toString());
    assertTrue(r.log().contains("after run"), r.toString());
    assertTrue(Files.exists(out), r.toString());
    String s = ImageJApp.read(out);
    assertTrue(s.contains("count=3\ntext=x y\nmode=slow\nscale=0.25\nflag=true\n"), s);
    // Inside ImageJ the command ran with the plugin class loader as context class loader; no Context in plain IJ1.
    assertTrue(s.contains("context_class_loader=ij.io.PluginClassLoader\nsame_loader=true\nlog_service=false\n"), s);
  }

  @Test
  void macroRunsCommandWithOptions(@TempDir Path tmp) {
    Path out = tmp.resolve("out 1.txt");
    ImageJApp.Result r = app.runMacro(writeMacro("count=3 text=[x y] mode=slow scale=0.25 flag output=[" + out + "]"));
    assertWritten(out, r);
    assertFalse(Files.exists(tmp.resolve("out 1.txt.partial")));
  }

  @Test
  void macroRunsInImageJ154(@TempDir Path tmp) {
    Optional<Path> ij154 = ImageJApp.mavenIjJar();
    Assumptions.assumeTrue(ij154.isPresent(), "no ij-1.x.jar on the test class path");
    try (ImageJApp app154 = ImageJApp.builder().dir(tmp.resolve("ImageJ154")).ijJar(ij154.get()).withTestClasses()
        .menuEntry(WRITE_ENTRY).menuEntry(MENU + "\"Diffusion Test Recorder Scenario\", "
            + "org.diffxai.fiji.RecorderScenario(\"" + tmp.resolve("recorder") + "\")").build()) {
      Path out = tmp.resolve("out.txt");
      assertWritten(out, app154.runMacro(writeMacro("count=3 text=[x y] mode=slow scale=0.25 flag output=" + out)));
      // and the unknown-key error stops the macro there too
      ImageJApp.Result r = app154.runMacro(writeMacro("cuont=3 output=" + out));
      assertFalse(r.completed(), r.toString());
      assertTrue(r.log().contains("Unknown key \"cuont\""), r.toString());
      assertRecorded(app154.run("-run", "Diffusion Test Recorder Scenario"), tmp.resolve("recorder"));
    }
  }

  @Test
  void unknownKeyAbortsMacroAndListsValidKeys(@TempDir Path tmp) {
    ImageJApp.Result r = app.runMacro(writeMacro("cuont=3 output=[" + tmp.resolve("o.txt") + "]"));
    assertFalse(r.timedOut(), r.toString());
    assertFalse(r.completed(), "the macro must stop\n" + r);
    assertFalse(r.log().contains("after run"), r.toString());
    assertTrue(r.log().contains("Diffusion Test Write: Unknown key \"cuont\" for Diffusion Test Write. Did you mean"
        + " \"count\"? Valid keys: count, text, mode, scale, flag, fail, wait_ms, output."), r.toString());
    assertFalse(Files.exists(tmp.resolve("o.txt")));
  }

  @Test
  void badValueAndUserErrorAbortMacroWithMessageOnly(@TempDir Path tmp) {
    ImageJApp.Result r = app.runMacro(writeMacro("mode=medium output=" + tmp.resolve("o.txt")));
    assertFalse(r.completed(), r.toString());
    assertTrue(r.log().contains("Invalid value for \"mode\": \"medium\". Choose one of: fast, slow."), r.toString());

    r = app.runMacro(writeMacro("fail=user output=" + tmp.resolve("o.txt")));
    assertFalse(r.completed(), r.toString());
    assertTrue(r.log().contains("Diffusion Test Write: Failure requested with fail=user. Use fail=none to succeed."),
        r.toString());
    assertFalse(r.log().contains("\tat "), "no stack trace for a user error\n" + r);
    assertFalse(Files.exists(tmp.resolve("o.txt.partial")));
  }

  @Test
  void bugWritesStackTraceToLogAndStopsMacro(@TempDir Path tmp) {
    ImageJApp.Result r = app.runMacro(writeMacro("fail=bug output=" + tmp.resolve("o.txt")));
    assertFalse(r.completed(), r.toString());
    assertTrue(r.log().contains("Diffusion Test Write failed: java.lang.IllegalStateException: deliberate bug for"
        + " testing"), r.toString());
    assertTrue(r.log().contains("at org.diffxai.fiji.TestWriteCommand.run"), r.toString());
  }

  @Test
  void cancelStopsMacroAndLeavesNoPartialFile(@TempDir Path tmp) {
    ImageJApp.Result r = app.runMacro(writeMacro("fail=cancel output=" + tmp.resolve("o.txt")));
    assertFalse(r.completed(), r.toString());
    assertTrue(r.log().contains("Diffusion Test Write: cancelled."), r.toString());
    assertFalse(Files.exists(tmp.resolve("o.txt")));
    assertFalse(Files.exists(tmp.resolve("o.txt.partial")));
  }

  @Test
  void missingCommandClassGivesClearError() {
    ImageJApp.Result r = app.runMacro("run(\"Diffusion Test Missing\", \"a=1\");\nprint(\"after run\");");
    assertFalse(r.completed(), r.toString());
    assertTrue(r.log().contains("The command class org.diffxai.fiji.NoSuch is not installed."), r.toString());
  }

  @Test
  void recorderWritesKeysThatReplay() {
    // The ImageJ window, a user's menu click and dialog (simulated), and the Recorder: see RecorderScenario.
    assertRecorded(app.run("-run", "Diffusion Test Recorder Scenario"), work.resolve("recorder"));
  }

  static void assertRecorded(ImageJApp.Result r, Path dir) {
    assertTrue(r.stdout().contains("SCENARIO_OK"), r.toString());
    Path out = dir.resolve("rec out.txt");
    assertTrue(r.stdout().contains("RECORDED: run(\"Diffusion Test Write\", \"count=7 text=[hello world] mode=slow"
        + " scale=0.25 flag fail=none wait_ms=0 output=[" + out + "]\");"), r.toString());
    assertTrue(r.stdout().contains("REPLAY_SAME: true"), r.toString());
    assertTrue(r.stdout().contains("CONTENT: count=7|text=hello world|mode=slow|scale=0.25|flag=true|"), r.toString());
    assertEquals(0, r.exitCode(), r.toString());
  }
}
