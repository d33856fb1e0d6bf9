package org.diffxai.fiji;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.diffxai.run.InvalidKeyException;
import org.diffxai.run.ParameterSpec;
import org.diffxai.run.RequestKeys;
import org.scijava.Context;
import org.scijava.ItemIO;
import org.scijava.ItemVisibility;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.service.Service;

/**
 * The parameter model of one command class, the single place every front-end (menu bridge, command line, help texts,
 * tests) reads it from: the {@code @Plugin} label and the {@code @Parameter} input fields in declaration order, with
 * their defaults taken from a freshly constructed instance. Service and context fields (filled by SciJava when a
 * Context exists) and outputs are not inputs.
 *
 * <p>Conventions for command classes are documented in docs/frontends.md and checked by
 * {@link #conventionProblems()}.
 */
public final class CommandSpec {

  private static final ClassValue<CommandSpec> CACHE = new ClassValue<CommandSpec>() {
    @Override
    protected CommandSpec computeValue(Class<?> type) {
      return new CommandSpec(type);
    }
  };

  static final Pattern KEY = RequestKeys.KEY;

  private final Class<?> commandClass;
  private final String label;
  private final RequestKeys keys;
  private final List<Field> outputs;
  private final List<Field> injected;
  private final List<String> problems;

  /**
   * The parameter model of a command class (cached).
   *
   * @throws IllegalArgumentException if the class cannot be instantiated with a no-argument constructor or has an input
   *     of an unsupported type (a programming error in the command, see {@link #conventionProblems()})
   */
  public static CommandSpec of(Class<?> commandClass) {
    return CACHE.get(commandClass);
  }

  private CommandSpec(Class<?> cls) {
    this.commandClass = cls;
    List<String> issues = new ArrayList<>();
    Plugin plugin = cls.getAnnotation(Plugin.class);
    String lbl = plugin == null ? "" : plugin.label().trim();
    this.label = lbl.isEmpty() ? labelFromClassName(cls.getSimpleName()) : lbl;
    checkPlugin(cls, plugin, issues);
    this.keys = RequestKeys.of(cls);
    issues.addAll(keys.problems());
    List<Field> outs = new ArrayList<>();
    List<Field> services = new ArrayList<>();
    for (Field f : RequestKeys.fieldsInOrder(cls)) {
      Parameter p = f.getAnnotation(Parameter.class);
      if (p == null || RequestKeys.isInput(f) || p.visibility() == ItemVisibility.MESSAGE) continue;
      if (p.type() == ItemIO.OUTPUT) {
        outs.add(f);
        continue;
      }
      services.add(f);
      if (p.required()) {
        issues.add("Field \"" + f.getName() + "\": SciJava services must be optional (@Parameter(required = false)); "
            + "commands also run without a Context (ImageJ 1.x, command line).");
      }
    }
    this.outputs = Collections.unmodifiableList(outs);
    this.injected = Collections.unmodifiableList(services);
    this.problems = Collections.unmodifiableList(issues);
  }

  private static void checkPlugin(Class<?> cls, Plugin plugin, List<String> issues) {
    if (!Command.class.isAssignableFrom(cls)) issues.add("does not implement org.scijava.command.Command");
    if (!Modifier.isPublic(cls.getModifiers())) issues.add("is not public");
    if (plugin == null) {
      issues.add("has no @Plugin(type = Command.class, label = \"...\", headless = true) annotation");
      return;
    }
    if (plugin.type() != Command.class) issues.add("@Plugin type must be Command.class");
    if (plugin.label().trim().isEmpty()) issues.add("@Plugin needs a label (it is the menu entry and macro command)");
    if (!plugin.menuPath().isEmpty() || plugin.menu().length > 0) {
      issues.add("@Plugin must not have a menuPath or menu: menus come only from plugins.config (else Fiji shows the"
          + " command twice)");
    }
    if (!plugin.headless()) issues.add("@Plugin must say headless = true (it runs from the command line and servers)");
  }

  /** "SynthesizeCommand" → "Synthesize", "GeneratePhantomsCommand" → "Generate Phantoms". */
  static String labelFromClassName(String simpleName) {
    String s = simpleName.endsWith("Command") ? simpleName.substring(0, simpleName.length() - 7) : simpleName;
    return s.replaceAll("(?<=[a-z0-9])(?=[A-Z])", " ");
  }

  public Class<?> commandClass() {
    return commandClass;
  }

  /** The {@code @Plugin} label: the menu entry, the first argument of {@code run(...)} in macros and of the CLI. */
  public String label() {
    return label;
  }

  /** The {@code @Plugin} description, or "". */
  public String description() {
    Plugin p = commandClass.getAnnotation(Plugin.class);
    return p == null ? "" : p.description();
  }

