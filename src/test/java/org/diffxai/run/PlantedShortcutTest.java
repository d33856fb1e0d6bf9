package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffxai.bench.BiasReportBench;
import org.diffxai.metrics.BiasReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Bias Report on real networks trained by Train Prototype Network ({@link BiasReportBench#train}, the bench's
 * setup: 32×32 phantoms, 32 per class; its figures over seeds are in docs/bias-report.md): one on a pure planted
 * shortcut (a mark in the top-right corner is all that separates the classes), and the shortcut data trained again
 * with background=randomize; the report on each network's training folder with masks=auto. The negative control is
 * the bundled sample PPNet on clean phantoms.
 */
class PlantedShortcutTest {
  private static final long SEED = 1;

  @Test
  void theShortcutNetworkIsFlaggedAtItsCorner(@TempDir Path tmp) throws Exception {
    Path[] shortcut = BiasReportBench.train(tmp.resolve("mark"), "mark", SEED, "keep");
    // the network really reads the mark: unseen healthy phantoms are called lesion with it, healthy without it
    double[] called = BiasReportBench.calledLesion(shortcut[1], tmp.resolve("heldout"), SEED);
    assertTrue(called[0] >= 0.8 && called[1] <= 0.2, "marked / plain called lesion: " + called[0] + " / "
        + called[1]);
    BiasReportRun.Result s = BiasReportBench.report(shortcut, tmp.resolve("out"));
    assertTrue(s.verdict.flagged() && s.verdict.region == BiasReport.Region.TOP_RIGHT, s.summary);
    assertTrue(s.summary.contains("SHORTCUT SUSPECTED") && s.summary.contains("top-right corner"), s.summary);
    assertEquals(2 * BiasReportBench.COUNT, s.table.size());
    for (int i = 0; i < s.table.size(); i++) assertEquals("mask", s.table.getString("anatomy", i));
    assertTrue(Files.isRegularFile(tmp.resolve("out").resolve(BiasReportRun.EVIDENCE_FILE)));
    assertTrue(Files.readString(tmp.resolve("out").resolve(BiasReportRun.SUMMARY_FILE)).contains("SHORTCUT"));
  }

  /**
   * The negative control: a network that decides from the anatomy (the bundled sample PPNet, trained on clean
   * phantoms) on clean phantoms is not flagged. (The tiny networks trained on clean data at the bench's budget
   * do not learn the lesion — chance accuracy — and their coin-toss decisions flip with the background in some seeds;
   * docs/bias-report.md.)
   */
  @Test
  void aNetworkThatReadsTheAnatomyIsNotFlagged(@TempDir Path tmp) {
    GeneratePhantomsRun.Request g = new GeneratePhantomsRun.Request();
    g.count = 16;
    g.size = 64;
    g.seed = 5000 + SEED;
    g.output = tmp.resolve("clean").toString();
    GeneratePhantomsRun.run(g, Env.files(org.diffxai.core.Progress.NONE));
    BiasReportRun.Result r = BiasReportBench.report(new Path[] {tmp.resolve("clean"), null}, null, "sample-ppnet");
    int correct = 0;
    for (int i = 0; i < r.table.size(); i++) {
      correct += r.table.getString("image", i).startsWith(r.table.getString("predicted", i) + "/") ? 1 : 0;
    }
    assertTrue(correct >= 0.8 * r.table.size(), correct + " of " + r.table.size() + " right");
    assertFalse(r.verdict.flagged(), r.summary);
  }

  @Test
  void retrainingWithBackgroundRandomizationRemovesTheFlag(@TempDir Path tmp) throws Exception {
    Path[] retrained = BiasReportBench.train(tmp.resolve("mark"), "mark", SEED, "randomize");
    String provenance = Files.readString(retrained[1].resolve("model.json"));
    assertTrue(provenance.replaceAll("\\s", "").contains("\"background\":\"randomize\""), provenance);
    BiasReportRun.Result r = BiasReportBench.report(retrained, null);
    // The shortcut is no longer flagged. (Nothing else separates these classes, so the retrained network decides by
    // coin toss with tiny margins, which any change of the background can flip: a scattered warning, or in some seeds
    // a flag elsewhere, is the report telling the truth about such a network; docs/bias-report.md.)
    assertFalse(r.verdict.flagged() && r.verdict.region == BiasReport.Region.TOP_RIGHT, r.summary);
    // the mark, always in the randomised background during training, no longer decides
    double[] called = BiasReportBench.calledLesion(retrained[1], tmp.resolve("heldout"), SEED);
    assertTrue(Math.abs(called[0] - called[1]) <= 0.25, "marked / plain called lesion: " + called[0] + " / "
        + called[1]);
  }
}
