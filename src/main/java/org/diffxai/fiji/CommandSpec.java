package org.diffxai.fiji;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.diffxai.core.UserException;
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

  static final Pattern KEY = Pattern.compile("[a-z][a-z0-9_]*");

  private final Class<?> commandClass;
  private final String label;
  private final List<ParameterSpec> parameters;
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

    Object fresh = instantiate(cls);
    List<ParameterSpec> params = new ArrayList<>();
    List<Field> outs = new ArrayList<>();
    List<Field> services = new ArrayList<>();
    List<String> unsupported = new ArrayList<>();
    List<String> persisted = new ArrayList<>();
    for (Field f : fieldsInOrder(cls)) {
      Parameter p = f.getAnnotation(Parameter.class);
      if (p == null) continue;
      if (Service.class.isAssignableFrom(f.getType()) || Context.class.isAssignableFrom(f.getType())) {
        services.add(f);
        if (p.required()) {
          issues.add("Field \"" + f.getName() + "\": SciJava services must be optional (@Parameter(required = false)); "
              + "commands also run without a Context (ImageJ 1.x, command line).");
        }
        continue;
      }
      if (p.visibility() == ItemVisibility.MESSAGE) continue;
      if (p.type() == ItemIO.OUTPUT) {
        outs.add(f);
        continue;
      }
      if (Modifier.isStatic(f.getModifiers()) || Modifier.isFinal(f.getModifiers())) {
        unsupported.add(f.getName() + " (static or final)");
        continue;
      }
      ParameterSpec.Kind kind = ParameterSpec.kindOf(f.getType());
      if (kind == null) {
        unsupported.add(f.getName() + " (" + f.getType().getSimpleName() + ")");
        continue;
      }
      f.setAccessible(true);
      Object def;
      try {
        def = f.get(fresh);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
      if (def == null && kind == ParameterSpec.Kind.STRING) def = "";
      if (def == null && kind == ParameterSpec.Kind.BOOLEAN) def = Boolean.FALSE;
      ParameterSpec spec = new ParameterSpec(f, kind, def);
      params.add(spec);
      checkParameter(spec, f, p, issues);
      if (p.persist()) persisted.add(f.getName());
    }
    if (!persisted.isEmpty()) {
      issues.add("Parameters " + String.join(", ", persisted) + ": add persist = false to each. Otherwise SciJava's"
          + " CommandService (Fiji scripts) stores every run's values and uses them instead of the defaults when a"
          + " later script leaves a key out, so scripts stop being reproducible.");
    }
    if (!unsupported.isEmpty()) {
      throw new IllegalArgumentException(cls.getName() + ": unsupported input type for "
          + String.join(", ", unsupported)
          + ". Inputs must be String, int, long, float, double or boolean (paths and images as String).");
    }
    this.parameters = Collections.unmodifiableList(params);
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

  private static void checkParameter(ParameterSpec s, Field f, Parameter p, List<String> issues) {
    String where = "Parameter \"" + f.getName() + "\": ";
    if (!KEY.matcher(f.getName()).matches()) {
      issues.add(where + "the field name is the macro key and must be snake_case ([a-z][a-z0-9_]*)");
    }
    if (!p.label().isEmpty()) {
      issues.add(where + "no label attribute (the macro key is the field name; put help text in description)");
    }
    if (!p.min().trim().isEmpty() && s.min() == null) issues.add(where + "min \"" + p.min() + "\" is not a number");
    if (!p.max().trim().isEmpty() && s.max() == null) issues.add(where + "max \"" + p.max() + "\" is not a number");
    if (!s.choices().isEmpty() && s.kind() != ParameterSpec.Kind.STRING) {
      issues.add(where + "choices are only supported on String fields");
    }
    if (s.kind() == ParameterSpec.Kind.BOOLEAN && Boolean.TRUE.equals(s.defaultValue())) {
      issues.add(where + "booleans must default to false: an ImageJ macro that leaves a flag out switches it off, so a"
          + " default of true could never be kept; invert the meaning (e.g. no_preview)");
    }
    try {
      s.check(s.defaultValue());
    } catch (UserException e) {
      issues.add(where + "the default (the field initialiser) is not valid: " + e.getMessage());
    }
  }

  private static Object instantiate(Class<?> cls) {
    try {
      Constructor<?> c = cls.getDeclaredConstructor();
      c.setAccessible(true);
      return c.newInstance();
    } catch (NoSuchMethodException e) {
      throw new IllegalArgumentException(cls.getName() + " needs a public no-argument constructor.", e);
    } catch (InvocationTargetException e) {
      Throwable t = e.getCause();
      if (t instanceof RuntimeException) throw (RuntimeException) t;
      if (t instanceof Error) throw (Error) t;
      throw new IllegalArgumentException(cls.getName() + " could not be constructed: " + t, t);
    } catch (InstantiationException | IllegalAccessException e) {
      throw new IllegalArgumentException(cls.getName() + " could not be constructed: " + e, e);
    }
  }

  /** Fields of the class and its superclasses, superclass fields first, each in declaration order. */
  private static List<Field> fieldsInOrder(Class<?> cls) {
    List<Class<?>> chain = new ArrayList<>();
    for (Class<?> c = cls; c != null && c != Object.class; c = c.getSuperclass()) chain.add(0, c);
    List<Field> fields = new ArrayList<>();
    for (Class<?> c : chain) {
      for (Field f : c.getDeclaredFields()) {
        if (!f.isSynthetic()) fields.add(f);
      }
    }
    return fields;
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
    return parameters;
  }

  /** The macro keys, in declaration order. */
  public List<String> keys() {
    List<String> keys = new ArrayList<>();
    for (ParameterSpec p : parameters) keys.add(p.name());
    return keys;
  }

  /** The input with this macro key, or null. */
  public ParameterSpec parameter(String key) {
    for (ParameterSpec p : parameters) {
      if (p.name().equals(key)) return p;
    }
    return null;
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
    Map<String, Object> m = new LinkedHashMap<>();
    for (ParameterSpec p : parameters) m.put(p.name(), p.defaultValue());
    return m;
  }

  /**
   * Creates the command and sets its inputs. Keys not in {@code values} keep their defaults.
   *
   * @throws MacroOptionsException for an unknown key or a value of the wrong type or outside its choices/range
   */
  public Object create(Map<String, ?> values) {
    Object cmd = instantiate(commandClass);
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
        throw new MacroOptionsException("Invalid value for \"" + p.name() + "\": " + v + " is not a " + p.expected()
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
   * @throws MacroOptionsException naming the key and what is valid
   */
  public void validate(Object command) {
    for (ParameterSpec p : parameters) {
      Object v = p.get(command);
      if (v == null && p.kind() == ParameterSpec.Kind.STRING) continue;
      p.check(v);
    }
  }

  /** The current input values of a command instance, by key. */
  public Map<String, Object> values(Object command) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (ParameterSpec p : parameters) m.put(p.name(), p.get(command));
    return m;
  }

  /** The error for a key this command does not have; lists the valid keys and suggests the closest one. */
  public MacroOptionsException unknownKey(String key) {
    StringBuilder sb = new StringBuilder();
    sb.append("Unknown key \"").append(key).append("\" for ").append(label).append('.');
    String near = closest(key);
    if (near != null) sb.append(" Did you mean \"").append(near).append("\"?");
    sb.append(" Valid keys: ").append(keys().isEmpty() ? "(none)" : String.join(", ", keys())).append('.');
    return new MacroOptionsException(sb.toString());
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
    for (ParameterSpec p : parameters) w = Math.max(w, p.name().length());
    for (ParameterSpec p : parameters) {
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
