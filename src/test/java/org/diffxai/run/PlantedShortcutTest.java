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
 * The Bias Report's own test (issue 11, item 5): phantoms with a mark planted in the top-right corner of most lesion
 * slices and clean phantoms of the same seed, a tiny prototype network trained on each by the project's trainer
 * ({@link BiasReportBench#train}), and the report run on each network's training images: the shortcut network is
 * flagged at the top-right corner, the clean one is not.
 */
class PlantedShortcutTest {

  @Test
  void flagsTheShortcutNetworkAtItsCornerAndNotTheCleanOne(@TempDir Path tmp) throws Exception {
    BiasReportRun.Result shortcut = BiasReportBench.report(BiasReportBench.train(tmp.resolve("mark"), "mark", 3),
        tmp.resolve("out-mark"));
    BiasReportRun.Result clean = BiasReportBench.report(BiasReportBench.train(tmp.resolve("clean"), "none", 3), null);
    for (BiasReportRun.Result res : new BiasReportRun.Result[] {shortcut, clean}) {
      System.out.println(res.summary);
      for (int i = 0; i < res.table.size(); i++) {
        System.out.printf(java.util.Locale.ROOT, "DIAG %s %s pred=%s out=%.3f dens=%.3f where=%s rm=%.3f%n",
            res.model, res.table.getString("image", i), res.table.getString("predicted", i),
            res.table.getValue("mass_outside", i), res.table.getValue("density_outside", i),
            res.table.getString("region", i), res.table.getValue("region_mass", i));
      }
      for (int i = 0; i < res.prototypes.size(); i++) {
        System.out.println("PROTO " + res.model + " " + res.prototypes.getString("class", i) + " "
            + res.prototypes.getValue("source_outside", i) + " " + res.prototypes.getString("region", i));
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
