package org.diffxai.fiji;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.scijava.annotations.Index;
import org.scijava.annotations.IndexItem;
import org.scijava.command.Command;
import org.scijava.plugin.Plugin;

/**
 * Finds the project's commands by label without starting a SciJava Context: it reads the annotation index
 * ({@code META-INF/json/org.scijava.plugin.Plugin}, written at compile time by scijava-common's annotation processor)
 * from every jar and class folder on the class path, keeps {@code Command} plugins under {@code org.diffxai.}, and
 * loads no class until one is asked for. Reading the index takes milliseconds; a Context with its PluginService takes
 * about a second (see docs/frontends.md).
 */
public final class Commands {

  /** Only commands in this package tree are offered (scijava-common's own commands live in the same index). */
  public static final String PACKAGE_PREFIX = "org.diffxai.";

  private Commands() {}

  /** Label → class name of every indexed command, sorted by label. */
  public static Map<String, String> index(ClassLoader loader) {
    Map<String, String> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (IndexItem<Plugin> item : Index.load(Plugin.class, loader)) {
      String cls = item.className();
      if (!cls.startsWith(PACKAGE_PREFIX)) continue;
      Plugin p;
      try {
        p = item.annotation();
        if (p.type() != Command.class) continue;
      } catch (RuntimeException | LinkageError e) {
        continue; // an index entry whose annotation values cannot be resolved is not ours to offer
      }
      String label = p.label().trim();
      if (label.isEmpty()) {
        int dot = cls.lastIndexOf('.');
        label = CommandSpec.labelFromClassName(cls.substring(dot + 1));
      }
      out.putIfAbsent(label, cls);
    }
    return Collections.unmodifiableMap(out);
  }

  /** Labels of the indexed commands, sorted. */
  public static List<String> labels(ClassLoader loader) {
    return new ArrayList<>(index(loader).keySet());
  }

  /**
   * The command class with this label (exact match first, then ignoring case), or null when none is indexed.
   *
   * @throws org.diffxai.core.UserException when the class is indexed but cannot be loaded (missing dependency jar)
   */
  public static Class<?> byLabel(String label, ClassLoader loader) {
    Map<String, String> index = index(loader);
    String cls = null;
    for (Map.Entry<String, String> e : index.entrySet()) {
      if (e.getKey().equals(label)) cls = e.getValue();
    }
    if (cls == null) cls = index.get(label.toLowerCase(Locale.ROOT));
    if (cls == null) return null;
    return load(cls, loader);
  }

  /**
   * Loads a command class by name.
   *
   * @throws org.diffxai.core.UserException when the class or a class it needs is missing, naming the remedy
   */
  public static Class<?> load(String className, ClassLoader loader) {
    try {
      return Class.forName(className, true, loader);
    } catch (ClassNotFoundException e) {
      throw new org.diffxai.core.UserException("The command class " + className + " is not installed. Reinstall"
          + " Diffusion XAI (diffusion-xai.jar and its lib/ jars, see docs/frontends.md).");
    } catch (NoClassDefFoundError | UnsatisfiedLinkError e) {
      throw missingDependency(className, e);
    }
  }

  /** The user-facing error for a class that fails to load or link because a dependency jar is missing. */
  static org.diffxai.core.UserException missingDependency(String what, LinkageError e) {
    String missing = e.getMessage() == null ? e.toString() : e.getMessage().replace('/', '.');
    return new org.diffxai.core.UserException(what + " cannot run because a library is missing or of the wrong version"
        + " (" + e.getClass().getSimpleName() + ": " + missing + "). Copy the jars from lib/ next to diffusion-xai.jar"
        + " into Fiji.app/jars/ (ImageJ 1.x: plugins/jars/); see docs/frontends.md.");
  }
}
