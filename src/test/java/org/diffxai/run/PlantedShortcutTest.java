package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffxai.bench.BiasReportBench;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Bias Report on real networks trained by the project's trainer ({@link BiasReportBench#train}): one on clean
 * healthy/lesion phantoms, one on a pure planted shortcut (a mark in the top-right corner is all that separates the
 * classes), the report run on each network's training folder with masks=auto. Asserted: the clean network is not
 * flagged, every image's anatomy came from its label map, and the files are written. Not asserted, because it is not
 * met yet (docs/bias-report.md, "Measured"): that the shortcut network is flagged at the top-right corner.
 */
class PlantedShortcutTest {

  @Test
  void cleanNetworkIsNotFlaggedAndTheReportRunsOnRealNetworks(@TempDir Path tmp) throws Exception {
    BiasReportRun.Result clean = BiasReportBench.report(BiasReportBench.train(tmp.resolve("clean"), "none", 3),
        tmp.resolve("out-clean"));
    BiasReportRun.Result shortcut = BiasReportBench.report(BiasReportBench.train(tmp.resolve("mark"), "mark", 3),
        null);
    System.out.println(clean.summary);
    System.out.println(shortcut.summary);
    assertFalse(clean.verdict.flagged(), clean.summary);
    for (BiasReportRun.Result r : new BiasReportRun.Result[] {clean, shortcut}) {
      assertEquals(2 * BiasReportBench.COUNT, r.table.size());
      for (int i = 0; i < r.table.size(); i++) assertEquals("mask", r.table.getString("anatomy", i));
      assertEquals(r.verdict.images, r.images.size());
    }
    String md = Files.readString(tmp.resolve("out-clean").resolve(BiasReportRun.SUMMARY_FILE));
    assertTrue(md.startsWith("# Bias report") && md.contains("No shortcut flag"), md);
    assertTrue(Files.isRegularFile(tmp.resolve("out-clean").resolve(BiasReportRun.TABLE_FILE)));
    assertTrue(Files.isRegularFile(tmp.resolve("out-clean").resolve(BiasReportRun.PROVENANCE_FILE)));
  }
}
