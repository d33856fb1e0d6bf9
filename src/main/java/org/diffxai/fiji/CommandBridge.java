package org.diffxai.fiji;

import org.diffxai.run.ParameterSpec;
import ij.IJ;
import ij.Macro;
import ij.gui.GenericDialog;
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
 * options a {@link GenericDialog} whose labels are the macro keys asks for the values; the macro recorder then writes
 * {@code run("Synthesize", "model=sample samples=4 ...")}. The command runs synchronously on the calling thread
 * (a macro waits for it), with the plugin's class loader as context class loader and, in Fiji, the running SciJava
 * Context injected.
 *
 * <p>Errors: a {@link UserException} is shown with {@code IJ.error} when a person is looking at the ImageJ window;
 * inside a macro or script it goes to the Log as {@code "<label>: <message>"} and the macro is aborted (IJ.error would
 * open a modal dialog that blocks a batch run forever on a virtual display, and would not stop the macro). A
 * {@link CancelledException} shows "Cancelled" in the status bar and stops a running macro. Any other exception writes
 * a one-line message and the stack trace to the Log and stops a running macro.
 */
public class CommandBridge implements PlugIn {

  /** Values last accepted in the dialog, per command, for this ImageJ session. */
  private static final Map<String, Map<String, Object>> LAST_USED = new HashMap<>();

  @Override
  public void run(String arg) {
    String title = "Diffusion XAI";
    try {
      String className = arg == null ? "" : arg.trim();
      if (className.isEmpty()) {
        throw new UserException("This menu entry names no command. Its plugins.config line must read"
            + " org.diffxai.fiji.CommandBridge(\"<command class>\").");
      }
      Class<?> cls = Commands.load(className, classLoader());
      CommandSpec spec = CommandSpec.of(cls);
      title = spec.label();
      Map<String, Object> values;
      String options = Macro.getOptions();
      if (options != null) {
        values = MacroOptions.parse(options, spec);
      } else if (GraphicsEnvironment.isHeadless()) {
        throw new UserException(spec.label() + " needs its options when ImageJ runs headless, e.g. run(\""
            + spec.label() + "\", \"" + MacroOptions.format(spec, spec.defaults()) + "\").");
      } else {
        values = showDialog(spec);
        if (values == null) return; // cancelled by the user
      }
      run(spec, values);
    } catch (CancelledException e) {
      IJ.showStatus(title + ": cancelled");
      IJ.log(title + ": cancelled.");
      abortMacro();
    } catch (UserException e) {
      reportUserError(title, e.getMessage());
    } catch (NoClassDefFoundError | UnsatisfiedLinkError e) {
      reportUserError(title, Commands.missingDependency(title, e).getMessage());
    } catch (RuntimeException e) {
      reportBug(title, e);
    } finally {
      IJ.showProgress(1.0);
    }
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

  /**
   * Asks for the values in a GenericDialog whose labels are the macro keys (so the recorder writes them). Text that is
   * not valid for a key is reported and the dialog shown again with the user's values.
   *
   * @return the values, or null when the user cancelled
   */
  private static Map<String, Object> showDialog(CommandSpec spec) {
    Map<String, Object> current = new LinkedHashMap<>(spec.defaults());
    synchronized (LAST_USED) {
      Map<String, Object> last = LAST_USED.get(spec.commandClass().getName());
      if (last != null) current.putAll(last);
    }
    while (true) {
      GenericDialog gd = new GenericDialog(spec.label());
      for (ParameterSpec p : spec.parameters()) {
        Object v = current.get(p.name());
        if (p.kind() == ParameterSpec.Kind.BOOLEAN) {
          gd.addCheckbox(p.name(), Boolean.TRUE.equals(v));
        } else if (!p.choices().isEmpty()) {
          String s = String.valueOf(v);
          gd.addChoice(p.name(), p.choices().toArray(new String[0]), p.choices().contains(s) ? s : p.choices().get(0));
        } else {
          boolean number = p.kind() != ParameterSpec.Kind.STRING;
          gd.addStringField(p.name(), p.format(v), number ? 10 : 30);
        }
      }
      gd.addHelp(helpHtml(spec));
      gd.showDialog();
      if (gd.wasCanceled()) return null;
      Map<String, String> texts = new LinkedHashMap<>();
      for (ParameterSpec p : spec.parameters()) {
        if (p.kind() == ParameterSpec.Kind.BOOLEAN) texts.put(p.name(), gd.getNextBoolean() ? "true" : "false");
        else if (!p.choices().isEmpty()) texts.put(p.name(), gd.getNextChoice());
        else texts.put(p.name(), gd.getNextString());
      }
      Map<String, Object> values = new LinkedHashMap<>();
      try {
        for (ParameterSpec p : spec.parameters()) values.put(p.name(), p.parse(texts.get(p.name())));
        synchronized (LAST_USED) {
          LAST_USED.put(spec.commandClass().getName(), values);
        }
        return values;
      } catch (UserException e) {
        // The recorder already took this attempt's options; drop them so only the accepted ones are recorded.
        if (Recorder.record) Recorder.resetCommandOptions();
        IJ.error(spec.label(), e.getMessage());
        current.putAll(texts);
        for (ParameterSpec p : spec.parameters()) {
          if (p.kind() == ParameterSpec.Kind.BOOLEAN) current.put(p.name(), Boolean.valueOf(texts.get(p.name())));
        }
      }
    }
  }

  private static String helpHtml(CommandSpec spec) {
    StringBuilder sb = new StringBuilder("<html><h2>").append(escape(spec.label())).append("</h2>");
    if (!spec.description().isEmpty()) sb.append("<p>").append(escape(spec.description())).append("</p>");
    sb.append("<table>");
    for (ParameterSpec p : spec.parameters()) {
      sb.append("<tr><td valign=top><b>").append(p.name()).append("</b></td><td>").append(escape(p.description()));
      sb.append(" <i>(").append(escape(p.expected())).append(")</i></td></tr>");
    }
    sb.append("</table><p>Macro: <tt>run(\"").append(escape(spec.label())).append("\", \"")
        .append(escape(MacroOptions.format(spec, spec.defaults()))).append("\");</tt></p></html>");
    return sb.toString();
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
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
