package org.diffxai.explain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.process.FloatProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimilarityMapsTest {

  static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
    return v;
  }

  /** Grid coordinate of pixel x when n cells span size pixels (centres aligned). */
  static double gridCoord(int x, int n, int size) {
    return (x + 0.5) * n / size - 0.5;
  }

  /** True when the four taps around grid coordinate s lie inside 0..n-1 (no edge clamping involved). */
  static boolean interior(double s, int n) {
    int base = (int) Math.floor(s);
    return base - 1 >= 0 && base + 2 <= n - 1;
  }

  @Test
  void sameSizeIsTheIdentity() {
    float[] g = random(5 * 7, 1);
    assertArrayEquals(g, SimilarityMaps.bicubic(g, 7, 5, 7, 5));
  }

  @Test
  void constantGridStaysConstantUpToTheEdges() {
    float[] g = new float[4 * 3];
    java.util.Arrays.fill(g, 2.5f);
    for (float v : SimilarityMaps.bicubic(g, 4, 3, 37, 29)) assertEquals(2.5f, v, 1e-6f);
  }

  /** Keys' kernel with a = -1/2 reproduces quadratics (in each axis, so products too) wherever no edge is involved. */
  @Test
  void reproducesQuadraticsInside() {
    int w = 6, h = 8, width = 31, height = 40;
    float[] g = new float[w * h];
    for (int i = 0; i < h; i++) {
      for (int j = 0; j < w; j++) g[i * w + j] = (float) quadratic(i, j);
    }
    float[] up = SimilarityMaps.bicubic(g, w, h, width, height);
    int checked = 0;
    for (int y = 0; y < height; y++) {
      double sy = gridCoord(y, h, height);
      for (int x = 0; x < width; x++) {
        double sx = gridCoord(x, w, width);
        if (!interior(sx, w) || !interior(sy, h)) continue;
        assertEquals(quadratic(sy, sx), up[y * width + x], 2e-5, "pixel " + x + "," + y);
        checked++;
      }
    }
    assertTrue(checked > 200, "checked " + checked);
  }

  static double quadratic(double i, double j) {
    return 0.3 + 0.2 * i - 0.1 * j + 0.05 * i * i + 0.07 * j * j + 0.02 * i * j;
  }

  /** ImageJ's own bicubic interpolation (same kernel, independent code) agrees away from the edges. */
  @Test
  void agreesWithImageJBicubicInside() {
    int w = 6, h = 5, width = 27, height = 23;
    float[] g = random(w * h, 7);
    FloatProcessor fp = new FloatProcessor(w, h, g.clone());
    float[] up = SimilarityMaps.bicubic(g, w, h, width, height);
    int checked = 0;
    for (int y = 0; y < height; y++) {
      double sy = gridCoord(y, h, height);
      for (int x = 0; x < width; x++) {
        double sx = gridCoord(x, w, width);
        if (!interior(sx, w) || !interior(sy, h)) continue;
        assertEquals(fp.getBicubicInterpolatedPixel(sx, sy, fp), up[y * width + x], 1e-5, "pixel " + x + "," + y);
        checked++;
      }
    }
    assertTrue(checked > 20, "checked " + checked);
  }

  @Test
  void percentileInterpolatesLikeNumpy() {
    float[] v = new float[10];
    for (int i = 0; i < 10; i++) v[i] = 10 - i;
    assertEquals(9.55, SimilarityMaps.percentile(v, 95), 1e-12);
    assertEquals(1, SimilarityMaps.percentile(v, 0), 0);
    assertEquals(10, SimilarityMaps.percentile(v, 100), 0);
    assertEquals(5.5, SimilarityMaps.percentile(v, 50), 1e-12);
  }

  /** A single hot cell: the box is centred on the cell, square, and inside it. */
  @Test
  void boxOfOneHotCellIsCentredOnIt() {
    float[] g = new float[16];
    g[1 * 4 + 2] = 1; // row 1, column 2 of a 4x4 grid; at 64x64 the cell is x 32..47, y 16..31
    float[] up = SimilarityMaps.bicubic(g, 4, 4, 64, 64);
    int[] box = SimilarityMaps.highActivationBox(up, 64, 64);
    assertEquals(40 * 2, 2 * box[0] + box[2], "centred at x = 40: " + java.util.Arrays.toString(box));
    assertEquals(24 * 2, 2 * box[1] + box[3], "centred at y = 24");
    assertEquals(box[2], box[3]);
    assertTrue(box[0] >= 32 && box[0] + box[2] <= 48 && box[1] >= 16 && box[1] + box[3] <= 32,
        java.util.Arrays.toString(box));
    // about 5 % of the 4096 pixels are in it
    int in = 0;
    double t = SimilarityMaps.percentile(up, 95);
    for (float v : up) if (v >= t) in++;
    assertTrue(in >= 205 && in <= box[2] * box[3], in + " pixels");
  }

  /** The box follows ProtoPNet's numpy recipe: mask = map >= np.percentile(map, 95); bounding box of the mask. */
  @Test
  void boxAgreesWithNumpy(@TempDir Path tmp) throws Exception {
    int w = 7, h = 5, width = 61, height = 43;
    float[] up = SimilarityMaps.bicubic(random(w * h, 3), w, h, width, height);
    StringBuilder sb = new StringBuilder();
    for (float v : up) sb.append(Float.toString(v)).append('\n');
    Path values = tmp.resolve("map.txt");
    Files.write(values, sb.toString().getBytes(StandardCharsets.UTF_8));
    String script = "import numpy as np, sys\n"
        + "m = np.loadtxt(sys.argv[1], dtype=np.float32).reshape(" + height + ", " + width + ")\n"
        + "mask = m >= np.percentile(m, 95)\n"
        + "ys, xs = np.where(mask)\n"
        + "print(xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1, np.percentile(m, 95))\n";
    Process p = new ProcessBuilder(List.of("/usr/bin/python3", "-c", script, values.toString()))
        .redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.exitValue(), out);
    String[] f = out.split("\\s+");
    int[] box = SimilarityMaps.highActivationBox(up, width, height);
    assertArrayEquals(new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]),
        Integer.parseInt(f[3])}, box, out);
    assertEquals(Double.parseDouble(f[4]), SimilarityMaps.percentile(up, 95), 1e-6);
  }
}