  /** The inputs, in declaration order. */
  public List<ParameterSpec> parameters() {
    return keys.parameters();
  }

  /** The macro keys, in declaration order. */
  public List<String> keys() {
    return keys.keys();
  }

  /** The input with this macro key, or null. */
  public ParameterSpec parameter(String key) {
    return keys.parameter(key);
  }

  /** The {@code @Parameter(type = ItemIO.OUTPUT)} fields. */
  public List<Field> outputs() {
    return outputs;
  }

  /** Service and Context fields that SciJava fills when a Context exists. */
  public List<Field> injectedFields() {
    return injected;
  }

  /** Every input's default value, by key, in declaration order. */
  public Map<String, Object> defaults() {
    return keys.defaults();
  }

  /**
   * Creates the command and sets its inputs. Keys not in {@code values} keep their defaults.
   *
   * @throws InvalidKeyException for an unknown key or a value of the wrong type or outside its choices/range
   */
  public Object create(Map<String, ?> values) {
    Object cmd = RequestKeys.instantiate(commandClass);
    for (Map.Entry<String, ?> e : values.entrySet()) {
      ParameterSpec p = parameter(e.getKey());
      if (p == null) throw unknownKey(e.getKey());
      Object v = e.getValue();
      if (v instanceof String && p.kind() != ParameterSpec.Kind.STRING) v = p.parse((String) v);
      else if (v == null && p.kind() == ParameterSpec.Kind.BOOLEAN) v = Boolean.FALSE;
      else p.check(v);
      try {
        p.set(cmd, v);
      } catch (IllegalArgumentException ex) {
        throw new InvalidKeyException("Invalid value for \"" + p.name() + "\": " + v + " is not a " + p.expected()
            + ".");
      }
    }
    return cmd;
  }

  /**
   * Checks a command's current input values against their choices and ranges, as the menu bridge and the command line
   * do before running it. Commands call {@code CommandSpec.of(getClass()).validate(this)} first in {@code run()} so
   * that Fiji scripts (CommandService, which does not check choices or ranges) get the same errors.
   *
   * @throws InvalidKeyException naming the key and what is valid
   */
  public void validate(Object command) {
    keys.validate(command);
  }

  /** The current input values of a command instance, by key. */
  public Map<String, Object> values(Object command) {
    return keys.values(command);
  }

  /** The error for a key this command does not have; lists the valid keys and suggests the closest one. */
  public InvalidKeyException unknownKey(String key) {
    StringBuilder sb = new StringBuilder();
    sb.append("Unknown key \"").append(key).append("\" for ").append(label).append('.');
    String near = closest(key);
    if (near != null) sb.append(" Did you mean \"").append(near).append("\"?");
    sb.append(" Valid keys: ").append(keys().isEmpty() ? "(none)" : String.join(", ", keys())).append('.');
    return new InvalidKeyException(sb.toString());
  }

  private String closest(String key) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    String k = key.toLowerCase(Locale.ROOT);
    for (String c : keys()) {
      int d = distance(k, c);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    return best != null && bestD <= Math.max(1, Math.min(3, key.length() / 4)) ? best : null;
  }

  /** Edit distance counting insertions, deletions, substitutions and swaps of neighbours ("cuont" → "count": 1). */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) d[i][0] = i;
    for (int j = 0; j <= b.length(); j++) d[0][j] = j;
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  /**
   * Violations of the command conventions (docs/frontends.md): annotation, snake_case keys without labels, supported
   * types, valid defaults, booleans defaulting to false, {@code persist = false}, optional services. Empty when the
   * class follows them.
   */
  public List<String> conventionProblems() {
    return problems;
  }

  /** A multi-line description of every key for help texts: key, expected value, default, description. */
  public String usage() {
    StringBuilder sb = new StringBuilder();
    int w = 4;
    for (ParameterSpec p : keys.parameters()) w = Math.max(w, p.name().length());
    for (ParameterSpec p : keys.parameters()) {
      sb.append("  ").append(pad(p.name(), w)).append("  ");
      String def = p.kind() == ParameterSpec.Kind.BOOLEAN ? "flag, off unless given"
          : "default: " + MacroOptions.quote(p.format(p.defaultValue()));
      sb.append(p.kind() == ParameterSpec.Kind.BOOLEAN ? "" : p.expected() + "; ").append(def).append('\n');
      if (!p.description().isEmpty()) {
        sb.append("  ").append(pad("", w)).append("  ").append(p.description()).append('\n');
      }
    }
    return sb.toString();
  }

  private static String pad(String s, int w) {
    StringBuilder sb = new StringBuilder(s);
    while (sb.length() < w) sb.append(' ');
    return sb.toString();
  }

  @Override
  public String toString() {
    return label + " " + keys();
  }
}
