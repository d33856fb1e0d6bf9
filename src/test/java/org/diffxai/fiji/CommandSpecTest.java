package org.diffxai.fiji;

import org.diffxai.run.InvalidKeyException;
import org.diffxai.run.ParameterSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.diffxai.fiji.badfixture.BadConventionsCommand;
import org.junit.jupiter.api.Test;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;

class CommandSpecTest {

  @Test
  void readsInputsInDeclarationOrderWithDefaults() {
    CommandSpec spec = CommandSpec.of(TestWriteCommand.class);
    assertEquals("Diffusion Test Write", spec.label());
    assertEquals(Arrays.asList("count", "text", "mode", "scale", "flag", "fail", "wait_ms", "output"), spec.keys());
    ParameterSpec count = spec.parameter("count");
    assertEquals(ParameterSpec.Kind.INT, count.kind());
    assertEquals(1, count.defaultValue());
    assertEquals(0.0, count.min());
    assertEquals(100.0, count.max());
    assertEquals("A whole number.", count.description());
    assertEquals(Arrays.asList("fast", "slow"), spec.parameter("mode").choices());
    assertEquals(0.5, spec.parameter("scale").defaultValue());
    assertEquals(Boolean.FALSE, spec.parameter("flag").defaultValue());
    assertEquals("", spec.parameter("output").defaultValue());
    // services and outputs are not inputs
    assertEquals(null, spec.parameter("log"));
    assertEquals("log", spec.injectedFields().get(0).getName());
    assertEquals(Arrays.asList("table", "summary"),
        Arrays.asList(spec.outputs().get(0).getName(), spec.outputs().get(1).getName()));
    assertEquals(Arrays.asList(), spec.conventionProblems());
  }

  @Test
  void createsCommandsWithValues() {
    CommandSpec spec = CommandSpec.of(TestWriteCommand.class);
    Map<String, Object> in = new HashMap<>();
    in.put("count", 5);
    in.put("scale", 2); // an Integer from a script is widened
    in.put("text", "a b");
    Object cmd = spec.create(in);
    Map<String, Object> v = spec.values(cmd);
    assertEquals(5, v.get("count"));
    assertEquals(2.0, v.get("scale"));
    assertEquals("a b", v.get("text"));
    assertEquals("fast", v.get("mode"));
    in.put("scael", 1);
    assertTrue(assertThrows(InvalidKeyException.class, () -> spec.create(in)).getMessage()
        .startsWith("Unknown key \"scael\" for Diffusion Test Write. Did you mean \"scale\"?"));
    Map<String, Object> bad = new HashMap<>();
    bad.put("count", 2.5);
    assertEquals("Invalid value for \"count\": 2.5 is not a whole number from 0 to 100.",
        assertThrows(InvalidKeyException.class, () -> spec.create(bad)).getMessage());
  }

  @Test
  void validatesValuesSetByScripts() throws Exception {
    CommandSpec spec = CommandSpec.of(TestWriteCommand.class);
    TestWriteCommand cmd = new TestWriteCommand();
    spec.validate(cmd);
    java.lang.reflect.Field f = TestWriteCommand.class.getDeclaredField("mode");
    f.setAccessible(true);
    f.set(cmd, "FAST");
    assertEquals("Invalid value for \"mode\": \"FAST\". Choose one of: fast, slow.",
        assertThrows(InvalidKeyException.class, () -> spec.validate(cmd)).getMessage());
  }

  @Test
  void reportsEveryConventionViolation() {
    List<String> p = CommandSpec.of(BadConventionsCommand.class).conventionProblems();
    String all = String.join("\n", p);
    assertTrue(all.contains("@Plugin needs a label"), all);
    assertTrue(all.contains("must not have a menuPath"), all);
    assertTrue(all.contains("headless = true"), all);
    assertTrue(all.contains("Parameter \"myCount\": the field name is the macro key and must be snake_case"), all);
    assertTrue(all.contains("Parameter \"myCount\": no label attribute"), all);
    assertTrue(all.contains("Parameter \"on\": booleans must default to false"), all);
    assertTrue(all.contains("Field \"log\": SciJava services must be optional"), all);
    assertTrue(all.contains("Parameter \"pick\": the default (the field initialiser) is not valid"), all);
    assertTrue(all.contains("Parameter \"n\": the default (the field initialiser) is not valid"), all);
    assertTrue(all.contains("Parameter \"m\": min \"one\" is not a number"), all);
    assertTrue(all.contains("Parameter \"numbered\": choices are only supported on String fields"), all);
    assertTrue(all.contains("Parameters myCount, on, pick, n, m, numbered: add persist = false to each."), all);
    assertEquals(12, p.size(), all);
  }

  public static class FileInput implements Command {
    @Parameter
    File file;

    @Override
    public void run() {}
  }

  @Test
  void rejectsUnsupportedInputTypes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CommandSpec.of(FileInput.class));
    assertTrue(e.getMessage().contains("unsupported input type for file (File)"), e.getMessage());
  }

  @Test
  void labelFromClassName() {
    assertEquals("Generate Phantoms", CommandSpec.labelFromClassName("GeneratePhantomsCommand"));
    assertEquals("Synthesize", CommandSpec.labelFromClassName("SynthesizeCommand"));
  }
}
