package org.diffxai.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link LocalisationBench} runs end to end on a bundled sample network and prints every row with valid values. */
class LocalisationBenchTest {

  @Test
  void printsLocalisationAndBoxRowsForTheSampleNetwork() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    LocalisationBench.run(List.of("sample-ppnet"), 4, new PrintStream(buf, true, "UTF-8"));
    String out = buf.toString(StandardCharsets.UTF_8.name());
    List<String> rows = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.startsWith("| sample-ppnet |")) rows.add(line);
    }
    assertEquals(4, rows.size(), out); // three map rows, one box row
    for (int r = 0; r < rows.size(); r++) {
      String[] cells = rows.get(r).split("\\|");
      for (int k = 3 - (r == 3 ? 1 : 0); k < cells.length; k++) {
        double v = Double.parseDouble(cells[k].trim().split(" ")[0]);
        // shares, AUCs and accuracies in [0, 1]; column 7 of the map rows is the ratio to the area fraction
        assertTrue(v >= 0 && (v <= 1 || (r < 3 && k == 7)), rows.get(r) + ": column " + k);
      }
    }
    assertTrue(out.contains("4 unseen lesion phantoms"), out);
  }
}
