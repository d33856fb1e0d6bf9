package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The example macros in macros/ call the project's commands with keys (and literal values) they accept. Variables in
 * option strings are replaced by a placeholder; a command not yet on the class path is reported and skipped.
 */
class MacrosTest {

  static final Map<String, String> MACROS = new LinkedHashMap<>();

  static {
    MACROS.put("generate_phantoms.ijm", "org.diffxai.fiji.GeneratePhantomsCommand");
    MACROS.put("train_denoiser.ijm", "org.diffxai.fiji.TrainDenoiserCommand");
    MACROS.put("synthesize.ijm", "org.diffxai.fiji.SynthesizeCommand");
    MACROS.put("train_prototypes.ijm", "org.diffxai.fiji.TrainPrototypeNetworkCommand");
    MACROS.put("explain_prototypes.ijm", "org.diffxai.fiji.ExplainPrototypesCommand");
    MACROS.put("export_trajectory.ijm", "org.diffxai.fiji.ExportTrajectoryCommand");
    MACROS.put("trajectory_profile.ijm", "org.diffxai.fiji.TrajectoryProfileCommand");
    MACROS.put("compare_methods.ijm", "org.diffxai.fiji.CompareExplanationMethodsCommand");
    MACROS.put("explain_trajectory.ijm", "org.diffxai.fiji.ExplainTrajectoryCommand");
    MACROS.put("export_bioimageio.ijm", "org.diffxai.fiji.ExportBioImageIoCommand");
    MACROS.put("counterfactual.ijm", "org.diffxai.fiji.CounterfactualCommand");
    MACROS.put("synthesize_explanation.ijm", "org.diffxai.fiji.SynthesizeExplanationCommand");
  }

  static final Pattern RUN = Pattern.compile("run\\(\"([^\"]+)\",(.*?)\\);", Pattern.DOTALL);
  static final Pattern LITERAL = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** The option string of a run(...) call with every non-literal piece replaced by "V". */
  static String options(String expression) {
    StringBuilder sb = new StringBuilder();
    Matcher m = LITERAL.matcher(expression);
    int last = 0;
    while (m.find()) {
      if (!expression.substring(last, m.start()).replaceAll("[\\s+]", "").isEmpty()) sb.append('V');
      sb.append(m.group(1));
      last = m.end();
    }
    if (!expression.substring(last).replaceAll("[\\s+]", "").isEmpty()) sb.append('V');
    return sb.toString();
  }

  @Test
  void placeholderExtraction() {
    assertEquals("images=[V] size=64 labels", options(" \"images=[\" + dir + \"] size=64\"\n  + \" labels\""));
  }

  @Test
  void macrosUseValidKeys() throws IOException {
    Path dir = ImageJApp.classesDir(CommandBridge.class).getParent().getParent().resolve("macros");
    List<String> skipped = new ArrayList<>();
    for (Map.Entry<String, String> e : MACROS.entrySet()) {
      String text = new String(Files.readAllBytes(dir.resolve(e.getKey())), StandardCharsets.UTF_8);
      text = text.replaceAll("(?m)//.*$", "");
      try {
        Class.forName(e.getValue());
      } catch (ClassNotFoundException ex) {
        skipped.add(e.getValue());
        continue;
      }
      Matcher m = RUN.matcher(text);
      boolean its = false; // the macro runs the command it is the example of, and every run(...) is valid
      while (m.find()) {
        Class<?> cls = Commands.byLabel(m.group(1), getClass().getClassLoader());
        assertTrue(cls != null, e.getKey() + " runs \"" + m.group(1) + "\", which is not a command of the project");
        its |= cls.getName().equals(e.getValue());
        MacroOptions.parse(options(m.group(2)), CommandSpec.of(cls)); // throws with the key and reason
      }
      assertTrue(its, e.getKey() + " does not run " + e.getValue());
    }
    if (!skipped.isEmpty()) System.out.println("[macros] commands not yet on the class path: " + skipped);
  }
}
