package org.diffxai.run;

import java.lang.reflect.Field;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.scijava.plugin.Parameter;

/**
 * One input of a command, read from its {@code @Parameter} field: the macro key (= field name), the value type, the
 * allowed choices or range, the help text and the default (the field's initial value). It converts the text form used
 * by macros, dialogs and the command line into a typed value and back, with error messages that name the key and what
 * was expected.
 */
public final class ParameterSpec {

  /** The value types a command input may have; paths and images are passed as {@link #STRING}. */
  public enum Kind {
    STRING("text"), INT("whole number"), LONG("whole number"), FLOAT("number"), DOUBLE("number"), BOOLEAN("flag");

    private final String description;

    Kind(String description) {
      this.description = description;
    }

    /** A few words for help texts and error messages, e.g. "whole number". */
    public String description() {
      return description;
    }
  }

  private final Field field;
  private final Kind kind;
  private final List<String> choices;
  private final Double min;
  private final Double max;
  private final String description;
  private final Object defaultValue;

  public ParameterSpec(Field field, Kind kind, Object defaultValue) {
    Parameter p = field.getAnnotation(Parameter.class);
    this.field = field;
    this.kind = kind;
    this.choices = Collections.unmodifiableList(new ArrayList<>(Arrays.asList(p.choices())));
    this.min = bound(p.min());
    this.max = bound(p.max());
    this.description = p.description();
    this.defaultValue = defaultValue;
    field.setAccessible(true);
  }

  private static Double bound(String s) {
    if (s == null || s.trim().isEmpty()) return null;
    try {
      return Double.valueOf(s.trim());
    } catch (NumberFormatException e) {
      return null; // reported by RequestKeys.problems()
    }
  }

  /** Maps a field type to a kind, or null when the type is not supported. */
  public static Kind kindOf(Class<?> type) {
    if (type == String.class) return Kind.STRING;
    if (type == int.class || type == Integer.class) return Kind.INT;
    if (type == long.class || type == Long.class) return Kind.LONG;
    if (type == float.class || type == Float.class) return Kind.FLOAT;
    if (type == double.class || type == Double.class) return Kind.DOUBLE;
    if (type == boolean.class || type == Boolean.class) return Kind.BOOLEAN;
    return null;
  }

  /** The macro key: the field name, snake_case. */
  public String name() {
    return field.getName();
  }

  public Kind kind() {
    return kind;
  }

  /** The Java type of the field (e.g. {@code int.class}). */
  public Class<?> type() {
    return field.getType();
  }

  /** The allowed values ({@code choices = {...}}), empty when any value of the type is allowed. */
  public List<String> choices() {
    return choices;
  }

  /** Lower bound from {@code min = "..."}, or null. */
  public Double min() {
    return min;
  }

  /** Upper bound from {@code max = "..."}, or null. */
  public Double max() {
    return max;
  }

  /** The help text ({@code description = "..."}), possibly empty. */
  public String description() {
    return description;
  }

  /** The value the field has in a freshly constructed command (null Strings are reported as ""). */
  public Object defaultValue() {
    return defaultValue;
  }

  /** How dialogs show the key ({@code @Parameter(style = ...)}): file, directory, image, or empty. */
  public String style() {
    return field.getAnnotation(Parameter.class).style().trim();
  }

  Field field() {
    return field;
  }

  /** What the key expects, for help texts and errors: "whole number from 1 to 64", "one of ddpm, ddim", ... */
  public String expected() {
    if (!choices.isEmpty()) return "one of " + String.join(", ", choices);
    String s = kind.description();
    if (min != null && max != null) return s + " from " + fmt(min) + " to " + fmt(max);
    if (min != null) return s + " >= " + fmt(min);
    if (max != null) return s + " <= " + fmt(max);
    return s;
  }

  private static String fmt(double d) {
    return format(Kind.DOUBLE, d);
  }

