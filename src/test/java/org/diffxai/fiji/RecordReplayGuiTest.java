package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A macro recorded from the dialogs of real commands replays to the same files ({@link RecordReplayScenario}), in
 * Debian's ImageJ 1.53t and in Maven's 1.54p (the version Fiji ships): the image choice records the image's title,
 * the model choice the bundled sample's key, folders in brackets.
 */
class RecordReplayGuiTest {

  @Test
  void recordedDialogsReplayIn153(@TempDir Path tmp) {
    check(ImageJApp.defaultIjJar(), tmp);
  }

  @Test
  void recordedDialogsReplayIn154(@TempDir Path tmp) {
    check(ImageJApp.mavenIjJar().orElseThrow(() -> new AssertionError("no ij-1.x.jar on the test class path")), tmp);
  }

  static void check(Path ijJar, Path tmp) {
    Path work = tmp.resolve("work");
    String entry = "Plugins>Diffusion XAI Test, \"Diffusion Test Record Replay\","
        + " org.diffxai.fiji.RecordReplayScenario(\"" + work + "\")";
    try (ImageJApp app = ImageJApp.builder().dir(tmp.resolve("ImageJ")).ijJar(ijJar).withTestClasses()
        .menuEntry(entry).timeout(Duration.ofSeconds(600)).build()) {
      ImageJApp.Result r = app.run("-run", "Diffusion Test Record Replay");
      assertTrue(r.stdout().contains("SCENARIO_OK"), r.toString());
      Map<String, String> f = GuiDriver.facts(r.stdout());
      Path out = work.resolve("my results");
      assertEquals("Phantoms", f.get("explain.image.selected"), r.toString());
      assertEquals("run(\"Generate Phantoms\", \"count=2 size=64 seed=1 classes=healthy,lesion contrast=T1 ground_truth=masks shortcut=none"
          + " shortcut_class=lesion shortcut_share=0.8 shortcut_corner=top-left output=["
          + out.resolve("phantoms") + "]\");", f.get("recorded.0"), r.toString());
      assertEquals("run(\"Explain with Prototypes\", \"image=Phantoms model=sample-ppnet top=2 target=[] batch=32"
          + " fit=pad map=ig device=cpu output=[" + out.resolve("explain") + "]\");", f.get("recorded.1"), r.toString());
      assertTrue(f.get("replay.files").contains("explain/explain.csv"), f.get("replay.files"));
      assertTrue(f.get("replay.files").contains("phantoms/lesion/phantom_0001.tif"), f.get("replay.files"));
      assertEquals("true", f.get("replay.same_names"), r.toString());
      assertEquals("", f.get("replay.differ"), r.toString());
    }
  }
}
