package org.diffxai.run;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.diffxai.core.UserException;
import org.scijava.Context;
import org.scijava.ItemIO;
import org.scijava.ItemVisibility;
import org.scijava.plugin.Parameter;
import org.scijava.service.Service;

/**
 * The keys of a request class: its {@code @Parameter} input fields (snake_case; the field name is the macro key, the
 * command-line key and the script parameter), with the defaults of a freshly constructed request, choices and ranges.
 * A request owns its defaults (field initialisers) and validation ({@link #validate}); front-ends read the keys from
 * here, and every output's provenance records their values ({@link Provenance}).
 *
 * <p>Order: the keys of the most specific class first, then those of its superclasses (the shared groups such as
 * {@link ModelKeys} and {@link OutputKeys}), each in declaration order, so dialogs and help list a command's own keys
 * before device and output.
 */
public final class RequestKeys {

  private static final ClassValue<RequestKeys> CACHE = new ClassValue<RequestKeys>() {
    @Override
    protected RequestKeys computeValue(Class<?> type) {
      return new RequestKeys(type);
    }
  };

  /** What a key may look like. */
  public static final Pattern KEY = Pattern.compile("[a-z][a-z0-9_]*");

  private final List<ParameterSpec> parameters;
  private final List<String> problems;

  /**
   * The keys of a request (or command) class (cached).
   *
   * @throws IllegalArgumentException if the class cannot be instantiated with a no-argument constructor or has an input
   *     of an unsupported type (a programming error)
   */
  public static RequestKeys of(Class<?> cls) {
    return CACHE.get(cls);
  }

  private RequestKeys(Class<?> cls) {
    Object fresh = instantiate(cls);
    List<ParameterSpec> params = new ArrayList<>();
    List<String> issues = new ArrayList<>();
    List<String> unsupported = new ArrayList<>();
    List<String> persisted = new ArrayList<>();
    for (Field f : fieldsInOrder(cls)) {
      Parameter p = f.getAnnotation(Parameter.class);
      if (!isInput(f)) continue;
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
      for (ParameterSpec other : params) {
        if (other.name().equals(spec.name())) issues.add("Key \"" + spec.name() + "\" is declared twice");
      }
      params.add(spec);
      check(spec, f, p, issues);
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
    this.problems = Collections.unmodifiableList(issues);
  }

  /** True for an {@code @Parameter} field that is a key: not an output, a message, a service or the Context. */
  public static boolean isInput(Field f) {
    Parameter p = f.getAnnotation(Parameter.class);
    if (p == null || p.visibility() == ItemVisibility.MESSAGE || p.type() == ItemIO.OUTPUT) return false;
    return !Service.class.isAssignableFrom(f.getType()) && !Context.class.isAssignableFrom(f.getType());
  }

  private static void check(ParameterSpec s, Field f, Parameter p, List<String> issues) {
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

  /** A new instance through the no-argument constructor. */
  public static Object instantiate(Class<?> cls) {
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

  /** Fields of the class and its superclasses: the class's own first, then each superclass's, in declaration order. */
  public static List<Field> fieldsInOrder(Class<?> cls) {
    List<Field> fields = new ArrayList<>();
    for (Class<?> c = cls; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (!f.isSynthetic()) fields.add(f);
      }
    }
    return fields;
  }

  /** The keys, in order. */
  public List<ParameterSpec> parameters() {
    return parameters;
  }

  /** The key names, in order. */
  public List<String> keys() {
    List<String> keys = new ArrayList<>();
    for (ParameterSpec p : parameters) keys.add(p.name());
    return keys;
  }

  /** The key with this name, or null. */
  public ParameterSpec parameter(String key) {
    for (ParameterSpec p : parameters) {
      if (p.name().equals(key)) return p;
    }
    return null;
  }

  /** Every key's default value, by key, in order. */
  public Map<String, Object> defaults() {
    Map<String, Object> m = new LinkedHashMap<>();
    for (ParameterSpec p : parameters) m.put(p.name(), p.defaultValue());
    return m;
  }

  /** The current values of a request, by key, in order. */
  public Map<String, Object> values(Object request) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (ParameterSpec p : parameters) m.put(p.name(), p.get(request));
    return m;
  }

  /**
   * Checks every key's value against its choices and range (null texts count as empty).
   *
   * @throws InvalidKeyException naming the key and what is valid
   */
  public void validate(Object request) {
    for (ParameterSpec p : parameters) {
      Object v = p.get(request);
      if (v == null && p.kind() == ParameterSpec.Kind.STRING) continue;
      p.check(v);
    }
  }

  /** Violations of the key conventions (snake_case, no label, valid defaults, flags off, persist = false). */
  public List<String> problems() {
    return problems;
  }
}
