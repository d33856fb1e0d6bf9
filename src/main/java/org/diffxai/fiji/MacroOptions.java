package org.diffxai.fiji;

import org.diffxai.run.InvalidKeyException;
import org.diffxai.run.ParameterSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ImageJ macro option strings, the one syntax shared by macros ({@code run("Synthesize", "model=sample samples=4")}),
 * the recorder and the command line.
 *
 * <p>Reading follows ImageJ ({@code ij.Macro.getValue} and {@code GenericDialog} in macro mode): options are separated
 * by spaces; {@code key=value} ends at the next space; {@code key=[value with spaces]} ends at the matching {@code ]}
 * (nested pairs count, so {@code output=[/data/run[1]/a b]} works; unbalanced brackets inside a value cannot be
 * written); {@code key=} and {@code key=[]} give the empty text; a bare {@code key}
 * switches a flag on and a flag that is left out is off. Keys are case-sensitive. Unlike ImageJ, which ignores what it
 * does not know, every key is checked against the command: an unknown or repeated key, a missing value and a value of
 * the wrong type are errors that say what is valid. As a convenience {@code flag=true} and {@code flag=false} are also
 * accepted (ImageJ itself would read both as off).
 */
public final class MacroOptions {

  private MacroOptions() {}

  /**
   * Splits an option string into keys and value texts, in order. A bare key maps to null.
   *
   * @param options the option string; null or blank gives an empty map
   * @throws InvalidKeyException for a repeated key, an unbalanced {@code [}, text glued after {@code ]}, or no key
   */
  public static Map<String, String> split(String options) {
    Map<String, String> out = new LinkedHashMap<>();
    if (options == null) return out;
    String s = options;
    int n = s.length();
    int i = 0;
    while (true) {
      while (i < n && Character.isWhitespace(s.charAt(i))) i++;
      if (i >= n) break;
      int start = i;
      while (i < n && s.charAt(i) != '=' && !Character.isWhitespace(s.charAt(i))) i++;
      String key = s.substring(start, i);
      if (key.isEmpty()) {
        throw new InvalidKeyException("Option text \"" + excerpt(s, start) + "\" has no key before \"=\"; write"
            + " key=value.");
      }
      if (key.startsWith("[")) {
        throw new InvalidKeyException("Option text \"" + excerpt(s, start) + "\" has no key; write key=[value].");
      }
      String value = null;
      if (i < n && s.charAt(i) == '=') {
        i++;
        if (i < n && s.charAt(i) == '[') {
          int close = matchingBracket(s, i);
          if (close < 0) {
            throw new InvalidKeyException("The value of \"" + key + "\" starts with \"[\" but has no matching"
                + " closing \"]\".");
          }
          value = s.substring(i + 1, close);
          i = close + 1;
          if (i < n && !Character.isWhitespace(s.charAt(i))) {
            throw new InvalidKeyException("The value of \"" + key + "\" ends at its closing \"]\", but \""
                + excerpt(s, i) + "\" follows it; brackets inside a value must be balanced.");
          }
        } else {
          int start2 = i;
          while (i < n && !Character.isWhitespace(s.charAt(i))) i++;
          value = s.substring(start2, i);
        }
      }
      if (out.containsKey(key)) {
        throw new InvalidKeyException("Key \"" + key + "\" is given twice; give each key once.");
      }
      out.put(key, value);
    }
    return out;
  }

  /** Index of the "]" closing the "[" at {@code open}, counting nested pairs as ImageJ does; -1 when unbalanced. */
  private static int matchingBracket(String s, int open) {
    int depth = 0;
    for (int i = open; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '[') depth++;
      else if (c == ']' && --depth == 0) return i;
    }
    return -1;
  }

  private static String excerpt(String s, int from) {
    int end = s.indexOf(' ', from);
    return s.substring(from, end < 0 ? s.length() : end);
  }

  /**
   * Reads an option string for a command: every input gets a value, from the string or else its default, except flags
   * (booleans), which are off unless given, as in ImageJ.
   *
   * @return typed values by key, in the command's parameter order
   * @throws InvalidKeyException naming the key: unknown keys (listing the valid ones), values of the wrong type
   *     (naming the expected type), values outside the choices (listing them) or the range
   */
  public static Map<String, Object> parse(String options, CommandSpec spec) {
    Map<String, String> raw = split(options);
    for (String key : raw.keySet()) {
      if (spec.parameter(key) == null) throw spec.unknownKey(key);
    }
    Map<String, Object> values = new LinkedHashMap<>();
    for (ParameterSpec p : spec.parameters()) {
      if (raw.containsKey(p.name())) values.put(p.name(), p.parse(raw.get(p.name())));
      else if (p.kind() == ParameterSpec.Kind.BOOLEAN) values.put(p.name(), Boolean.FALSE);
      else values.put(p.name(), p.defaultValue());
    }
    return values;
  }

  /**
   * Writes values as the ImageJ recorder does: {@code key=value}, brackets around values with spaces or empty values,
   * flags as the bare key when on and left out when off. Keys follow the command's order; keys missing from
   * {@code values} are left out.
   */
  public static String format(CommandSpec spec, Map<String, ?> values) {
    StringBuilder sb = new StringBuilder();
    for (ParameterSpec p : spec.parameters()) {
      if (!values.containsKey(p.name())) continue;
      Object v = values.get(p.name());
      if (p.kind() == ParameterSpec.Kind.BOOLEAN) {
        if (Boolean.TRUE.equals(v)) append(sb, p.name());
        continue;
      }
      append(sb, p.name() + "=" + quote(p.format(v)));
    }
    return sb.toString();
  }

  private static void append(StringBuilder sb, String s) {
    if (sb.length() > 0) sb.append(' ');
    sb.append(s);
  }

  /** The value as it must appear after {@code key=}: in brackets when empty, starting with "[" or with white space. */
  public static String quote(String value) {
    if (value.isEmpty() || value.startsWith("[")) return "[" + value + "]";
    for (int i = 0; i < value.length(); i++) {
      if (Character.isWhitespace(value.charAt(i))) return "[" + value + "]";
    }
    return value;
  }
}
