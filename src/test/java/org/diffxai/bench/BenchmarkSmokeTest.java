package org.diffxai.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the benchmark in {@code --quick} mode and checks that it prints every row of the table with a finite number.
 * Timings are NOT checked: they depend on the machine and its load, and the quick sizes are too small to mean anything.
 */
class BenchmarkSmokeTest {
  static final String[] ROWS = {"a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2", "b3", "b4", "b5", "c1", "c2", "c3",
      "d1", "d2", "d3", "d4", "d5", "e1", "e2", "e3", "e4", "e5", "e6", "f1", "f2", "f3", "f4", "f5", "f6", "f7"};
  static final Pattern NUMBER = Pattern.compile("[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?|NaN|Infinity");

  @TempDir Path work;

  @Test
  void quickRunPrintsEveryRowWithFiniteNumbers() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream l = new PrintStream(log, true, StandardCharsets.UTF_8)) {
      code = Benchmark.run(new String[] {"--quick", "--work", work.toString()}, o, l);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    System.out.println(text); // the table in the test log; its timings mean nothing at --quick sizes
    String diag = "stdout:\n" + text + "\nstderr:\n" + log.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, diag);
    assertTrue(text.contains("| # | Measure | Value | Target | Result |"), diag);
    assertTrue(text.contains("Machine: "), diag);

    Map<String, String[]> rows = new HashMap<>();
    for (String line : text.split("\n")) {
      if (!line.startsWith("| ")) continue;
      String[] cells = line.substring(2, line.length() - 2).split(" \\| ", -1);
      if (cells.length == 5) rows.put(cells[0].trim(), cells);
    }
    for (String id : ROWS) {
      String[] r = rows.get(id);
      assertNotNull(r, "row " + id + " missing\n" + diag);
      assertFalse(r[2].trim().startsWith("error"), "row " + id + ": " + r[2] + "\n" + diag);
      Matcher m = NUMBER.matcher(r[2]);
      assertTrue(m.find(), "row " + id + " has no number: " + r[2]);
      double v = Double.parseDouble(m.group());
      assertTrue(Double.isFinite(v), "row " + id + " value not finite: " + r[2]);
      String result = r[4].trim();
      assertTrue(result.equals("pass") || result.equals("fail") || result.equals("—"),
          "row " + id + " result: " + result + "\n" + diag);
      assertNotEquals("error", result);
    }
  }
}
