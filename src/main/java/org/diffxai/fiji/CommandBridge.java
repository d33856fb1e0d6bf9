package org.diffxai.fiji;

import ij.IJ;
import ij.Macro;
import ij.macro.Interpreter;
import ij.plugin.PlugIn;
import ij.plugin.frame.Recorder;
import java.awt.GraphicsEnvironment;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.diffxai.core.CancelledException;
import org.diffxai.core.UserException;

/**
 * The one ImageJ 1.x plugin behind every menu entry. A {@code plugins.config} line names the command class as argument:
 *
 * <pre>
 * Plugins&gt;Diffusion XAI, "Synthesize", org.diffxai.fiji.CommandBridge("org.diffxai.fiji.SynthesizeCommand")
 * </pre>
 *
 * <p>With macro options ({@code run("Synthesize", "model=sample samples=4")}, or a script's {@code IJ.run}) the options
 * are read with {@link MacroOptions} (unknown keys are errors; no window opens, so this also works headless). Without
 * options a {@link CommandDialog} built from the parameter model asks for the values (the description first, labels
 * starting with the macro key, image and model choices, Browse… buttons); the macro recorder then writes
 * {@code run("Synthesize", "model=sample samples=4 ...")}. The next dialog starts with the values of the last run
 * that succeeded; a run that failed is neither remembered nor recorded. The command runs synchronously on the calling thread
 * (a macro waits for it), with the plugin's class loader as context class loader and, in Fiji, the running SciJava
 * Context injected.
 *
 * <p>Errors: a {@link UserException} is shown with {@code IJ.error} when a person is looking at the ImageJ window
 * (after a dialog, phrased for the dialog: {@link DialogText#forDialog}), and the status bar is cleared;
 * inside a macro or script it goes to the Log as {@code "<label>: <message>"} and the macro is aborted (IJ.error would
 * open a modal dialog that blocks a batch run forever on a virtual display, and would not stop the macro). A
 * {@link CancelledException} shows "Cancelled" in the status bar and stops a running macro. Any other exception writes
 * a one-line message and the stack trace to the Log and stops a running macro.
 */
public class CommandBridge implements PlugIn {

  /** The values of the last dialog run that succeeded, per command, for this ImageJ session. */
  private static final Map<String, Map<String, Object>> LAST_USED = new HashMap<>();

  @Override
  public void run(String arg) {
    String title = "Diffusion XAI";
    CommandSpec spec = null;
    boolean dialog = false;
    try {
      String className = arg == null ? "" : arg.trim();
      if (className.isEmpty()) {
        throw new UserException("This menu entry names no command. Its plugins.config line must read"
            + " org.diffxai.fiji.CommandBridge(\"<command class>\").");
      }
      Class<?> cls = Commands.load(className, classLoader());
      spec = CommandSpec.of(cls);
      title = spec.label();
      Map<String, Object> values;
      String options = Macro.getOptions();
      if (options != null) {
        values = MacroOptions.parse(options, spec);
      } else if (GraphicsEnvironment.isHeadless()) {
        throw new UserException(spec.label() + " needs its options when ImageJ runs headless, e.g. run(\""
            + spec.label() + "\", \"" + MacroOptions.format(spec, spec.defaults()) + "\").");
      } else {
        values = CommandDialog.show(spec, lastUsed(spec));
        if (values == null) return; // cancelled by the user
        dialog = true;
      }
      run(spec, values);
      if (dialog) remember(spec, values);
    } catch (CancelledException e) {
      forgetRecording(dialog);
      IJ.showStatus(title + ": cancelled");
      IJ.log(title + ": cancelled.");
      abortMacro();
    } catch (UserException e) {
      forgetRecording(dialog);
      reportUserError(title, dialog ? DialogText.forDialog(e.getMessage(), spec) : e.getMessage());
    } catch (NoClassDefFoundError | UnsatisfiedLinkError e) {
      forgetRecording(dialog);
      reportUserError(title, Commands.missingDependency(title, e).getMessage());
    } catch (RuntimeException e) {
      forgetRecording(dialog);
      reportBug(title, e);
    } finally {
      IJ.showProgress(1.0);
    }
  }