  /**
   * Converts the text given for this key (macro option, dialog field, command line) into a value of the field's type
   * and checks choices and range.
   *
   * @param text the value text; null means the key was given without a value (a flag)
   * @throws InvalidKeyException naming the key and the expected value
   */
  public Object parse(String text) {
    if (kind == Kind.BOOLEAN) {
      if (text == null || text.equalsIgnoreCase("true")) return Boolean.TRUE;
      if (text.equalsIgnoreCase("false")) return Boolean.FALSE;
      throw invalid(text, "Write just \"" + name() + "\" to switch it on and leave it out to switch it off");
    }
    if (text == null) {
      throw new InvalidKeyException("Key \"" + name() + "\" needs a value (" + expected() + "), e.g. " + name() + "="
          + format(defaultValue) + ".");
    }
    Object value;
    switch (kind) {
      case STRING:
        value = text;
        break;
      case INT:
      case LONG:
        value = parseWhole(text);
        break;
      default:
        value = parseReal(text);
        break;
    }
    check(value);
    return value;
  }

  private Object parseWhole(String text) {
    BigDecimal d;
    try {
      d = new BigDecimal(text.trim());
    } catch (NumberFormatException e) {
      throw invalid(text, null);
    }
    // "4.0" is what a numeric dialog field may record; accept it, but not "4.5".
    try {
      if (kind == Kind.INT) return d.intValueExact();
      return d.longValueExact();
    } catch (ArithmeticException e) {
      boolean fraction = d.stripTrailingZeros().scale() > 0;
      throw invalid(text, fraction ? "It must not have a fractional part" : "It is too large");
    }
  }

  private Object parseReal(String text) {
    double d;
    try {
      String t = text.trim();
      // Double.parseDouble also takes "NaN", "Infinity", "1d" and hex floats; only plain decimal numbers are allowed.
      if (!t.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) throw new NumberFormatException();
      d = Double.parseDouble(t);
    } catch (NumberFormatException e) {
      throw invalid(text, null);
    }
    if (kind == Kind.FLOAT) {
      if (Float.isInfinite((float) d)) throw invalid(text, "It is too large");
      return (float) d;
    }
    if (Double.isInfinite(d)) throw invalid(text, "It is too large");
    return d;
  }

  /**
   * Checks a typed value (e.g. set by a script through CommandService) against the choices and the range.
   *
   * @throws InvalidKeyException naming the key
   */
  public void check(Object value) {
    if (!choices.isEmpty()) {
      if (!choices.contains(String.valueOf(value))) {
        throw new InvalidKeyException("Invalid value for \"" + name() + "\": \"" + value + "\". Choose one of: "
            + String.join(", ", choices) + ".");
      }
      return;
    }
    if (value instanceof Number && (min != null || max != null)) {
      double d = ((Number) value).doubleValue();
      if ((min != null && d < min) || (max != null && d > max)) {
        throw new InvalidKeyException("Invalid value for \"" + name() + "\": " + format(value) + ". It must be a "
            + expected() + ".");
      }
    }
  }

  private InvalidKeyException invalid(String text, String why) {
    return new InvalidKeyException("Invalid value for \"" + name() + "\": \"" + text + "\" is not a " + expected()
        + (why == null ? "" : ". " + why) + ".");
  }

  /** The text form of a value of this parameter, as a macro or the command line would write it (without brackets). */
  public String format(Object value) {
    return format(kind, value);
  }

  public static String format(Kind kind, Object value) {
    if (value == null) return "";
    if (value instanceof Double || value instanceof Float) {
      double d = ((Number) value).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) return String.valueOf(d);
      if (value instanceof Float) d = Double.parseDouble(Float.toString((Float) value));
      // Shortest text that reads back to the same value, in plain notation for everyday magnitudes (0.0001, 2.5, 1000).
      BigDecimal b = new BigDecimal(Double.toString(d)).stripTrailingZeros();
      double a = Math.abs(d);
      if (a != 0 && (a < 1e-6 || a >= 1e15)) return b.toString();
      return b.scale() < 0 ? b.setScale(0).toPlainString() : b.toPlainString();
    }
    return String.valueOf(value);
  }

  /** The field's current value in a request or command. */
  public Object get(Object command) {
    try {
      return field.get(command);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sets the field (no checks; see {@link #check}). */
  public void set(Object command, Object value) {
    try {
      field.set(command, value);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return name() + " (" + expected() + ", default " + format(defaultValue) + ")";
  }
}
