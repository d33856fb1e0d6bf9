package org.diffxai.fiji;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.diffxai.core.CancelledException;
import org.diffxai.core.UserException;
import org.diffxai.run.OutputKeys;

/**
 * The headless command line (the jar's Main-Class):
 *
 * <pre>
 * java -jar diffusion-xai.jar                          # lists the commands
 * java -jar diffusion-xai.jar "Synthesize" --help      # lists its keys with defaults and descriptions
 * java -jar diffusion-xai.jar "Synthesize" "model=sample samples=4 output=[/tmp/my run]"
 * java -jar diffusion-xai.jar Synthesize model=sample samples=4 "output=/tmp/my run"
 * </pre>
 *
 * Options are macro options (see {@link MacroOptions}); given as several arguments they are joined, and an argument
 * {@code key=value with spaces} gets its brackets added. The command runs on a worker thread with progress lines on
 * stderr; Ctrl-C or SIGTERM cancels it and waits (bounded, {@code -Ddiffxai.cancelWaitSeconds}, default 30) for it to
 * clean up. Nothing opens a window; output images and tables are not printed (commands write files via their
 * {@code output} key).
 *
 * <p>Exit codes: 0 success; 1 error (one line {@code Error: <message>} on stderr, no stack trace; for unexpected
 * exceptions the stack trace only with {@code -Ddiffxai.debug=true}); 2 usage error (unknown command, unknown key,
 * invalid value); 130 cancelled (Ctrl-C; a SIGTERM ends the JVM with 143 after the same clean-up).
 */
public final class Cli {
  public static final int OK = 0;
  public static final int ERROR = 1;
  public static final int USAGE = 2;
  public static final int CANCELLED = 130;

  private static final String USAGE_TEXT =
      "Usage: java -jar diffusion-xai.jar \"<Command>\" \"key=value key=[value with spaces] flag ...\"\n"
          + "       java -jar diffusion-xai.jar \"<Command>\" --help\n";

  /** Set by the shutdown hook when Ctrl-C/SIGTERM arrived while a command ran. */
  private static volatile boolean shutdownStarted;

