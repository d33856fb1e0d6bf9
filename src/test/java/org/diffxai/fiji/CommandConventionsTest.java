package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every command of the project follows the conventions (docs/frontends.md), and plugins.config agrees with the
 * commands. Commands written in parallel by others are checked as soon as they are on the class path.
 */
class CommandConventionsTest {

  static final Pattern LINE = Pattern.compile(
      "Plugins>Diffusion XAI, \"([^\"]+)\", org\\.diffxai\\.fiji\\.CommandBridge\\(\"([A-Za-z0-9_.$]+)\"\\)");

  @Test
  void everyIndexedCommandFollowsTheConventions() {
    Map<String, String> index = Commands.index(getClass().getClassLoader());
    assertTrue(index.containsKey("Diffusion Test Write"), index.toString());
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, String> e : index.entrySet()) {
      if (e.getValue().startsWith("org.diffxai.fiji.badfixture.")) continue;
      try {
        for (String p : CommandSpec.of(Class.forName(e.getValue())).conventionProblems()) {
          problems.add(e.getValue() + ": " + p);
        }
      } catch (ClassNotFoundException | RuntimeException ex) {
        problems.add(e.getValue() + ": " + ex);
      }
    }
    assertEquals(new ArrayList<String>(), problems, String.join("\n", problems));
  }

  @Test
  void pluginsConfigNamesTheCommandsByTheirLabels() throws IOException {
    String cfg;
    try (InputStream in = getClass().getClassLoader().getResourceAsStream("plugins.config")) {
      assertTrue(in != null, "plugins.config is not on the class path (packaged at the jar root)");
      cfg = new String(readAll(in), StandardCharsets.UTF_8);
    }
    List<String> labels = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (String line : cfg.split("\n")) {
      line = line.trim();
      if (line.isEmpty() || line.startsWith("#")) continue;
      Matcher m = LINE.matcher(line);
      if (!m.matches()) fail("plugins.config line does not use the bridge under Plugins>Diffusion XAI: " + line);
      labels.add(m.group(1));
      Class<?> cls;
      try {
        cls = Class.forName(m.group(2));
      } catch (ClassNotFoundException e) {
        missing.add(m.group(2)); // written in parallel by others; the bridge reports it clearly meanwhile
        continue;
      }
      CommandSpec spec = CommandSpec.of(cls);
      assertEquals(m.group(1), spec.label(), "plugins.config label and @Plugin label of " + cls.getName());
      assertEquals(new ArrayList<String>(), spec.conventionProblems(), cls.getName());
    }
    assertEquals(java.util.Arrays.asList("Generate Phantoms", "Train Denoiser", "Synthesize", "Export Trajectory",
        "Trajectory Profile", "Train Prototype Network", "Explain with Prototypes", "Faithfulness Score",
        "Compare Explanation Methods", "Explain Trajectory", "Export bioimage.io", "Counterfactual",
        "Synthesize Explanation"), labels);
    if (!missing.isEmpty()) System.out.println("[plugins.config] not yet on the class path: " + missing);
  }

  private static byte[] readAll(InputStream in) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] b = new byte[8192];
    for (int r; (r = in.read(b)) > 0; ) out.write(b, 0, r);
    return out.toByteArray();
  }
}
