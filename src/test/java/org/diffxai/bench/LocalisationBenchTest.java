package org.diffxai.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.diffxai.core.PrototypeMapKind;
import org.junit.jupiter.api.Test;

/** {@link LocalisationBench} runs end to end on a bundled sample network and prints every row with valid values. */
class LocalisationBenchTest {

  @Test
  void printsOneRowPerMapKindForTheSampleNetwork() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    LocalisationBench.run(List.of("sample-ppnet"), 4, List.of(PrototypeMapKind.UPSAMPLE, PrototypeMapKind.IG),
        new PrintStream(buf, true, "UTF-8"));
    String out = buf.toString(StandardCharsets.UTF_8.name());
    List<String> rows = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.startsWith("| sample-ppnet |")) rows.add(line);
    }
    assertEquals(2, rows.size(), out);
    assertTrue(rows.get(0).startsWith("| sample-ppnet | upsample |"), out);
    assertTrue(rows.get(1).startsWith("| sample-ppnet | ig (default) |"), out);
    for (String row : rows) {
      String[] cells = row.split("\\|");
      assertTrue(cells[3].trim().matches("[0-4]/4"), row); // images predicted lesion
      for (int k = 4; k < cells.length - 1; k++) {
        double v = Double.parseDouble(cells[k].trim().split(" ")[0]);
        // shares and AUCs in [0, 1]; column 8 is the relevance mass over the area fraction (a ratio, >= 0)
        assertTrue(v >= 0 && (v <= 1 || k == 8), row + ": column " + k);
      }
    }
    assertTrue(out.contains("4 unseen lesion phantoms (64x64, T1, seed 777)"), out);
  }
}
