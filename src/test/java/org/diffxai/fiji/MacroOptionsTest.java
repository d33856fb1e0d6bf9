package org.diffxai.fiji;

import org.diffxai.run.InvalidKeyException;
import org.diffxai.run.ParameterSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.Macro;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MacroOptionsTest {

  static final CommandSpec SPEC = CommandSpec.of(TestWriteCommand.class);

  static String error(String options) {
    return assertThrows(InvalidKeyException.class, () -> MacroOptions.parse(options, SPEC)).getMessage();
  }

  @Test
  void splitsLikeImageJ() {
    Map<String, String> m = MacroOptions.split("a=1 b=[x y]  c d= e=[] f=x=y g=[ spaced ] ");
    assertEquals("1", m.get("a"));
    assertEquals("x y", m.get("b"));
    assertTrue(m.containsKey("c"));
    assertNull(m.get("c"));
    assertEquals("", m.get("d"));
    assertEquals("", m.get("e"));
    assertEquals("x=y", m.get("f"));
    assertEquals(" spaced ", m.get("g"));
    assertEquals(7, m.size());
    assertTrue(MacroOptions.split(null).isEmpty());
    assertTrue(MacroOptions.split("   ").isEmpty());
  }

  /** The same values as ImageJ's own Macro.getValue, for random well-formed option strings. */
  @Test
  void agreesWithImageJMacroGetValue() {
    String[] keys = {"alpha", "beta", "c_d", "delta_1", "e"};
    String[] values = {"1", "-2.5e-3", "x y", "", "/tmp/a b/c.tif", "a=b", " padded ", "ddim", "/data/run[1]/a b",
        "[a] [b]", "[]", "x]"};
    Random rnd = new Random(42);
    for (int trial = 0; trial < 500; trial++) {
      List<String> parts = new ArrayList<>();
      Map<String, String> expected = new LinkedHashMap<>();
      for (String k : keys) {
        if (rnd.nextInt(3) == 0) continue;
        String v = values[rnd.nextInt(values.length)];
        boolean brackets =
            v.isEmpty() || v.contains(" ") || v.startsWith("[") || (rnd.nextBoolean() && !v.contains("]"));
        parts.add(k + "=" + (brackets ? "[" + v + "]" : v));
        expected.put(k, v);
      }
      java.util.Collections.shuffle(parts, rnd);
      String options = String.join(rnd.nextBoolean() ? " " : "  ", parts);
      Map<String, String> ours = MacroOptions.split(options);
      assertEquals(expected, ours, options);
      for (String k : keys) {
        String theirs = Macro.getValue(options + " ", k, null);
        assertEquals(theirs, ours.get(k), "key " + k + " in: " + options);
      }
    }
  }

  @Test
  void absentKeysGetDefaultsAndFlagsAreOff() {
    Map<String, Object> v = MacroOptions.parse("output=/tmp/x", SPEC);
    assertEquals(1, v.get("count"));
    assertEquals("x", v.get("text"));
    assertEquals("fast", v.get("mode"));
    assertEquals(0.5, v.get("scale"));
    assertEquals(Boolean.FALSE, v.get("flag"));
    assertEquals("/tmp/x", v.get("output"));
    assertEquals(SPEC.keys(), new ArrayList<>(v.keySet()));
  }

  @Test
  void parsesTypedValues() {
    Map<String, Object> v = MacroOptions.parse("count=4.0 text=[] scale=1e-3 flag mode=slow", SPEC);
    assertEquals(4, v.get("count"));
    assertEquals("", v.get("text"));
    assertEquals(0.001, v.get("scale"));
    assertEquals(Boolean.TRUE, v.get("flag"));
    assertEquals("slow", v.get("mode"));
    assertEquals(Boolean.TRUE, MacroOptions.parse("flag=true", SPEC).get("flag"));
    assertEquals(Boolean.FALSE, MacroOptions.parse("flag=false", SPEC).get("flag"));
    assertEquals("", MacroOptions.parse("text=", SPEC).get("text"));
  }

  @Test
  void unknownKeyListsValidKeys() {
    assertEquals("Unknown key \"cuont\" for Diffusion Test Write. Did you mean \"count\"? Valid keys: count, text,"
        + " mode, scale, flag, fail, wait_ms, output.", error("cuont=3"));
    assertEquals("Unknown key \"Count\" for Diffusion Test Write. Did you mean \"count\"? Valid keys: count, text,"
        + " mode, scale, flag, fail, wait_ms, output.", error("Count=3"));
    assertEquals("Unknown key \"zebra\" for Diffusion Test Write. Valid keys: count, text, mode, scale, flag, fail,"
        + " wait_ms, output.", error("count=2 zebra"));
  }

  @Test
  void typeErrorsNameKeyAndExpectedType() {
    assertEquals("Invalid value for \"count\": \"abc\" is not a whole number from 0 to 100.", error("count=abc"));
    assertEquals("Invalid value for \"count\": \"4.5\" is not a whole number from 0 to 100. It must not have a"
        + " fractional part.", error("count=4.5"));
    assertEquals("Invalid value for \"count\": 101. It must be a whole number from 0 to 100.", error("count=101"));
    assertEquals("Invalid value for \"scale\": \"NaN\" is not a number.", error("scale=NaN"));
    assertEquals("Invalid value for \"scale\": \"\" is not a number.", error("scale=[]"));
    assertEquals("Key \"count\" needs a value (whole number from 0 to 100), e.g. count=1.", error("count"));
    assertEquals("Invalid value for \"flag\": \"maybe\" is not a flag. Write just \"flag\" to switch it on and leave it"
        + " out to switch it off.", error("flag=maybe"));
    assertEquals("Invalid value for \"wait_ms\": -1. It must be a whole number >= 0.", error("wait_ms=-1"));
  }

  @Test
  void choiceErrorsListChoices() {
    assertEquals("Invalid value for \"mode\": \"medium\". Choose one of: fast, slow.", error("mode=medium"));
    assertEquals("Invalid value for \"mode\": \"Fast\". Choose one of: fast, slow.", error("mode=Fast"));
  }

  @Test
  void syntaxErrors() {
    assertEquals("Key \"count\" is given twice; give each key once.", error("count=1 count=2"));
    assertEquals("The value of \"text\" starts with \"[\" but has no matching closing \"]\".", error("text=[a b"));
    assertEquals("The value of \"text\" starts with \"[\" but has no matching closing \"]\".", error("text=[a[b]"));
    assertEquals("The value of \"text\" ends at its closing \"]\", but \"b]\" follows it; brackets inside a value"
        + " must be balanced.", error("text=[a]b]"));
    assertEquals("/d/run[1]/a b", MacroOptions.parse("text=[/d/run[1]/a b] count=2", SPEC).get("text"));
    assertEquals("Option text \"=3\" has no key before \"=\"; write key=value.", error("=3"));
  }

  @Test
  void formatWritesWhatTheRecorderWritesAndReadsBack() {
    Map<String, Object> v = MacroOptions.parse("count=7 text=[hello world] mode=slow scale=0.25 flag output=[/a b/c]",
        SPEC);
    String s = MacroOptions.format(SPEC, v);
    assertEquals("count=7 text=[hello world] mode=slow scale=0.25 flag fail=none wait_ms=0 output=[/a b/c]", s);
    assertEquals(v, MacroOptions.parse(s, SPEC));
    assertEquals("count=1 text=x mode=fast scale=0.5 fail=none wait_ms=0 output=[]",
        MacroOptions.format(SPEC, SPEC.defaults()));
  }

  @Test
  void numbersFormatReadably() {
    assertEquals("0.0001", ParameterSpec.format(ParameterSpec.Kind.DOUBLE, 1e-4));
    assertEquals("1", ParameterSpec.format(ParameterSpec.Kind.DOUBLE, 1.0));
    assertEquals("1000", ParameterSpec.format(ParameterSpec.Kind.DOUBLE, 1000.0));
    assertEquals("0.1", ParameterSpec.format(ParameterSpec.Kind.FLOAT, 0.1f));
    assertEquals("1E-7", ParameterSpec.format(ParameterSpec.Kind.DOUBLE, 1e-7));
    assertEquals("-2.5", ParameterSpec.format(ParameterSpec.Kind.DOUBLE, -2.5));
  }
}
