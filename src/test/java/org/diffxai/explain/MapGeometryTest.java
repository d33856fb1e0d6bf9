package org.diffxai.explain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.diffxai.core.PrototypeMaps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What explanations rely on in {@link PrototypeMaps}: the latent grid lies over the whole image with cell centres at
 * pixel-rectangle centres, edges repeat, and the box is ProtoPNet's numpy recipe.
 */
class MapGeometryTest {

  static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
    return v;
  }

  /** OpenCV's cubic weight (a = −0.75) written from its coefficients, for the reference below. */
  static double cubic(double x) {
    x = Math.abs(x);
    if (x <= 1) return 1.25 * x * x * x - 2.25 * x * x + 1;
    if (x < 2) return -0.75 * x * x * x + 3.75 * x * x - 6 * x + 3;
    return 0;
  }

  /** A direct 2-D sum over the 4×4 neighbours of each pixel's grid coordinate, in double. */
  static double reference(float[] g, int h, int w, int height, int width, int y, int x) {
    double sy = (y + 0.5) * h / height - 0.5, sx = (x + 0.5) * w / width - 0.5;
    double v = 0;
    for (int i = (int) Math.floor(sy) - 1; i <= (int) Math.floor(sy) + 2; i++) {
      for (int j = (int) Math.floor(sx) - 1; j <= (int) Math.floor(sx) + 2; j++) {
        int ci = Math.min(h - 1, Math.max(0, i)), cj = Math.min(w - 1, Math.max(0, j));
        v += g[ci * w + cj] * cubic(sy - i) * cubic(sx - j);
      }
    }
    return v;
  }

  @Test
  void upsamplingMatchesTheDirectSumEverywhereIncludingEdges() {
    int h = 5, w = 7, height = 23, width = 61;
    float[] g = random(h * w, 2);
    float[] up = PrototypeMaps.upsampleBicubic(g, h, w, height, width);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        assertEquals(reference(g, h, w, height, width, y, x), up[y * width + x], 1e-5, "pixel " + x + "," + y);
      }
    }
  }

  @Test
  void sameSizeIsTheIdentityAndConstantsStayConstant() {
    float[] g = random(5 * 7, 1);
    assertArrayEquals(g, PrototypeMaps.upsampleBicubic(g, 5, 7, 5, 7), 1e-6f);
    float[] c = new float[12];
    Arrays.fill(c, 2.5f);
    for (float v : PrototypeMaps.upsampleBicubic(c, 3, 4, 29, 37)) assertEquals(2.5f, v, 1e-5f);
  }

  /** A single hot cell: the box is centred on the cell (so grid and image are aligned), square, and inside it. */
  @Test
  void boxOfOneHotCellIsCentredOnIt() {
    float[] g = new float[16];
    g[1 * 4 + 2] = 1; // row 1, column 2 of a 4x4 grid; at 64x64 the cell is x 32..47, y 16..31
    float[] up = PrototypeMaps.upsampleBicubic(g, 4, 4, 64, 64);
    int[] box = PrototypeMaps.percentileBox(up, 64, 64, PrototypeExplainer.BOX_PERCENTILE);
    assertEquals(80, 2 * box[0] + box[2], "centred at x = 40: " + Arrays.toString(box));
    assertEquals(48, 2 * box[1] + box[3], "centred at y = 24: " + Arrays.toString(box));
    assertEquals(box[2], box[3]);
    assertTrue(box[0] >= 32 && box[0] + box[2] <= 48 && box[1] >= 16 && box[1] + box[3] <= 32, Arrays.toString(box));
  }

  /** ProtoPNet's recipe in numpy: mask = map >= np.percentile(map, 95); the bounding box of the mask. */
  @Test
  void boxAgreesWithNumpy(@TempDir Path tmp) throws Exception {
    int h = 5, w = 7, height = 43, width = 61;
    float[] up = PrototypeMaps.upsampleBicubic(random(w * h, 3), h, w, height, width);
    StringBuilder sb = new StringBuilder();
    for (float v : up) sb.append(Float.toString(v)).append('\n');
    Path values = tmp.resolve("map.txt");
    Files.write(values, sb.toString().getBytes(StandardCharsets.UTF_8));
    String script = "import numpy as np, sys\n"
        + "m = np.loadtxt(sys.argv[1], dtype=np.float32).reshape(" + height + ", " + width + ")\n"
        + "ys, xs = np.where(m >= np.percentile(m, 95))\n"
        + "print(xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)\n";
    Process p = new ProcessBuilder(List.of("/usr/bin/python3", "-c", script, values.toString()))
        .redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.exitValue(), out);
    int[] expected = Arrays.stream(out.split("\\s+")).mapToInt(Integer::parseInt).toArray();
    assertArrayEquals(expected, PrototypeMaps.percentileBox(up, height, width, PrototypeExplainer.BOX_PERCENTILE),
        out);
  }
}
