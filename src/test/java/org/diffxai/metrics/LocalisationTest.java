package org.diffxai.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.diffxai.io.External;
import org.diffxai.metrics.Localisation.Sign;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalisationTest {
  static final int W = 16, H = 12;

  /** A W×H mask holding the box {x, y, w, h}. */
  static boolean[] box(int x0, int y0, int w, int h) {
    boolean[] m = new boolean[W * H];
    for (int y = y0; y < y0 + h; y++) for (int x = x0; x < x0 + w; x++) m[y * W + x] = true;
    return m;
  }

  @Test
  void pointingGameWithToleranceAndTies() {
    boolean[] mask = box(4, 4, 3, 3); // x 4..6, y 4..6
    float[] map = new float[W * H];
    map[5 * W + 5] = 1;
    assertEquals(1, Localisation.pointingGame(map, mask, W, H, Sign.POSITIVE, 0), 0);
    map[5 * W + 5] = 0;
    map[5 * W + 10] = 1; // 4 pixels right of the mask's last column
    assertEquals(0, Localisation.pointingGame(map, mask, W, H, Sign.POSITIVE, 0), 0);
    assertEquals(0, Localisation.pointingGame(map, mask, W, H, Sign.POSITIVE, 3.9), 0);
    assertEquals(1, Localisation.pointingGame(map, mask, W, H, Sign.POSITIVE, 4), 0);
    // a tie between one pixel inside and one far outside: the expected hit of a random pick
    map[5 * W + 5] = 1;
    map[5 * W + 10] = 0;
    map[0] = 1;
    assertEquals(0.5, Localisation.pointingGame(map, mask, W, H, Sign.POSITIVE, 0), 0);
    // negative values: the positive part ignores a large negative, |map| points at it
    float[] neg = new float[W * H];
    neg[0] = -5;
    neg[5 * W + 5] = 1;
    assertEquals(1, Localisation.pointingGame(neg, mask, W, H, Sign.POSITIVE, 0), 0);
    assertEquals(0, Localisation.pointingGame(neg, mask, W, H, Sign.ABSOLUTE, 0), 0);
    // a constant map: every pixel is the maximum, so the hit is the share of pixels within the tolerance
    Localisation.Result flat = Localisation.evaluate(new float[W * H], mask, W, H, Sign.POSITIVE, 1);
    assertEquals((9 + 12) / (double) (W * H), flat.pointingGame, 1e-12); // 3x3 plus 3 on each side
    assertEquals(flat.pointingGameRandom, flat.pointingGame, 1e-12);
    assertEquals(4.2857, Localisation.scaledTolerance(64), 1e-4);
  }

  @Test
  void massRankAndAucOnKnownMaps() {
    boolean[] mask = box(0, 0, 4, 4); // 16 of 192 pixels
    float[] uniform = new float[W * H];
    java.util.Arrays.fill(uniform, 0.3f);
    Localisation.Result u = Localisation.evaluate(uniform, mask, W, H, Sign.POSITIVE, 0);
    assertEquals(16 / 192.0, u.areaFraction, 1e-12);
    assertEquals(u.areaFraction, u.relevanceMass, 1e-12); // a uniform map is the random reference
    assertEquals(1, u.relevanceMassRatio(), 1e-12);
    assertEquals(u.areaFraction, u.relevanceRank, 1e-12); // all tied: each pixel counts with 16/192
    assertEquals(0.5, u.auc, 0);

    float[] perfect = new float[W * H];
    for (int i = 0; i < perfect.length; i++) perfect[i] = mask[i] ? 2 + i % 3 : -1;
    Localisation.Result p = Localisation.evaluate(perfect, mask, W, H, Sign.POSITIVE, 0);
    assertEquals(1, p.relevanceMass, 0);
    assertEquals(1, p.relevanceRank, 0);
    assertEquals(1, p.auc, 0);
    assertEquals(1, p.pointingGame, 0);
    assertEquals(0, Localisation.auc(negate(perfect), mask, W, H, Sign.RAW), 0);
    assertEquals(0, Localisation.positiveMassOutside(perfect, mask, W, H), 0);

    // half the relevance inside: 16 pixels of 1 inside, 16 of 1 outside
    float[] half = new float[W * H];
    for (int i = 0; i < 16; i++) {
      half[(i / 4) * W + i % 4] = 1;
      half[(8 + i / 4) * W + 8 + i % 4] = 1;
    }
    assertEquals(0.5, Localisation.relevanceMass(half, mask, W, H, Sign.POSITIVE), 1e-12);
    assertEquals(0.5, Localisation.relevanceRank(half, mask, W, H, Sign.POSITIVE), 1e-12); // 32 tied for 16 places
    assertEquals(0.5, Localisation.positiveMassOutside(half, mask, W, H), 1e-12);
    // AUC: 16 positives all at 1, 176 negatives: 16 at 1 (ties, one half) and 160 at 0
    assertEquals((160 + 0.5 * 16) / 176.0, Localisation.auc(half, mask, W, H, Sign.POSITIVE), 1e-12);

    // an empty mask (a healthy image) has no localisation
    Localisation.Result none = Localisation.evaluate(half, new boolean[W * H], W, H, Sign.POSITIVE, 2);
    assertTrue(Double.isNaN(none.pointingGame) && Double.isNaN(none.relevanceMass)
        && Double.isNaN(none.relevanceRank) && Double.isNaN(none.auc));
    assertTrue(Double.isNaN(Localisation.relevanceMass(new float[W * H], mask, W, H, Sign.POSITIVE)), "no relevance");
    assertThrows(IllegalArgumentException.class, () -> Localisation.evaluate(new float[3], mask, W, H));
    float[] bad = new float[W * H];
    bad[7] = Float.NaN;
    assertThrows(IllegalArgumentException.class, () -> Localisation.evaluate(bad, mask, W, H));
  }

  @Test
  void boxes() {
    boolean[] mask = box(2, 3, 4, 2); // 8 pixels
    assertArrayEquals(new int[] {2, 3, 4, 2}, Localisation.boundingBox(mask, W, H));
    assertNull(Localisation.boundingBox(new boolean[W * H], W, H));
    assertEquals(1, Localisation.boxMaskIoU(new int[] {2, 3, 4, 2}, mask, W, H), 0);
    assertEquals(4 / 12.0, Localisation.boxMaskIoU(new int[] {4, 3, 4, 2}, mask, W, H), 1e-12); // 4 shared, 12 in all
    assertEquals(0, Localisation.boxMaskIoU(new int[] {10, 8, 2, 2}, mask, W, H), 0);
    assertEquals(4 / 12.0, Localisation.boxIoU(new int[] {2, 3, 4, 2}, new int[] {4, 3, 4, 2}), 1e-12);
    assertEquals(0, Localisation.boxIoU(new int[] {0, 0, 2, 2}, new int[] {2, 2, 2, 2}), 0); // touching, no overlap
    assertTrue(Localisation.touchesBorder(new int[] {0, 5, 3, 3}, W, H));
    assertTrue(Localisation.touchesBorder(new int[] {5, 5, W - 5, 3}, W, H));
    assertTrue(Localisation.touchesBorder(new int[] {5, H - 3, 3, 3}, W, H));
    assertFalse(Localisation.touchesBorder(new int[] {1, 1, W - 2, H - 2}, W, H));
    assertEquals(0.5, Localisation.boxOutsideFraction(new int[] {4, 3, 4, 2}, mask, W, H), 1e-12);
    assertEquals(4 / 12.0, Localisation.maskIoU(mask, box(4, 3, 4, 2)), 1e-12);
    assertTrue(Double.isNaN(Localisation.maskIoU(new boolean[4], new boolean[4])));
    assertEquals(1, Localisation.boxOutsideFraction(new int[] {W, H, 2, 2}, mask, W, H), 0);
  }

  /**
   * Against independent references: sklearn.metrics.roc_auc_score for the AUC and a numpy transcription of the
   * definitions for the other values, on random maps with many ties (values quantised to 6 levels, plus negatives) and
   * random masks.
   */
  @Test
  void agreesWithSklearnAndNumpy(@TempDir Path tmp) throws Exception {
    Random rnd = new Random(5);
    int n = 40, w = 23, h = 17;
    ByteBuffer buf = ByteBuffer.allocate(n * w * h * 5).order(ByteOrder.LITTLE_ENDIAN);
    Localisation.Result[] mine = new Localisation.Result[n];
    double[] absAuc = new double[n];
    for (int s = 0; s < n; s++) {
      float[] map = new float[w * h];
      boolean[] mask = new boolean[w * h];
      int cx = rnd.nextInt(w), cy = rnd.nextInt(h), r = 1 + rnd.nextInt(5);
      for (int i = 0; i < map.length; i++) {
        int x = i % w, y = i / w;
        mask[i] = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r;
        float v = rnd.nextInt(6) - 2 + (mask[i] ? rnd.nextInt(3) : 0);
        map[i] = s % 2 == 0 ? v : v + 0.01f * rnd.nextInt(100); // odd maps: mostly distinct values
      }
      mine[s] = Localisation.evaluate(map, mask, w, h, Sign.POSITIVE, 2.5);
      absAuc[s] = Localisation.auc(map, mask, w, h, Sign.ABSOLUTE);
      for (float v : map) buf.putFloat(v);
      for (boolean b : mask) buf.put((byte) (b ? 1 : 0));
    }
    Path data = tmp.resolve("maps.bin");
    Files.write(data, buf.array());
    List<String> lines = External.python(String.join("\n",
        "import sys, numpy as np",
        "from sklearn.metrics import roc_auc_score",
        "n, w, h = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])",
        "raw = open(sys.argv[1], 'rb').read()",
        "per = w * h * 5",
        "for s in range(n):",
        "    chunk = raw[s * per:(s + 1) * per]",
        "    m = np.frombuffer(chunk[:w * h * 4], '<f4').astype(np.float64).reshape(h, w)",
        "    g = np.frombuffer(chunk[w * h * 4:], np.uint8).reshape(h, w).astype(bool)",
        "    r = np.maximum(m, 0)",
        "    k = int(g.sum())",
        "    yy, xx = np.mgrid[0:h, 0:w]",
        "    near = np.zeros_like(g)",
        "    for y, x in zip(*np.nonzero(g)):",
        "        near |= (yy - y) ** 2 + (xx - x) ** 2 <= 2.5 ** 2",
        "    top = r == r.max()",
        "    pg = (top & near).sum() / top.sum()",
        "    mass = r[g].sum() / r.sum()",
        "    kth = np.sort(r.ravel())[::-1][k - 1]",
        "    above, tied = r > kth, r == kth",
        "    rank = ((above & g).sum() + (k - above.sum()) * (tied & g).sum() / tied.sum()) / k",
        "    auc = roc_auc_score(g.ravel(), r.ravel())",
        "    aauc = roc_auc_score(g.ravel(), np.abs(m).ravel())",
        "    print('%.12f %.12f %.12f %.12f %.12f' % (pg, mass, rank, auc, aauc))"),
        data.toString(), String.valueOf(n), String.valueOf(w), String.valueOf(h));
    assertEquals(n, lines.size());
    for (int s = 0; s < n; s++) {
      String[] ref = lines.get(s).trim().split(" ");
      Localisation.Result m = mine[s];
      String at = String.format(Locale.ROOT, "map %d: %s vs %s", s, m, lines.get(s));
      assertEquals(Double.parseDouble(ref[0]), m.pointingGame, 1e-9, at);
      assertEquals(Double.parseDouble(ref[1]), m.relevanceMass, 1e-9, at);
      assertEquals(Double.parseDouble(ref[2]), m.relevanceRank, 1e-9, at);
      assertEquals(Double.parseDouble(ref[3]), m.auc, 1e-9, at);
      assertEquals(Double.parseDouble(ref[4]), absAuc[s], 1e-9, at);
    }
  }

  private static float[] negate(float[] a) {
    float[] b = new float[a.length];
    for (int i = 0; i < a.length; i++) b[i] = -a[i];
    return b;
  }
}