  private Cli() {}

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    System.setProperty("diffxai.headless", "true");
    // DJL logs through SLF4J; the jar ships no SLF4J provider, and SLF4J's own three-line warning about that would
    // break the "one line on error" rule of the command line.
    if (System.getProperty("slf4j.internal.verbosity") == null) System.setProperty("slf4j.internal.verbosity", "ERROR");
    int code = run(args, System.out, System.err);
    // During a shutdown (Ctrl-C, SIGTERM) System.exit would block: return; the JVM exits with the signal's code.
    if (code != OK && !shutdownStarted) System.exit(code);
  }

  /**
   * Runs the command line and returns the exit code (the shutdown hook is installed only while a command runs).
   * Package-private for tests of usage paths; commands are tested through a real process.
   */
  static int run(String[] args, PrintStream out, PrintStream err) {
    boolean debug = Boolean.getBoolean("diffxai.debug");
    ClassLoader loader = Cli.class.getClassLoader();
    if (args.length == 0 || isHelp(args[0])) {
      PrintStream s = args.length == 0 ? err : out;
      s.print(commandList(loader));
      return args.length == 0 ? USAGE : OK;
    }
    String label = args[0];
    CommandSpec spec;
    try {
      Class<?> cls = Commands.byLabel(label, loader);
      if (cls == null) {
        List<String> labels = Commands.labels(loader);
        err.println("Error: Unknown command \"" + label + "\". Commands: "
            + (labels.isEmpty() ? "(none installed)" : String.join(", ", labels)) + ". Run with --help for usage.");
        return USAGE;
      }
      spec = CommandSpec.of(cls);
    } catch (UserException e) {
      err.println("Error: " + e.getMessage());
      return ERROR;
    } catch (RuntimeException e) {
      err.println("Error: command \"" + label + "\" cannot be set up: " + oneLine(String.valueOf(e)));
      if (debug) e.printStackTrace(err);
      return ERROR;
    }
    if (args.length >= 2 && isHelp(args[1])) {
      out.print(commandHelp(spec));
      return OK;
    }
    Map<String, Object> values;
    try {
      values = MacroOptions.parse(joinOptions(args), spec);
    } catch (UserException e) {
      err.println("Error: " + e.getMessage());
      return USAGE;
    }
    return execute(spec, values, err, debug);
  }

  private static boolean isHelp(String a) {
    return a.equals("--help") || a.equals("-h") || a.equals("-help") || a.equals("help");
  }

  /** Joins option arguments; an argument {@code key=value with spaces} (no brackets) becomes {@code key=[...]}. */
  static String joinOptions(String[] args) {
    List<String> parts = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (args.length > 2) {
        int eq = a.indexOf('=');
        if (eq > 0 && a.indexOf(' ') > eq && !a.startsWith("[", eq + 1)) {
          String key = a.substring(0, eq);
          if (CommandSpec.KEY.matcher(key).matches()) a = key + "=[" + a.substring(eq + 1) + "]";
        }
      }
      parts.add(a);
    }
    return String.join(" ", parts);
  }

  private static int execute(CommandSpec spec, Map<String, Object> values, PrintStream err, boolean debug) {
    final Object command;
    try {
      command = spec.create(values);
    } catch (UserException e) {
      err.println("Error: " + e.getMessage());
      return USAGE;
    }
    if (command instanceof OutputKeys && ((OutputKeys) command).outputPath() == null) {
      err.println("Error: " + spec.label() + " on the command line writes its results only to files, and no output"
          + " folder is given. Add output=<folder>.");
      return USAGE;
    }
    final ConsoleProgress progress = new ConsoleProgress(err, Long.getLong("diffxai.progressIntervalMillis", 1000L));
    final Throwable[] failure = new Throwable[1];
    final Thread worker = new Thread(() -> {
      Ui.setProgress(progress);
      try {
        CommandRunner.run(command);
      } catch (Throwable t) {
        failure[0] = t;
      } finally {
        Ui.setProgress(null);
      }
    }, "diffxai-" + spec.label().replace(' ', '-'));
    final boolean[] interrupted = new boolean[1];
    final long waitSeconds = Long.getLong("diffxai.cancelWaitSeconds", 30L);
    Thread hook = new Thread(() -> {
      if (!worker.isAlive()) return;
      synchronized (interrupted) {
        interrupted[0] = true;
      }
      shutdownStarted = true;
      err.println("Cancelling " + spec.label() + " (waiting up to " + waitSeconds + " s for it to clean up)...");
      progress.cancel();
      worker.interrupt();
      try {
        worker.join(waitSeconds * 1000L);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      err.println(worker.isAlive() ? "Error: " + spec.label() + " did not stop within " + waitSeconds + " s."
          : "Cancelled.");
      err.flush();
    }, "diffxai-cli-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    worker.start();
    try {
      worker.join();
    } catch (InterruptedException e) {
      progress.cancel();
      worker.interrupt();
      return CANCELLED;
    }
    synchronized (interrupted) {
      if (interrupted[0]) return CANCELLED; // the JVM is shutting down; the hook reports
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      return CANCELLED; // shutdown began just now
    }
    Throwable t = failure[0];
    if (t == null) return OK;
    if (t instanceof CancelledException) {
      err.println("Cancelled.");
      return CANCELLED;
    }
    if (t instanceof UserException) {
      err.println("Error: " + oneLine(t.getMessage()));
      return ERROR;
    }
    err.println("Error: " + spec.label() + " failed: " + oneLine(String.valueOf(t))
        + (debug ? "" : " (run with -Ddiffxai.debug=true for details)"));
    if (debug) t.printStackTrace(err);
    return ERROR;
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
  }

  static String commandList(ClassLoader loader) {
    StringBuilder sb = new StringBuilder("Diffusion XAI command line\n\n").append(USAGE_TEXT).append("\nCommands:\n");
    List<String> labels = Commands.labels(loader);
    if (labels.isEmpty()) sb.append("  (none found on the class path)\n");
    for (String l : labels) sb.append("  ").append(l).append('\n');
    sb.append("\nOptions are ImageJ macro options; the keys of a command are listed by \"<Command>\" --help.\n")
        .append("Exit codes: 0 success, 1 error, 2 usage error, 130 cancelled (Ctrl-C).\n");
    return sb.toString();
  }

  static String commandHelp(CommandSpec spec) {
    StringBuilder sb = new StringBuilder(spec.label()).append('\n');
    if (!spec.description().isEmpty()) sb.append(spec.description()).append('\n');
    sb.append("\nUsage: java -jar diffusion-xai.jar \"").append(spec.label()).append("\" \"")
        .append(MacroOptions.format(spec, spec.defaults())).append("\"\n\nKeys:\n").append(spec.usage())
        .append("\nThe same keys work in ImageJ macros: run(\"").append(spec.label())
        .append("\", \"key=value ...\");\n");
    return sb.toString();
  }
}
