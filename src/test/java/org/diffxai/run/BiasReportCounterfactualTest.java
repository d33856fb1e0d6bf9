package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.diffxai.core.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bias Report's counterfactuals (the bundled sample denoiser and sample PPNet, real TensorFlow gradients) on clean
 * phantoms with their tissue label maps: every slice gets its counterfactual towards the other class, and a network
 * that reads the anatomy needs its images changed inside the anatomy: the share of the change outside it is smaller
 * than the outside's share of the image.
 */
class BiasReportCounterfactualTest {
  @Test
  void counterfactualsOfANetworkThatReadsTheAnatomyChangeTheAnatomy(@TempDir Path tmp) throws Exception {
    GeneratePhantomsRun.Request g = new GeneratePhantomsRun.Request();
    g.count = 3;
    g.size = 64;
    g.seed = 4242;
    g.output = tmp.resolve("clean").toString();
    GeneratePhantomsRun.run(g, Env.files(Progress.NONE));
    BiasReportRun.Request r = new BiasReportRun.Request();
    r.image = tmp.resolve("clean").toString();
    r.model = "sample-ppnet";
    r.masks = "auto";
    r.map = "upsample";
    r.device = "cpu";
    r.denoiser = "sample";
    r.class_samples = 2;
    r.output = tmp.resolve("out").toString();
    BiasReportRun.Result res = BiasReportRun.run(r, Env.files(Progress.NONE));
    assertEquals(6, res.counterfactuals.size());
    double outsideShare = 0, outsideArea = 0;
    int flipped = 0;
    for (int i = 0; i < 6; i++) {
      BiasReportRun.Change c = res.counterfactuals.get(i);
      assertEquals(c.flipped ? 1 : 0, (int) res.table.getValue("cf_flipped", i));
      assertEquals(c.outside, res.table.getValue("cf_change_outside", i), 1e-12);
      assertTrue(c.outside >= 0 && c.outside <= 1, "share " + c.outside);
      assertTrue(!res.table.getString("cf_target", i).equals(res.table.getString("predicted", i)));
      flipped += c.flipped ? 1 : 0;
      outsideShare += c.outside / 6;
      outsideArea += (1 - res.images.get(i).anatomyFraction) / 6;
    }
    assertTrue(flipped >= 5, flipped + " of 6 flipped");
    assertTrue(outsideShare < outsideArea, "share of the change outside the anatomy " + outsideShare
        + " vs the outside's area " + outsideArea);
    assertTrue(res.summary.contains("Counterfactuals"), res.summary);
    assertTrue(res.provenance.containsKey("denoiser.model.name"), res.provenance.toString());
    // class-maximising images: 2 per class, guided towards their class, each called that class by the network
    assertEquals(4, res.synthesized.size());
    assertEquals(4, res.classSamples.size());
    for (int i = 0; i < 4; i++) {
      BiasReportRun.Change c = res.synthesized.get(i);
      assertEquals(i / 2, c.target);
      assertEquals(c.outside, res.classSamples.getValue("change_outside", i), 1e-12);
      assertTrue(c.flipped, "class-maximising image " + i + " not called its class");
    }
    assertTrue(res.summary.contains("Class-maximising images (4"), res.summary);
    assertTrue(java.nio.file.Files.isRegularFile(tmp.resolve("out").resolve(BiasReportRun.SYNTHESIS_FILE)));
  }
}
