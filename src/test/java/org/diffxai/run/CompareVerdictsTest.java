package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.diffxai.core.Table;
import org.diffxai.metrics.ModelRandomization;
import org.junit.jupiter.api.Test;

/** The sanity-check verdicts from rows with known intervals. */
class CompareVerdictsTest {

  static CompareMethodsRun.Row row(String method, String metric, double mean, double low, double high) {
    return new CompareMethodsRun.Row("m", method, metric, new double[] {mean}, mean, low, high, 1);
  }

  static String verdict(Table t, String check, String metric) {
    for (int i = 0; i < t.size(); i++) {
      if (t.getString("check", i).equals(check) && t.getString("metric", i).equals(metric)) {
        return t.getString("verdict", i);
      }
    }
    throw new AssertionError("no row " + check + " " + metric);
  }

  @Test
  void intervalsDecideInTheMetricsBetterDirection() {
    String r = CompareMethodsRun.RANDOM, z = CompareMethodsRun.RANDOMIZED, sp = ModelRandomization.SPEARMAN;
    List<CompareMethodsRun.Row> rows = Arrays.asList(
        row("PPNet", "deletion", 0.2, 0.15, 0.25), row(r, "deletion", 0.5, 0.4, 0.6), // lower is better: pass
        row("PPNet", "insertion", 0.2, 0.15, 0.25), row(r, "insertion", 0.5, 0.4, 0.6), // higher is better: fail
        row("PPNet", "monotonicity", 0.5, 0.3, 0.7), row(r, "monotonicity", 0.4, 0.2, 0.6), // overlap
        row(z + "full", sp, 0.05, -0.1, 0.15), row(z + "top", sp, 0.3, 0.25, 0.35),
        row(z + "both", sp, 0.1, -0.1, 0.3));
    Table t = CompareMethodsRun.verdicts(rows);
    assertEquals(6, t.size());
    assertEquals("pass", verdict(t, "better than a random map", "deletion"));
    assertEquals("fail", verdict(t, "better than a random map", "insertion"));
    assertEquals("not shown", verdict(t, "better than a random map", "monotonicity"));
    assertEquals("pass", verdict(t, "model randomisation (full)", sp));
    assertEquals("fail", verdict(t, "model randomisation (top)", sp));
    assertEquals("not shown", verdict(t, "model randomisation (both)", sp));
    assertEquals("PPNet", t.getString("method", 3));
  }
}
