package org.diffxai.fiji;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The real ImageJ 1.x application as a test client. It installs the plugin the way a user does and runs macros in a
 * separate JVM on a virtual display:
 *
 * <pre>
 * ImageJApp app = ImageJApp.builder().build();           // DIR/plugins/Diffusion_XAI.jar + DIR/plugins/jars/*.jar
 * ImageJApp.Result r = app.runMacro("run(\"Synthesize\", \"model=sample samples=1 output=[/tmp/x]\");");
 * assertTrue(r.completed(), r.toString());                // the macro ran to its end
 * r.log();                                                // what IJ.log/print wrote (stdout in -batch mode)
 * </pre>
 *
 * <p>The plugin jar is built here from {@code target/classes} (and, with {@link Builder#withTestClasses()},
 * {@code target/test-classes}), because {@code mvn test} runs before {@code package}. Its name contains an underscore:
 * ImageJ 1.x only reads plugin jars whose file name has one. The runtime dependency jars are taken from this test's
 * class path, except ImageJ itself, JUnit and the test tools, and linked (not copied) into {@code plugins/jars/}.
 *
 * <p>A macro runs as {@code xvfb-run -a java -cp <ij.jar> ij.ImageJ -ijpath DIR -batch macro.ijm} with a timeout.
 * ImageJ exits with 0 even when a macro was aborted, so {@link Result#completed()} tells whether it ran to its last
 * line (a marker line is appended). A modal dialog (e.g. "Unrecognized command") blocks a -batch run forever: on
 * timeout the harness writes a thread dump into stdout (SIGQUIT) before killing the processes it started.
 *
 * <p>ImageJ: {@code /usr/share/java/ij.jar} (Debian package {@code imagej}) unless the environment variable
 * {@code DIFFXAI_IJ_JAR} or {@link Builder#ijJar(Path)} names another (e.g. Maven's ij-1.54p, {@link #mavenIjJar()}).
 * When {@code xvfb-run} or the jar is missing the test fails with a clear message, or is skipped when
 * {@code DIFFXAI_SKIP_IMAGEJ=1}.
 */
public final class ImageJApp implements AutoCloseable {

  /** The ImageJ application jar of Debian's {@code imagej} package. */
  public static final Path DEBIAN_IJ_JAR = Paths.get("/usr/share/java/ij.jar");

  /** The name of the installed plugin jar (ImageJ 1.x needs an underscore in it). */
  public static final String PLUGIN_JAR = "Diffusion_XAI.jar";

  /** Printed by the line appended to every macro; its presence means the macro was not aborted. */
  public static final String COMPLETED_MARKER = "__DIFFXAI_MACRO_COMPLETED__";

  /** Class path entries never installed into plugins/jars (ImageJ brings its own ij.jar; test tools are not needed). */
  private static final Pattern EXCLUDED = Pattern.compile(
      "(ij|junit|junit-jupiter.*|junit-platform.*|opentest4j|apiguardian-api|hamcrest.*|surefire.*|"
          + "common-java5|common-java\\d*|common-junit\\d*|maven-surefire.*|jmh.*)(-[0-9].*)?\\.jar");

  private static final AtomicInteger RUNS = new AtomicInteger();

  private final Path dir;
  private final Path ijJar;
  private final Duration timeout;
  private final String screen;

  private ImageJApp(Path dir, Path ijJar, Duration timeout, String screen) {
    this.dir = dir;
    this.ijJar = ijJar;
    this.timeout = timeout;
    this.screen = screen;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Configures and installs an ImageJ directory. */
  public static final class Builder {
    private Path dir;
    private Path ijJar;
    private boolean testClasses;
    private final List<String> menuEntries = new ArrayList<>();
    private Duration timeout = Duration.ofSeconds(120);
    private String screen = "1280x1024";

    /** The ImageJ directory to create (default: a new temporary directory). */
    public Builder dir(Path d) {
      this.dir = d;
      return this;
    }

    /** The ImageJ application jar to run (default: $DIFFXAI_IJ_JAR or /usr/share/java/ij.jar). */
    public Builder ijJar(Path jar) {
      this.ijJar = jar;
      return this;
    }

    /** Also puts target/test-classes into the plugin jar (test commands, test plugins). */
    public Builder withTestClasses() {
      this.testClasses = true;
      return this;
    }

    /** Adds a plugins.config line, e.g. {@code Plugins>Test, "My Test", org.diffxai.fiji.CommandBridge("a.B")}. */
    public Builder menuEntry(String pluginsConfigLine) {
      menuEntries.add(pluginsConfigLine);
      return this;
    }

    /** The virtual screen's size (default 1280 x 1024). */
    public Builder screen(int width, int height) {
      this.screen = width + "x" + height;
      return this;
    }

    /** Per-run timeout (default 120 s). */
    public Builder timeout(Duration t) {
      this.timeout = t;
      return this;
    }

    /** Checks the tools, then creates DIR/plugins/Diffusion_XAI.jar and DIR/plugins/jars/. */
    public ImageJApp build() {
      Path jar = ijJar != null ? ijJar : defaultIjJar();
      requireAvailable(jar);
      try {
        Path d = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("diffxai-imagej-");
        Path plugins = Files.createDirectories(d.resolve("plugins"));
        Path jars = Files.createDirectories(plugins.resolve("jars"));
        List<Path> roots = new ArrayList<>();
        roots.add(classesDir(CommandBridge.class));
        if (testClasses) roots.add(classesDir(ImageJApp.class));
        buildPluginJar(plugins.resolve(PLUGIN_JAR), roots, menuEntries);
        for (Path p : runtimeJars()) {
          Path link = jars.resolve(p.getFileName());
          Files.deleteIfExists(link);
          try {
            Files.createSymbolicLink(link, p.toAbsolutePath());
          } catch (UnsupportedOperationException | IOException e) {
            Files.copy(p, link);
          }
        }
        return new ImageJApp(d, jar, timeout, screen);
      } catch (IOException e) {
        throw new IllegalStateException("Cannot install the plugin into an ImageJ directory: " + e, e);
      }
    }
  }

  /** $DIFFXAI_IJ_JAR or Debian's ij.jar. */
  public static Path defaultIjJar() {
    String env = System.getenv("DIFFXAI_IJ_JAR");
    return env != null && !env.isEmpty() ? Paths.get(env) : DEBIAN_IJ_JAR;
  }

  /** The ij jar Maven put on this test's class path (the version current Fiji ships, 1.54p), if any. */
  public static Optional<Path> mavenIjJar() {
    for (Path p : testClassPath()) {
      String n = p.getFileName().toString();
      if (n.matches("ij-1\\.[0-9]+[a-z]?\\.jar")) return Optional.of(p);
    }
    return Optional.empty();
  }

  /**
   * Fails with a clear message when xvfb-run or the ImageJ jar is missing, unless DIFFXAI_SKIP_IMAGEJ=1 (then the
   * test is skipped).
   */
  public static void requireAvailable(Path ijJar) {
    List<String> missing = new ArrayList<>();
    if (!onPath("xvfb-run")) missing.add("xvfb-run (Debian package xvfb)");
    if (!Files.isRegularFile(ijJar)) missing.add(ijJar + " (Debian package imagej, or set DIFFXAI_IJ_JAR)");
    if (missing.isEmpty()) return;
    String msg = "The real-ImageJ tests need " + String.join(" and ", missing)
        + ". Install them (apt-get install imagej xvfb) or set DIFFXAI_SKIP_IMAGEJ=1 to skip these tests.";
    if ("1".equals(System.getenv("DIFFXAI_SKIP_IMAGEJ"))) Assumptions.abort(msg);
    Assertions.fail(msg);
  }

  private static boolean onPath(String exe) {
    String path = System.getenv("PATH");
    if (path == null) return false;
    for (String d : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Paths.get(d, exe))) return true;
    }
    return false;
  }

  /** Deletes the ImageJ directory; links into the Maven repository are removed, never followed. */
  @Override
  public void close() {
    deleteTree(dir);
  }

  /** Deletes a directory tree without following symbolic links (best effort). */
  public static void deleteTree(Path root) {
    try {
      if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
      Files.walkFileTree(root, new SimpleFileVisitor<Path>() {
        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
          Files.delete(f);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
          Files.delete(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      // best effort: a temporary directory
    }
  }

  /** The ImageJ directory (contains plugins/). */
  public Path dir() {
    return dir;
  }

  /** The installed plugin jar. */
  public Path pluginJar() {
    return dir.resolve("plugins").resolve(PLUGIN_JAR);
  }

  /** The ImageJ application jar this app runs. */
  public Path ijJar() {
    return ijJar;
  }

  /**
   * Runs a macro in batch mode ({@code -batch}); a line printing {@link #COMPLETED_MARKER} is appended, so
   * {@link Result#completed()} is false when the macro was aborted.
   */
  public Result runMacro(String macro) {
    try {
      Path file = dir.resolve("macro-" + RUNS.incrementAndGet() + ".ijm");
      Files.write(file, (macro + "\nprint(\"" + COMPLETED_MARKER + "\");\n").getBytes(StandardCharsets.UTF_8));
      return run("-batch", file.toString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Runs {@code xvfb-run -a java -cp <ij.jar> ij.ImageJ -ijpath DIR <args>} (e.g. {@code "-run", "Some Command"} for a
   * run with the ImageJ window, which must end the JVM itself).
   */
  public Result run(String... imagejArgs) {
    List<String> cmd = new ArrayList<>(Arrays.asList("xvfb-run", "-a", "-s", "-screen 0 " + screen + "x24",
        javaExecutable(), "-Xmx2g", "-cp", ijJar.toString(), "ij.ImageJ", "-ijpath", dir.toString()));
    cmd.addAll(Arrays.asList(imagejArgs));
    return exec(cmd, dir, timeout);
  }

  /** The java of the JVM running the tests. */
  public static String javaExecutable() {
    return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * Runs a process with stdout/stderr captured to files, killing it (and every process it started) after the timeout,
   * with a Java thread dump (SIGQUIT) first so a hang can be diagnosed.
   */
  public static Result exec(List<String> cmd, Path workDir, Duration timeout) {
    try {
      int n = RUNS.incrementAndGet();
      Path out = Files.createTempFile("diffxai-run-" + n + "-", ".out");
      Path err = Files.createTempFile("diffxai-run-" + n + "-", ".err");
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
          .redirectOutput(out.toFile()).redirectError(err.toFile());
      long t0 = System.nanoTime();
      Process p = pb.start();
      boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!finished) {
        for (ProcessHandle h : p.descendants().toArray(ProcessHandle[]::new)) {
          if (h.info().command().map(c -> c.endsWith("/java")).orElse(false)) {
            new ProcessBuilder("kill", "-QUIT", Long.toString(h.pid())).start().waitFor(5, TimeUnit.SECONDS);
          }
        }
        Thread.sleep(1000);
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
      long millis = (System.nanoTime() - t0) / 1_000_000L;
      String stdout = new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
      String stderr = new String(Files.readAllBytes(err), StandardCharsets.UTF_8);
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      return new Result(cmd, finished ? p.exitValue() : -1, stdout, stderr, !finished, millis);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot run " + cmd + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while running " + cmd, e);
    }
  }

  /** What a run produced. */
  public static final class Result {
    private final List<String> command;
    private final int exitCode;
    private final String stdout;
    private final String stderr;
    private final boolean timedOut;
    private final long millis;

    Result(List<String> command, int exitCode, String stdout, String stderr, boolean timedOut, long millis) {
      this.command = command;
      this.exitCode = exitCode;
      this.stdout = stdout;
      this.stderr = stderr;
      this.timedOut = timedOut;
      this.millis = millis;
    }

    /** The process exit code (-1 after a timeout). ImageJ's -batch mode exits with 0 even after a macro error. */
    public int exitCode() {
      return exitCode;
    }

    public String stdout() {
      return stdout;
    }

    public String stderr() {
      return stderr;
    }

    /** The Log: in -batch mode ImageJ has no Log window and IJ.log()/print() write to stdout. Marker line removed. */
    public String log() {
      return stdout.replace(COMPLETED_MARKER + "\n", "").replace(COMPLETED_MARKER, "");
    }

    /** True when the macro ran to its last line (was not aborted and did not hang). */
    public boolean completed() {
      return !timedOut && stdout.contains(COMPLETED_MARKER);
    }

    public boolean timedOut() {
      return timedOut;
    }

    /** Wall-clock duration of the run. */
    public long millis() {
      return millis;
    }

    @Override
    public String toString() {
      return "command: " + String.join(" ", command) + "\nexit code: " + exitCode
          + (timedOut ? " (TIMED OUT: a modal dialog? thread dump in stdout)" : "") + ", " + millis + " ms"
          + "\n--- stdout/Log ---\n" + stdout + "\n--- stderr ---\n" + stderr;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Building the plugin jar and collecting the runtime jars

  /** The class folder (or jar) a class was loaded from, e.g. target/classes. */
  static Path classesDir(Class<?> c) {
    try {
      URL url = c.getProtectionDomain().getCodeSource().getLocation();
      return Paths.get(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Writes a jar from class folders. {@code plugins.config} files are merged and the extra menu entries appended;
   * SciJava annotation indexes ({@code META-INF/json/*}) are concatenated (their format is a sequence of JSON objects);
   * for other files the first folder wins.
   */
  static void buildPluginJar(Path jar, List<Path> roots, List<String> extraMenuEntries) throws IOException {
    Map<String, byte[]> merged = new LinkedHashMap<>();
    Map<String, Path> files = new LinkedHashMap<>();
    for (Path root : roots) {
      if (!Files.isDirectory(root)) throw new IllegalStateException(root + " is not a class folder; run mvn compile");
      Files.walkFileTree(root, new SimpleFileVisitor<Path>() {
        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
          String name = root.relativize(f).toString().replace(File.separatorChar, '/');
          if (name.equals("META-INF/MANIFEST.MF")) return FileVisitResult.CONTINUE;
          if (name.equals("plugins.config") || name.startsWith("META-INF/json/")) {
            byte[] old = merged.get(name);
            byte[] add = Files.readAllBytes(f);
            if (old == null) {
              merged.put(name, add);
            } else {
              byte[] sep = name.equals("plugins.config") ? "\n".getBytes(StandardCharsets.UTF_8) : new byte[0];
              byte[] both = new byte[old.length + sep.length + add.length];
              System.arraycopy(old, 0, both, 0, old.length);
              System.arraycopy(sep, 0, both, old.length, sep.length);
              System.arraycopy(add, 0, both, old.length + sep.length, add.length);
              merged.put(name, both);
            }
          } else {
            files.putIfAbsent(name, f);
          }
          return FileVisitResult.CONTINUE;
        }
      });
    }
    if (!extraMenuEntries.isEmpty()) {
      String cfg = merged.containsKey("plugins.config")
          ? new String(merged.get("plugins.config"), StandardCharsets.UTF_8) : "";
      cfg = cfg + (cfg.endsWith("\n") || cfg.isEmpty() ? "" : "\n") + String.join("\n", extraMenuEntries) + "\n";
      merged.put("plugins.config", cfg.getBytes(StandardCharsets.UTF_8));
    }
    Manifest mf = new Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    Files.createDirectories(jar.getParent());
    try (OutputStream os = Files.newOutputStream(jar); JarOutputStream jos = new JarOutputStream(os, mf)) {
      for (Map.Entry<String, byte[]> e : merged.entrySet()) {
        jos.putNextEntry(new JarEntry(e.getKey()));
        jos.write(e.getValue());
        jos.closeEntry();
      }
      for (Map.Entry<String, Path> e : files.entrySet()) {
        jos.putNextEntry(new JarEntry(e.getKey()));
        Files.copy(e.getValue(), jos);
        jos.closeEntry();
      }
    }
  }

  /** The dependency jars a user installs next to the plugin: this test's class path minus ImageJ and test tools. */
  public static List<Path> runtimeJars() {
    List<Path> out = new ArrayList<>();
    for (Path p : testClassPath()) {
      if (!Files.isRegularFile(p) || !p.getFileName().toString().endsWith(".jar")) continue;
      if (EXCLUDED.matcher(p.getFileName().toString()).matches()) continue;
      out.add(p);
    }
    return out;
  }

  /**
   * This JVM's class path as files: Surefire's {@code surefire.test.class.path} when set, else
   * {@code java.class.path}, expanding a manifest-only booter jar.
   */
  public static List<Path> testClassPath() {
    String cp = System.getProperty("surefire.test.class.path");
    if (cp == null || cp.isEmpty()) cp = System.getProperty("java.class.path");
    List<Path> out = new ArrayList<>();
    for (String s : cp.split(File.pathSeparator)) {
      if (s.isEmpty()) continue;
      Path p = Paths.get(s);
      out.addAll(expandManifestOnly(p));
    }
    return out;
  }

  private static List<Path> expandManifestOnly(Path p) {
    List<Path> out = new ArrayList<>();
    if (p.getFileName() != null && p.getFileName().toString().startsWith("surefirebooter")
        && Files.isRegularFile(p)) {
      try (JarFile jf = new JarFile(p.toFile())) {
        Manifest m = jf.getManifest();
        String cp = m == null ? null : m.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
        if (cp != null) {
          for (String u : cp.trim().split("\\s+")) {
            try {
              out.add(Paths.get(new URL(p.toUri().toURL(), u).toURI()));
            } catch (URISyntaxException | IOException e) {
              // skip entries that are not files
            }
          }
          return out;
        }
      } catch (IOException e) {
        // fall through: treat as an ordinary jar
      }
    }
    out.add(p);
    return out;
  }

  /** Reads a file as UTF-8 text (test convenience). */
  public static String read(Path p) {
    try {
      return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
