package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: usage paths in-process, exit codes, errors and cancellation in a real JVM process. */
class CliTest {

  static final String LABEL = "Diffusion Test Write";

  static final class Out {
    int code;
    String out;
    String err;

    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
    }
  }

  static Out inProcess(String... args) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    Out r = new Out();
    r.code = Cli.run(args, new PrintStream(o, true), new PrintStream(e, true));
    r.out = new String(o.toByteArray(), StandardCharsets.UTF_8);
    r.err = new String(e.toByteArray(), StandardCharsets.UTF_8);
    return r;
  }

  static List<String> javaCommand(String... args) {
    String cp = ImageJApp.testClassPath().stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
    List<String> cmd = new ArrayList<>(Arrays.asList(ImageJApp.javaExecutable(), "-cp", cp));
    int i = 0;
    while (i < args.length && args[i].startsWith("-D")) cmd.add(args[i++]);
    cmd.add("org.diffxai.fiji.Cli");
    cmd.addAll(Arrays.asList(args).subList(i, args.length));
    return cmd;
  }

  static ImageJApp.Result process(Path dir, String... args) {
    return ImageJApp.exec(javaCommand(args), dir, Duration.ofSeconds(60));
  }

  static List<String> lines(String s) {
    return Arrays.stream(s.split("\n")).filter(l -> !l.isEmpty()).collect(Collectors.toList());
  }

  @Test
  void listsCommands() {
    Out r = inProcess("--help");
    assertEquals(0, r.code, r.toString());
    assertTrue(r.out.contains("Commands:\n"), r.toString());
    assertTrue(r.out.contains("  " + LABEL + "\n"), r.toString());
    Out none = inProcess();
    assertEquals(Cli.USAGE, none.code);
    assertTrue(none.err.contains("  " + LABEL + "\n"), none.toString());
  }

  @Test
  void commandHelpListsKeysWithDefaultsAndDescriptions() {
    Out r = inProcess(LABEL, "--help");
    assertEquals(0, r.code, r.toString());
    assertTrue(r.out.startsWith(LABEL + "\nWrites its parameters to a file (front-end test command).\n"), r.out);
    assertTrue(r.out.contains("  count    whole number from 0 to 100; default: 1\n"
        + "           A whole number.\n"), r.out);
    assertTrue(r.out.contains("  mode     one of fast, slow; default: fast\n"), r.out);
    assertTrue(r.out.contains("  flag     flag, off unless given\n"), r.out);
    assertTrue(r.out.contains("  output   text; default: []\n"), r.out);
    assertTrue(r.out.contains("\"count=1 text=x mode=fast scale=0.5 fail=none wait_ms=0 output=[]\""), r.out);
  }

  @Test
  void usageErrorsExitWith2() {
    Out r = inProcess("Diffusion Test Wrte", "count=1");
    assertEquals(Cli.USAGE, r.code, r.toString());
    assertTrue(r.err.startsWith("Error: Unknown command \"Diffusion Test Wrte\". Commands: "), r.toString());
    r = inProcess(LABEL, "cuont=1");
    assertEquals(Cli.USAGE, r.code, r.toString());
    assertEquals("Error: Unknown key \"cuont\" for Diffusion Test Write. Did you mean \"count\"? Valid keys: count,"
        + " text, mode, scale, flag, fail, wait_ms, output.\n", r.err);
    r = inProcess(LABEL, "count=many");
    assertEquals(Cli.USAGE, r.code, r.toString());
    assertEquals("Error: Invalid value for \"count\": \"many\" is not a whole number from 0 to 100.\n", r.err);
  }

  @Test
  void labelsMatchIgnoringCase() {
    assertEquals(0, inProcess("diffusion test write", "--help").code);
  }

  @Test
  void joinsSeparateArgumentsAndBracketsValuesWithSpaces() {
    assertEquals("count=3 text=[a b] flag output=[/x y/z]",
        Cli.joinOptions(new String[] {LABEL, "count=3", "text=a b", "flag", "output=[/x y/z]"}));
    assertEquals("count=3 text=a b", Cli.joinOptions(new String[] {LABEL, "count=3 text=a b"}));
  }

  @Test
  void runsCommandInProcess(@TempDir Path tmp) {
    Path out = tmp.resolve("a b.txt");
    ImageJApp.Result r = process(tmp, LABEL, "count=3", "text=x y", "flag", "output=" + out);
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals("", r.stdout(), "outputs are not printed\n" + r);
    String s = ImageJApp.read(out);
    assertTrue(s.startsWith("count=3\ntext=x y\nmode=fast\nscale=0.5\nflag=true\n"), s);
    assertTrue(s.contains("same_loader=true\nlog_service=false\nheadless=true\n"), s);
  }

  @Test
  void userErrorIsOneLineWithExit1(@TempDir Path tmp) {
    ImageJApp.Result r = process(tmp, LABEL, "fail=user output=" + tmp.resolve("o.txt"));
    assertEquals(Cli.ERROR, r.exitCode(), r.toString());
    assertEquals(Arrays.asList("Error: Failure requested with fail=user. Use fail=none to succeed."),
        lines(r.stderr()), r.toString());
  }

  @Test
  void unknownKeyExitsWith2InRealProcess(@TempDir Path tmp) {
    ImageJApp.Result r = process(tmp, LABEL, "cuont=1");
    assertEquals(Cli.USAGE, r.exitCode(), r.toString());
    assertEquals(1, lines(r.stderr()).size(), r.toString());
    assertTrue(r.stderr().contains("Valid keys: count, text, mode, scale, flag, fail, wait_ms, output."), r.toString());
  }

  @Test
  void bugShowsStackTraceOnlyInDebugMode(@TempDir Path tmp) {
    ImageJApp.Result r = process(tmp, LABEL, "fail=bug output=" + tmp.resolve("o.txt"));
    assertEquals(Cli.ERROR, r.exitCode(), r.toString());
    assertEquals(Arrays.asList("Error: Diffusion Test Write failed: java.lang.IllegalStateException: deliberate bug"
        + " for testing (run with -Ddiffxai.debug=true for details)"), lines(r.stderr()), r.toString());
    r = process(tmp, "-Ddiffxai.debug=true", LABEL, "fail=bug output=" + tmp.resolve("o.txt"));
    assertEquals(Cli.ERROR, r.exitCode(), r.toString());
    assertTrue(r.stderr().contains("\tat org.diffxai.fiji.TestWriteCommand.run"), r.toString());
  }

  @Test
  void cancelledCommandExitsWith130(@TempDir Path tmp) {
    ImageJApp.Result r = process(tmp, LABEL, "fail=cancel output=" + tmp.resolve("o.txt"));
    assertEquals(Cli.CANCELLED, r.exitCode(), r.toString());
    assertTrue(r.stderr().endsWith("Cancelled.\n"), r.toString());
  }

  @Test
  void progressLinesAreThrottled(@TempDir Path tmp) {
    // 40 reports in 2 s; one line per second plus the first and the final one.
    ImageJApp.Result r = process(tmp, LABEL, "wait_ms=2000 output=" + tmp.resolve("o.txt"));
    assertEquals(0, r.exitCode(), r.toString());
    List<String> l = lines(r.stderr());
    assertTrue(l.size() >= 3 && l.size() <= 6, r.toString());
    assertTrue(l.get(0).startsWith("[  0%] Waiting 0 ms"), r.toString());
    assertEquals("[100%] Done", l.get(l.size() - 1), r.toString());
  }

  @Test
  void ctrlCCancelsWaitsForCleanUpAndExits130(@TempDir Path tmp) throws Exception {
    assertSignalCancels(tmp, "INT", 130);
  }

  @Test
  void sigtermCancelsAndWaitsForCleanUp(@TempDir Path tmp) throws Exception {
    assertSignalCancels(tmp, "TERM", 143);
  }

  private static void assertSignalCancels(Path tmp, String signal, int expectedCode) throws Exception {
    Path out = tmp.resolve("o.txt");
    Path err = tmp.resolve("err.txt");
    Process p = new ProcessBuilder(javaCommand(LABEL, "wait_ms=60000 output=" + out)).redirectErrorStream(false)
        .redirectError(err.toFile()).redirectOutput(tmp.resolve("out.txt").toFile()).start();
    try {
      long end = System.currentTimeMillis() + 30000;
      while (!Files.exists(tmp.resolve("o.txt.partial")) || !read(err).contains("Waiting")) {
        assertTrue(System.currentTimeMillis() < end && p.isAlive(), "command did not start: " + read(err));
        Thread.sleep(50);
      }
      new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "no exit after SIG" + signal);
      String e = read(err);
      assertEquals(expectedCode, p.exitValue(), e);
      assertTrue(e.contains("Cancelling Diffusion Test Write (waiting up to 30 s for it to clean up)...\n"), e);
      assertTrue(e.endsWith("Cancelled.\n"), e);
      assertFalse(Files.exists(tmp.resolve("o.txt.partial")), "partial file left behind");
      assertFalse(Files.exists(out));
    } finally {
      p.destroyForcibly();
    }
  }

  private static String read(Path p) throws IOException {
    return Files.exists(p) ? new String(Files.readAllBytes(p), StandardCharsets.UTF_8) : "";
  }
}
