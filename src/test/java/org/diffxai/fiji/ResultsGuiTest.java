package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees of the results in the real ImageJ application (Debian's 1.53t) under Xvfb ({@link ResultsScenario}
 * with the real sample models): unique titles, composite hyperstacks with a lookup table and display range per
 * channel, heat maps on one scale with a calibration bar, small images zoomed, windows side by side, live plots, the
 * status bar while TensorFlow loads, and a failed dialog run. Screenshots: target/screenshots/results-*.png.
 */
class ResultsGuiTest {

  static final String GREY = "0/0/0 128/128/128 255/255/255";
  static final String HEAT = "0/0/0 255/129/0 255/255/255";
  static final String SIGNED = "0/0/255 255/254/254 255/0/0";

  @Test
  void resultWindowsShowWhatTheUserNeeds(@TempDir Path tmp) {
    String entry = "Plugins>Diffusion XAI Test, \"Diffusion Test Results\", org.diffxai.fiji.ResultsScenario(\""
        + DialogsGuiTest.SHOTS + "\")";
    try (ImageJApp app = ImageJApp.builder().dir(tmp.resolve("ImageJ")).withTestClasses().menuEntry(entry)
        .screen(2560, 1440).timeout(Duration.ofSeconds(900)).build()) {
      ImageJApp.Result r = app.run("-run", "Diffusion Test Results");
      assertTrue(r.stdout().contains("SCENARIO_OK"), r.toString());
      Map<String, String> f = GuiDriver.facts(r.stdout());
      String all = r.toString();

      // status bar while the runtime and the model load
      assertTrue(f.get("statuses").contains("Opening model sample (loading TensorFlow first"), f.get("statuses"));

      // unique titles; grey composite trajectory; 64-pixel images zoomed to 256
      for (String t : new String[] {"Synthesized", "Synthesized-2", "Trajectory", "Trajectory-2", "Synthesis",
          "Synthesis-2"}) {
        assertTrue(f.containsKey("synthesize." + t + ".kind"), t + "\n" + all);
      }
      assertEquals("image", f.get("synthesize.Synthesized-2.kind"));
      assertEquals("table", f.get("synthesize.Synthesis-2.kind"));
      assertEquals("4.0", f.get("synthesize.Synthesized.magnification"));
      assertEquals("color", f.get("synthesize.Trajectory.composite"));
      assertEquals("2,2,6", f.get("synthesize.Trajectory.dims"));
      assertEquals(GREY, f.get("synthesize.Trajectory.c1.lut"));
      assertEquals(GREY, f.get("synthesize.Trajectory.c2.lut"));
      assertEquals("", f.get("synthesize.Trajectory.calibration"));
      assertEquals("", f.get("synthesize.overlaps"), all);

      // heat maps: a composite, grey image channel, diverging contribution, heat prototype maps on one scale
      String h = "trajectory.Heatmaps.";
      assertEquals("color", f.get(h + "composite"), all);
      assertEquals("4,2,6", f.get(h + "dims"));
      assertEquals(GREY, f.get(h + "c1.lut"));
      assertEquals(SIGNED, f.get(h + "c2.lut"));
      assertEquals(HEAT, f.get(h + "c3.lut"));
      assertEquals(HEAT, f.get(h + "c4.lut"));
      assertEquals(f.get(h + "c3.range"), f.get(h + "c4.range"), "heat channels share one scale");
      String[] signed = f.get(h + "c2.range").split(",");
      assertEquals(-Double.parseDouble(signed[0]), Double.parseDouble(signed[1]), 1e-12, "signed range symmetric");
      assertTrue(f.get(h + "c3.label").matches("top1 sample 1 step 1 .*\\[-?[0-9.e-]+ \u2026 -?[0-9.e-]+\\]"),
          f.get(h + "c3.label"));
      assertTrue(f.get(h + "calibration").contains("top1, top2: "), f.get(h + "calibration"));
      assertTrue(f.get(h + "calibration").contains("contribution: "), f.get(h + "calibration"));
      assertEquals("4.0", f.get(h + "magnification"));
      assertEquals("plot", f.get("trajectory.Trajectory profile of Trajectory-2.kind"), all);
      assertTrue(f.entrySet().stream().anyMatch(e -> e.getKey().startsWith("trajectory.Explain Trajectory")
          && e.getKey().endsWith(".kind") && e.getValue().equals("plot")), all);
      assertEquals("", f.get("trajectory.overlaps"), all);

      // phantoms, explanation, faithfulness and comparison plots
      assertEquals("4.0", f.get("explain.Phantoms.magnification"), all);
      // the image and the table share the title (the facts map keeps the last): look in the output itself
      assertTrue(r.stdout().contains("FACT explain.Prototype explanation.kind=image\n"), all);
      assertTrue(java.util.regex.Pattern.compile("(?m)^FACT explain\\..*\\.kind=plot$").matcher(r.stdout()).results()
          .count() >= 2, all); // the Faithfulness and the Compare plot share a title
      assertEquals("", f.get("explain.overlaps"), all);

      // a failed dialog run
      assertEquals("/nonexistent", f.get("error.chosen"));
      assertTrue(f.get("error.text").contains("Type 'sample' in the model field"), f.get("error.text"));
      assertFalse(f.get("error.text").contains("model="), f.get("error.text"));
      assertEquals("", f.get("error.status"));
      assertEquals("sample", f.get("error.next_model"));
    }
  }
}
