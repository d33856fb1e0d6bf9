package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffxai.core.Progress;
import org.diffxai.metrics.BiasReport;
import org.diffxai.tf.TinyPrototypeBundles;
import org.diffxai.tf.proto.ProtoBundleWriter;
import org.diffxai.tf.proto.ProtoConfig;
import org.diffxai.tf.proto.PrototypeTraining;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Bias Report's own test (issue 11, item 5): phantoms with a mark planted in the top-right corner of most lesion
 * slices and clean phantoms of the same seed, a tiny prototype network trained on each by the project's trainer, and
 * the report run on each network's training images: the shortcut network is flagged at the top-right corner, the
 * clean one is not.
 */
class PlantedShortcutTest {

  /** Phantoms per class. */
  static final int COUNT = 16;

  /** Generates 32×32 phantoms (with ground truth) and trains a tiny PPNet on them; returns {phantoms, bundle}. */
  static Path[] trained(Path dir, String shortcut, long seed) {
    GeneratePhantomsRun.Request g = new GeneratePhantomsRun.Request();
    g.count = COUNT;
    g.size = TinyPrototypeBundles.SIZE;
    g.seed = seed;
    g.shortcut = shortcut;
    g.shortcut_class = "lesion";
    g.shortcut_share = 0.8;
    g.shortcut_corner = "top-right";
    g.output = dir.resolve("phantoms").toString();
    GeneratePhantomsRun.run(g, Env.files(Progress.NONE));
    Path bundle = dir.resolve("bundle");
    PrototypeTraining.run(dir.resolve("phantoms"), TinyPrototypeBundles.SIZE,
        TinyPrototypeBundles.config(ProtoConfig.Method.PPNET), TinyPrototypeBundles.options().seed(seed).flip(false), 0.2, bundle,
        new ProtoBundleWriter.Metadata().name("tiny-" + shortcut).description("planted-shortcut test"), null);
    return new Path[] {dir.resolve("phantoms"), bundle};
  }

  static BiasReportRun.Result report(Path[] trained, Path out) {
    BiasReportRun.Request r = new BiasReportRun.Request();
    r.image = trained[0].toString();
    r.model = trained[1].toString();
    r.masks = "auto";
    r.device = "cpu";
    r.output = out == null ? "" : out.toString();
    return BiasReportRun.run(r, Env.files(Progress.NONE));
  }

  @Test
  void flagsTheShortcutNetworkAtItsCornerAndNotTheCleanOne(@TempDir Path tmp) throws Exception {
    BiasReportRun.Result shortcut = report(trained(tmp.resolve("mark"), "mark", 3), tmp.resolve("out-mark"));
    BiasReportRun.Result clean = report(trained(tmp.resolve("clean"), "none", 3), null);
    for (BiasReportRun.Result res : new BiasReportRun.Result[] {shortcut, clean}) {
      System.out.println(res.summary);
      for (BiasReport.ImageEvidence e : res.images) {
        System.out.printf(java.util.Locale.ROOT, "DIAG %s %s out=%.3f anat=%.3f where=%s rm=%.3f%n", res.model, e.label,
            e.massOutside, e.anatomyFraction, e.where, e.regionMass[e.where.ordinal()]);
      }
    }
    assertEquals(BiasReport.Verdict.Level.FLAG, shortcut.verdict.level, shortcut.summary);
    assertEquals(BiasReport.Region.TOP_RIGHT, shortcut.verdict.region, shortcut.summary);
    assertTrue(shortcut.summary.contains("top-right corner"), shortcut.summary);
    assertFalse(clean.verdict.flagged(), clean.summary);
    assertTrue(Files.readString(tmp.resolve("out-mark").resolve(BiasReportRun.SUMMARY_FILE))
        .contains("top-right corner"));
  }
}
