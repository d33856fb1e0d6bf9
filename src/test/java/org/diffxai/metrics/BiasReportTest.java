package org.diffxai.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.phantom.Tissue;
import org.junit.jupiter.api.Test;

/** The bias report's measures and verdict rules on hand-made maps whose answers are known. */
class BiasReportTest {
  static final int S = 30;

  /** A disc of anatomy in the middle (radius 10). */
  static boolean[] head() {
    boolean[] m = new boolean[S * S];
    for (int i = 0; i < m.length; i++) {
      double dx = i % S - 14.5, dy = i / S - 14.5;
      m[i] = dx * dx + dy * dy <= 100;
    }
    return m;
  }

  /** A map with value v on the w×h block at (x, y). */
  static float[] block(int x, int y, int w, int h, float v) {
    float[] m = new float[S * S];
    for (int yy = y; yy < y + h; yy++) {
      for (int xx = x; xx < x + w; xx++) m[yy * S + xx] = v;
    }
    return m;
  }

  static float[] plus(float[] a, float[] b) {
    float[] o = a.clone();
    for (int i = 0; i < o.length; i++) o[i] += b[i];
    return o;
  }

  @Test
  void regionsOfTheGrid() {
    assertEquals(BiasReport.Region.TOP_LEFT, BiasReport.Region.of(0.5, 0.5, S, S));
    assertEquals(BiasReport.Region.TOP_RIGHT, BiasReport.Region.of(29.5, 0.5, S, S));
    assertEquals(BiasReport.Region.CENTRE, BiasReport.Region.of(15, 15, S, S));
    assertEquals(BiasReport.Region.BOTTOM, BiasReport.Region.of(15, 29.5, S, S));
    assertEquals(BiasReport.Region.LEFT, BiasReport.Region.of(0.5, 15, S, S));
  }

  @Test
  void imageEvidenceMeasuresMassAndBoxes() {
    // 9 of 10 mass units in the top-right corner (outside the disc), 1 in the middle (inside); negative values ignored
    float[] map = plus(plus(block(26, 1, 2, 2, 9f / 10), block(14, 14, 2, 2, 1f / 10)), block(0, 28, 2, 2, -5));
    List<int[]> boxes = List.of(new int[] {25, 0, 4, 4}, new int[] {13, 13, 4, 4});
    BiasReport.ImageEvidence e = BiasReport.image(0, "a", map, boxes, head(), S, S);
    assertEquals(0.9, e.massOutside, 1e-6);
    assertEquals(0.9, e.regionMass[BiasReport.Region.TOP_RIGHT.ordinal()], 1e-6);
    assertEquals(0, e.regionMass[BiasReport.Region.CENTRE.ordinal()], 1e-9);
    assertEquals(BiasReport.Region.TOP_RIGHT, e.where);
    assertTrue(e.offAnatomy());
    assertEquals(0.5, e.boxesOutside, 1e-9);
    assertEquals(0.5, e.boxesBorder, 1e-9);
    double a = count(head()) / (double) (S * S);
    assertEquals(a, e.anatomyFraction, 1e-12);
    assertEquals(0.9 / (1 - a) / (0.1 / a), e.density(), 1e-6);
  }

  @Test
  void aFlatMapIsNotOffAnatomyHoweverMuchBackgroundThereIs() {
    float[] flat = block(0, 0, S, S, 1);
    boolean[] small = new boolean[S * S]; // anatomy: a 10x10 square, 89 % of the image is background
    for (int y = 10; y < 20; y++) {
      for (int x = 10; x < 20; x++) small[y * S + x] = true;
    }
    BiasReport.ImageEvidence e = BiasReport.image(0, null, flat, List.of(), small, S, S);
    assertEquals(800.0 / 900, e.massOutside, 1e-6);
    assertEquals(1, e.density(), 1e-9);
    assertFalse(e.offAnatomy());
  }

  static int count(boolean[] m) {
    int n = 0;
    for (boolean b : m) n += b ? 1 : 0;
    return n;
  }

  static BiasReport.ImageEvidence at(int slice, int x, int y) {
    float[] map = plus(block(x, y, 2, 2, 1), block(14, 14, 1, 1, 0.5f));
    return BiasReport.image(slice, null, map, List.of(), head(), S, S);
  }

  static BiasReport.ImageEvidence inside(int slice) {
    return BiasReport.image(slice, null, block(13, 13, 3, 3, 1), List.of(), head(), S, S);
  }

  @Test
  void concentratedOutsideEvidenceIsFlaggedWithItsPlace() {
    List<BiasReport.ImageEvidence> images = new ArrayList<>();
    for (int i = 0; i < 6; i++) images.add(at(i, 1, 27)); // bottom-left corner
    images.add(at(6, 27, 1));
    for (int i = 7; i < 20; i++) images.add(inside(i));
    BiasReport.Verdict v = BiasReport.judge(images, List.of());
    assertEquals(BiasReport.Verdict.Level.FLAG, v.level);
    assertEquals(BiasReport.Region.BOTTOM_LEFT, v.region);
    assertEquals(7, v.offAnatomy);
    assertEquals(6, v.inRegion);
    assertTrue(v.summary("m").contains("bottom-left corner"), v.summary("m"));
  }

