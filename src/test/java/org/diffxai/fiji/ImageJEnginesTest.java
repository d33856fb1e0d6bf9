package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.diffxai.model.EngineProbe;
import org.diffxai.model.TorchFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX and TorchScript bundles load offline inside Debian's real ImageJ application (plugin jar in plugins/, the
 * engines' jars in plugins/jars/, ImageJ's plugin class loader) from a macro, and compute what they compute here.
 */
class ImageJEnginesTest {
  @TempDir Path work;

  @Test
  void onnxAndTorchScriptBundlesRunFromAMacroInImageJ() {
    Path unet = TorchFixtures.unet();
    Path cls = TorchFixtures.classifier();
    String[] specs = {"denoiser:" + unet.resolve("onnx"), "denoiser:" + unet.resolve("torchscript"),
        "classifier:" + cls.resolve("onnx"), "classifier:" + cls.resolve("torchscript")};
    List<String> here = EngineProbe.probe(specs);
    try (ImageJApp app = ImageJApp.builder().dir(work.resolve("ImageJ")).withTestClasses()
        .menuEntry(ImageJAppTest.MENU + "\"Diffusion Test Engine Probe\", org.diffxai.fiji.EngineProbePlugin")
        .timeout(Duration.ofSeconds(300)).build()) {
      ImageJApp.Result r = app.runMacro("run(\"Diffusion Test Engine Probe\", \"bundles=[" + String.join(" ", specs)
          + "]\");");
      assertTrue(r.completed(), r.toString());
      List<String> there = new ArrayList<>();
      for (String l : r.log().split("\n")) {
        if (l.startsWith("OK ") || l.startsWith("USER_ERROR ")) there.add(l);
      }
      assertEquals(specs.length, there.size(), r.toString());
      for (int i = 0; i < specs.length; i++) {
        assertTrue(there.get(i).startsWith("OK "), there.get(i));
        String[] a = here.get(i).split(" sum=");
        String[] b = there.get(i).split(" sum=");
        assertEquals(a[0], b[0]);
        double x = Double.parseDouble(a[1]);
        double y = Double.parseDouble(b[1]);
        assertTrue(Math.abs(x - y) <= 1e-4 * Math.max(1, Math.abs(x)), here.get(i) + " vs " + there.get(i));
      }
      System.out.println("In ImageJ " + app.ijJar() + ":\n" + String.join("\n", there));
    }
  }
}
