package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.run.ParameterSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command's dialog in the real ImageJ application (Debian's 1.53t) under Xvfb, opened as a menu click opens it
 * ({@link DialogsScenario}): the first line is the command's description, every label starts with its macro key,
 * image keys are choices of the open images (newest first, the active one preselected) with "Choose a file…", model
 * keys offer the bundled samples, path keys have a Browse… button. Screenshots: target/screenshots/dialog-*.png.
 */
class DialogsGuiTest {

  static final Path SHOTS = Paths.get("target", "screenshots").toAbsolutePath();

  @Test
  void everyDialogShowsWhatTheParameterModelSays(@TempDir Path tmp) throws Exception {
    String entry = "Plugins>Diffusion XAI Test, \"Diffusion Test Dialogs\", org.diffxai.fiji.DialogsScenario(\""
        + SHOTS + "\")";
    try (ImageJApp app = ImageJApp.builder().dir(tmp.resolve("ImageJ")).withTestClasses().menuEntry(entry)
        .timeout(Duration.ofSeconds(300)).build()) {
      ImageJApp.Result r = app.run("-run", "Diffusion Test Dialogs");
      assertTrue(r.stdout().contains("SCENARIO_OK"), r.toString());
      Map<String, String> f = GuiDriver.facts(r.stdout());
      assertEquals("newer image", f.get("active"), r.toString());
      for (String cls : DocsKeys.menuCommands(getClass().getClassLoader()).values()) {
        CommandSpec spec = CommandSpec.of(Class.forName(cls));
        String p = "dialog." + spec.label() + ".";
        assertEquals(spec.description(), f.get(p + "description").replace('|', ' '), p);
        List<String> labels = Arrays.asList(f.get(p + "labels").split(" ; "));
        for (ParameterSpec ps : spec.parameters()) {
          String k = p + ps.name() + ".";
          assertTrue(labels.contains(CommandDialog.label(ps)), k + " label in " + labels);
          assertEquals(ps.name(), CommandDialog.label(ps).split(" ")[0], k);
          String style = ps.style().toLowerCase(Locale.ROOT);
          if (ps.kind() == ParameterSpec.Kind.BOOLEAN) {
            assertEquals("Checkbox", f.get(k + "widget"), k);
          } else if (style.startsWith("image")) {
            assertEquals("Choice", f.get(k + "widget"), k);
            String items = f.get(k + "items");
            assertTrue(items.startsWith("newer image ; older image ; "), k + items);
            String choosers = " ; " + CommandDialog.CHOOSE_FILE
                + (style.contains("directory") ? " ; " + CommandDialog.CHOOSE_FOLDER : "");
            assertTrue(items.endsWith(choosers), k + items);
            boolean active = CommandDialog.required(spec, ps)
                || CommandDialog.emptyMeaning(ps.description()).contains("active image");
            assertEquals(active ? "newer image" : "(" + CommandDialog.emptyMeaning(ps.description()) + ")",
                f.get(k + "selected"), k);
          } else if (style.startsWith("model:")) {
            assertEquals("Choice", f.get(k + "widget"), k);
            List<String> samples = style.endsWith("denoiser") ? DenoiserBundle.availableSamples()
                : ClassifierBundle.availableSamples();
            assertTrue(!samples.isEmpty(), k);
            assertTrue(f.get(k + "items").startsWith(String.join(" ; ", samples)), k + f.get(k + "items"));
            assertTrue(f.get(k + "items").endsWith(CommandDialog.CHOOSE_MODEL), k + f.get(k + "items"));
            String def = ps.format(ps.defaultValue());
            if (!def.isEmpty()) assertEquals(def, f.get(k + "selected"), k);
          } else if (!ps.choices().isEmpty()) {
            assertEquals("Choice", f.get(k + "widget"), k);
            assertEquals(String.join(" ; ", ps.choices()), f.get(k + "items"), k);
          } else {
            assertEquals("TextField", f.get(k + "widget"), k);
            assertEquals(ps.format(ps.defaultValue()), f.get(k + "text"), k);
            boolean path = style.equals("file") || style.equals("save") || style.equals("directory");
            assertEquals(String.valueOf(path), f.get(k + "button"), k);
          }
        }
      }
    }
  }
}
