package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Attribution Maps from the command line: a committed phantom file, the bundled sample PPNet, real TensorFlow. */
class AttributionMapsCommandTest {

  @Test
  void commandLineWritesMapsAndTable(@TempDir Path tmp) throws Exception {
    Path image = Paths.get("sample-data", "phantoms", "lesion", "phantom_0000.tif").toAbsolutePath();
    Path out = tmp.resolve("saliency");
    CliTest.Out r = CliTest.inProcess("Attribution Maps", "image=[" + image + "] model=sample-ppnet method=saliency"
        + " target=lesion device=cpu output=[" + out + "]");
    assertEquals(0, r.code, r.toString());
    List<String> csv = Files.readAllLines(out.resolve("attributions.csv"));
    assertEquals(2, csv.size(), csv.toString());
    assertTrue(csv.get(1).contains(",lesion,"), csv.get(1));
    assertTrue(Files.size(out.resolve("attributions.tif")) > 2 * 64 * 64 * 4);

    CliTest.Out bad = CliTest.inProcess("Attribution Maps", "image=[" + image + "] model=sample-ppnet"
        + " method=lime device=cpu");
    assertTrue(bad.code != 0, bad.toString());
    assertTrue(bad.err.contains("lime") && bad.err.contains("integrated_gradients"), bad.toString());
  }
}
