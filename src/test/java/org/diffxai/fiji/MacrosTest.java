package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The example macros in macros/ (every *.ijm file there) call the project's commands with keys (and literal values)
 * they accept: a macro whose command is not on the class path, or that runs no command, fails. Variables in option
 * strings are replaced by a placeholder. Every menu command has an example macro.
 */
class MacrosTest {

  /** run("Label") or run("Label", options). */
  static final Pattern RUN = Pattern.compile("\\brun\\(\\s*\"([^\"]+)\"\\s*(?:,(.*?))?\\);", Pattern.DOTALL);
  static final Pattern LITERAL = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** Stands for a macro variable in an option string. */
  static final String VAR = "\u00abvar\u00bb";

  /** The option string of a run(...) call with every non-literal piece replaced by {@link #VAR}. */
  static String options(String expression) {
    StringBuilder sb = new StringBuilder();
    Matcher m = LITERAL.matcher(expression);
    int last = 0;
    while (m.find()) {
      if (!expression.substring(last, m.start()).replaceAll("[\\s+]", "").isEmpty()) sb.append(VAR);
      sb.append(m.group(1));
      last = m.end();
    }
    if (!expression.substring(last).replaceAll("[\\s+]", "").isEmpty()) sb.append(VAR);
    return sb.toString();
  }

  @Test
  void placeholderExtraction() {
    assertEquals("images=[" + VAR + "] size=64 labels",
        options(" \"images=[\" + dir + \"] size=64\"\n  + \" labels\""));
  }

  static Path macrosDir() {
    return ImageJApp.classesDir(CommandBridge.class).getParent().getParent().resolve("macros");
  }

  static List<Path> macros() throws IOException {
    try (Stream<Path> files = Files.list(macrosDir())) {
      return files.filter(p -> p.getFileName().toString().endsWith(".ijm")).sorted().collect(Collectors.toList());
    }
  }

  /** The command classes a macro runs (each run(...) checked: known command, valid keys). */
  static Set<String> commandsRun(Path macro) throws IOException {
    String text = new String(Files.readAllBytes(macro), StandardCharsets.UTF_8).replaceAll("(?m)//.*$", "");
    Set<String> out = new LinkedHashSet<>();
    Matcher m = RUN.matcher(text);
    while (m.find()) {
      Class<?> cls = Commands.byLabel(m.group(1), MacrosTest.class.getClassLoader());
      assertTrue(cls != null, macro.getFileName() + " runs \"" + m.group(1) + "\", which is not a command on the class"
          + " path (" + Commands.labels(MacrosTest.class.getClassLoader()) + ")");
      try {
        check(m.group(2) == null ? "" : options(m.group(2)), CommandSpec.of(cls));
      } catch (RuntimeException e) {
        throw new AssertionError(macro.getFileName() + ": " + e.getMessage(), e);
      }
      out.add(cls.getName());
    }
    return out;
  }

  /** Every key must be the command's; literal values must be valid, values built from variables are not checked. */
  static void check(String options, CommandSpec spec) {
    Map<String, String> literal = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, String> e : MacroOptions.split(options).entrySet()) {
      if (spec.parameter(e.getKey()) == null) throw spec.unknownKey(e.getKey());
      if (e.getValue() == null || !e.getValue().contains(VAR)) literal.put(e.getKey(), e.getValue());
    }
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : literal.entrySet()) {
      sb.append(e.getKey());
      if (e.getValue() != null) sb.append("=[").append(e.getValue()).append(']');
      sb.append(' ');
    }
    MacroOptions.parse(sb.toString(), spec);
  }

  @Test
  void variablesAreNotCheckedButKeysAre() {
    CommandSpec spec = CommandSpec.of(GeneratePhantomsCommand.class);
    check("count=2 size=" + VAR + " output=[" + VAR + "/x]", spec);
    assertThrows(RuntimeException.class, () -> check("count=two size=" + VAR, spec));
    assertThrows(RuntimeException.class, () -> check("cuont=2 size=" + VAR, spec));
  }

  @Test
  void macrosUseValidKeys() throws IOException {
    List<Path> macros = macros();
    assertTrue(macros.size() >= 10, "macros/ holds " + macros);
    for (Path macro : macros) assertFalse(commandsRun(macro).isEmpty(), macro.getFileName() + " runs no command");
  }

  @Test
  void everyMenuCommandHasAnExampleMacro() throws IOException {
    Set<String> run = new LinkedHashSet<>();
    for (Path macro : macros()) run.addAll(commandsRun(macro));
    for (Map.Entry<String, String> e : DocsKeys.menuCommands(getClass().getClassLoader()).entrySet()) {
      assertTrue(run.contains(e.getValue()), "no macro in macros/ runs \"" + e.getKey() + "\"");
    }
  }
}