  /** The values the dialog starts with: the defaults, overridden by the last values that ran successfully. */
  private static Map<String, Object> lastUsed(CommandSpec spec) {
    Map<String, Object> current = new LinkedHashMap<>(spec.defaults());
    synchronized (LAST_USED) {
      Map<String, Object> last = LAST_USED.get(spec.commandClass().getName());
      if (last != null) current.putAll(last);
    }
    return current;
  }

  /** Remembers values for the next dialog of this command, only after they ran without an error. */
  private static void remember(CommandSpec spec, Map<String, Object> values) {
    synchronized (LAST_USED) {
      LAST_USED.put(spec.commandClass().getName(), new LinkedHashMap<>(values));
    }
  }

  /** A dialog run that failed is not recorded: its line would fail again when the macro replays it. */
  private static void forgetRecording(boolean dialog) {
    if (dialog && Recorder.record) Recorder.setCommand(null);
  }

  private static ClassLoader classLoader() {
    ClassLoader cl = CommandBridge.class.getClassLoader();
    return cl != null ? cl : IJ.getClassLoader();
  }

  /** Creates the command with these values, injects Fiji's Context if there is one, and runs it on this thread. */
  private static void run(CommandSpec spec, Map<String, Object> values) {
    Object command = spec.create(values);
    if (!spec.injectedFields().isEmpty() || org.scijava.Contextual.class.isInstance(command)) injectContext(command);
    IJ.resetEscape();
    IJ.showStatus(spec.label() + "...");
    long t0 = System.currentTimeMillis();
    CommandRunner.run(command);
    IJ.showStatus(spec.label() + " done (" + IJ.d2s((System.currentTimeMillis() - t0) / 1000.0, 1) + " s)");
  }

  /**
   * Injects the running SciJava Context. Only Fiji (ImageJ patched by ij1-patcher, recognisable by its
   * {@code IJ._hooks} field) hands out its Context for {@code IJ.runPlugIn("org.scijava.Context", "")}; plain ImageJ
   * 1.x would construct a whole new Context there, so it is not asked and service fields stay null.
   */
  static void injectContext(Object command) {
    try {
      IJ.class.getField("_hooks");
    } catch (NoSuchFieldException e) {
      return; // plain ImageJ 1.x
    }
    try {
      Object ctx = IJ.runPlugIn("org.scijava.Context", "");
      if (ctx instanceof org.scijava.Context) ((org.scijava.Context) ctx).inject(command);
    } catch (RuntimeException | LinkageError e) {
      if (IJ.debugMode) IJ.log("Diffusion XAI: no SciJava Context injected: " + e);
    }
  }

  /** True while a macro runs or a script calls {@code IJ.run}: then an error must stop it, not just be shown. */
  private static boolean inMacro() {
    return Interpreter.getInstance() != null || IJ.macroRunning() || Macro.getOptions() != null;
  }

  /** True when a person is looking at ImageJ's windows (not headless, not ImageJ's -batch mode without a window). */
  private static boolean interactive() {
    return !GraphicsEnvironment.isHeadless() && IJ.getInstance() != null;
  }

  static void reportUserError(String title, String message) {
    IJ.showStatus(""); // not the step that failed ("Opening model ...")
    if (!inMacro()) {
      if (interactive()) IJ.error(title, message);
      else IJ.log(title + ": " + message);
      return;
    }
    IJ.log(title + ": " + message);
    if (interactive() && !Interpreter.isBatchMode()) IJ.error(title, message);
    abortMacro();
  }

  static void reportBug(String title, Throwable e) {
    StringWriter sw = new StringWriter();
    e.printStackTrace(new PrintWriter(sw));
    IJ.log(title + " failed: " + e + ". Please report this with the details below.");
    IJ.log(sw.toString());
    IJ.showStatus(title + " failed (details in the Log)");
    if (inMacro()) abortMacro();
  }

  /**
   * Stops the running macro after the current {@code run(...)} returns. {@code Interpreter.abort()} does so silently in
   * ImageJ 1.53t and 1.54p (verified in -batch mode with and without setBatchMode); outside the macro interpreter (a
   * script calling IJ.run) {@code Macro.abort()} makes IJ.run throw where ImageJ supports that.
   */
  static void abortMacro() {
    if (Interpreter.getInstance() != null) Interpreter.abort();
    else if (IJ.macroRunning()) Macro.abort();
  }
}
