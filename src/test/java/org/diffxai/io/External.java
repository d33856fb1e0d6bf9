package org.diffxai.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Independent readers used by the I/O tests: Debian's ImageJ in a separate JVM and Debian's python3-tifffile. */
public final class External {
  static final String DEBIAN_IJ = "/usr/share/java/ij.jar";
  static final String PYTHON = "/usr/bin/python3";

  private External() {}

  /** Runs a command and returns its stdout; fails the test on a non-zero exit or a timeout. */
  public static String run(List<String> cmd) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(false);
    Process p = pb.start();
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    Thread t1 = pump(p.getInputStream(), out), t2 = pump(p.getErrorStream(), err);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("timed out: " + cmd);
    }
    t1.join();
    t2.join();
    String o = out.toString(StandardCharsets.UTF_8.name());
    if (p.exitValue() != 0) fail("exit " + p.exitValue() + " from " + cmd + "\n" + o + "\n" + err);
    return o;
  }

  private static Thread pump(InputStream in, ByteArrayOutputStream to) {
    Thread t = new Thread(() -> {
      byte[] b = new byte[8192];
      int n;
      try {
        while ((n = in.read(b)) > 0) to.write(b, 0, n);
      } catch (IOException e) {
        // process ended
      }
    });
    t.start();
    return t;
  }

  /** Opens the file with Debian's ImageJ (a different, older version) and returns its key=value report. */
  public static Map<String, String> debianImageJ(Path file) throws Exception {
    assertTrue(Files.isRegularFile(Paths.get(DEBIAN_IJ)),
        "Debian's ImageJ is needed for this test: apt-get install imagej (provides " + DEBIAN_IJ + ")");
    Path classes = Paths.get(DebianImageJProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    String javaBin = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    // Debian's jar first, so every ij.* class comes from it.
    String out = run(Arrays.asList(javaBin, "-Djava.awt.headless=true", "-cp", DEBIAN_IJ + java.io.File.pathSeparator
        + classes, DebianImageJProbe.class.getName(), file.toString()));
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) m.put(line.substring(0, eq), line.substring(eq + 1));
    }
    return m;
  }

  /** A mounted file system; closing unmounts it. */
  public interface Mount extends AutoCloseable {
    @Override
    void close() throws Exception;
  }

  /**
   * Mounts a tmpfs of {@code size} (e.g. "1m") at {@code dir}, a real small disk that fills up; skips the calling test
   * where mounting is not allowed (it needs root).
   */
  public static Mount tmpfs(Path dir, String size) throws Exception {
    Files.createDirectories(dir);
    Assumptions.assumeTrue(succeeds("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()),
        "cannot mount a tmpfs here (needs root)");
    return () -> assertTrue(succeeds("umount", dir.toString()), "umount " + dir);
  }

  private static boolean succeeds(String... cmd) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /** Skips the calling test when Debian's python3 lacks tifffile (CI installs it). */
  public static void assumeTifffile() throws Exception {
    boolean ok;
    try {
      Process p = new ProcessBuilder(PYTHON, "-c", "import tifffile, numpy").redirectErrorStream(true).start();
      ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      ok = false;
    }
    Assumptions.assumeTrue(ok, PYTHON + " has no tifffile/numpy (apt-get install python3-tifffile)");
  }

  /** Runs a Python script with /usr/bin/python3, arguments after the script; returns stdout lines. */
  public static List<String> python(String script, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(Arrays.asList(PYTHON, "-c", script));
    cmd.addAll(Arrays.asList(args));
    return Arrays.asList(run(cmd).split("\n"));
  }
}
