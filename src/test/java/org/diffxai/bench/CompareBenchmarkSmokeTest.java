package org.diffxai.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Part (g) of the benchmark in {@code --quick} mode (stand-in networks trained in the work directory, 4 phantoms):
 * every row and the comparison table are printed. Timings are not checked.
 */
class CompareBenchmarkSmokeTest {
  @TempDir Path work;

  @Test
  void quickRunPrintsTheRowsAndTheComparisonTable() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream l = new PrintStream(log, true, StandardCharsets.UTF_8)) {
      code = Benchmark.run(new String[] {"--quick", "--only", "g", "--work", work.toString()}, o, l);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    System.out.println(text);
    String diag = "stdout:\n" + text + "\nstderr:\n" + log.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, diag);
    assertTrue(text.contains("| g1 | Images for (g) | 4 images |"), diag);
    for (String m : new String[] {"PPNet", "EPPNet", "ProtoPool"}) {
      assertTrue(text.matches("(?s).*\\| g\\d \\| " + m + " \\(stand-in-" + m + "\\): .*\\| \\d+\\.\\d s \\(.*"), m
          + "\n" + diag);
      assertTrue(text.contains("| stand-in-" + m + " | " + m + " | deletion | "), diag);
      assertTrue(text.contains("| stand-in-" + m + " | random | insertion | "), diag);
      assertTrue(text.contains("| stand-in-" + m + " | randomized_full | spearman_vs_real | "), diag);
    }
    assertTrue(text.contains("| g5 | Whole comparison: 3 methods × all metrics × 4 images"), diag);
    // 3 models x (8 own + 5 random + 4 randomisation) rows in the comparison table
    assertEquals(51, text.lines().filter(l -> l.startsWith("| stand-in-")).count(), diag);
  }
}