  @Test
  void scatteredOutsideEvidenceIsOnlyAWarning() {
    int[][] corners = {{1, 1}, {27, 1}, {1, 27}, {27, 27}, {14, 0}, {0, 14}};
    List<BiasReport.ImageEvidence> images = new ArrayList<>();
    for (int i = 0; i < corners.length; i++) images.add(at(i, corners[i][0], corners[i][1]));
    for (int i = 6; i < 20; i++) images.add(inside(i));
    BiasReport.Verdict v = BiasReport.judge(images, List.of());
    assertEquals(BiasReport.Verdict.Level.WARNING, v.level);
    assertFalse(v.flagged());
  }

  @Test
  void rareOutsideEvidenceIsNotFlagged() {
    List<BiasReport.ImageEvidence> images = new ArrayList<>();
    images.add(at(0, 1, 1)); // one image of 20 (5 %, below the 10 % share and the 2 images)
    for (int i = 1; i < 20; i++) images.add(inside(i));
    BiasReport.Verdict v = BiasReport.judge(images, List.of());
    assertEquals(BiasReport.Verdict.Level.NONE, v.level);
    assertEquals(1, v.offAnatomy);
    assertNull(BiasReport.judge(List.of(inside(0)), List.of()).region);
  }

  @Test
  void withoutBackgroundReplacesTheOutsideByItsMedianWhereAsked() {
    boolean[] head = head();
    float[] img = new float[S * S];
    for (int i = 0; i < img.length; i++) img[i] = head[i] ? 0.6f : (i % 5 == 0 ? 0.05f : 0.1f);
    for (int y = 1; y < 4; y++) for (int x = 26; x < 29; x++) img[y * S + x] = 1f; // a mark in the top-right corner
    float[] plain = BiasReport.withoutBackground(img, head, null, S, S);
    float[] corner = BiasReport.withoutBackground(img, head, BiasReport.Region.TOP_RIGHT, S, S);
    float[] other = BiasReport.withoutBackground(img, head, BiasReport.Region.BOTTOM_LEFT, S, S);
    float median = 0.1f; // four in five background pixels
    for (int i = 0; i < img.length; i++) {
      boolean tr = BiasReport.Region.of(i % S + 0.5, i / S + 0.5, S, S) == BiasReport.Region.TOP_RIGHT;
      assertEquals(head[i] ? img[i] : median, plain[i], 0f);
      assertEquals(head[i] || !tr ? img[i] : median, corner[i], 0f);
    }
    assertEquals(1f, other[2 * S + 27], 0f); // the mark stays when another region is replaced
  }

  @Test
  void theAblationDecidesWhenItWasRun() {
    assertEquals(2.0, BiasReport.margin(new float[] {1, 3, 0}, 1), 1e-9);
    assertEquals(-2.0, BiasReport.margin(new float[] {1, 3, 0}, 0), 1e-9);
    double[] drop = new double[9];
    drop[BiasReport.Region.TOP_RIGHT.ordinal()] = 1.5;
    drop[BiasReport.Region.LEFT.ordinal()] = 0.2;
    // the map says "inside" (it would not count), the ablation says the decision flips without the top-right corner
    BiasReport.ImageEvidence flips = BiasReport.image(0, null, block(13, 13, 3, 3, 1), List.of(), head(), S, S,
        new BiasReport.Ablation(1.0, -0.5, drop));
    assertTrue(flips.offAnatomy());
    assertFalse(flips.mapOffAnatomy());
    assertEquals(BiasReport.Region.TOP_RIGHT, flips.where);
    BiasReport.ImageEvidence keeps = BiasReport.image(1, null, block(26, 1, 2, 2, 1), List.of(), head(), S, S,
        new BiasReport.Ablation(1.0, 0.4, drop));
    assertFalse(keeps.offAnatomy());
    assertTrue(keeps.mapOffAnatomy());
  }

  @Test
  void aPlantedShortcutInALabelMapIsNotAnatomy() {
    int[] labels = {Tissue.BACKGROUND.code(), Tissue.SHORTCUT.code(), Tissue.values()[1].code(), Tissue.LESION_CORE.code()};
    boolean[] a = Tissue.anatomy(labels);
    assertFalse(a[0]);
    assertFalse(a[1]);
    assertTrue(a[2]);
    assertTrue(a[3]);
  }

  @Test
  void prototypeSourceOnBackgroundAndBorder() {
    PrototypeInfo corner = new PrototypeInfo(3, 1, "lesion/a.tif", 0, 0, 0, new int[] {0, 0, 8, 8},
        new int[] {25, 0, 5, 4}, 0);
    BiasReport.SourceEvidence s = BiasReport.source(corner, head(), S, S);
    assertTrue(s.onBackground());
    assertTrue(s.border);
    assertEquals(BiasReport.Region.TOP_RIGHT, s.region);
    PrototypeInfo middle = new PrototypeInfo(0, 0, "healthy/b.tif", 1, 0, 0, new int[] {0, 0, 8, 8},
        new int[] {12, 12, 6, 6}, 1);
    BiasReport.SourceEvidence m = BiasReport.source(middle, head(), S, S);
    assertFalse(m.onBackground());
    assertFalse(m.border);
    String summary = BiasReport.judge(List.of(inside(0)), List.of(s, m)).summary("net");
    assertTrue(summary.contains("3 (background and border, top-right corner)"), summary);
  }
}
