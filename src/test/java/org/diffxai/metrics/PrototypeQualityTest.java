package org.diffxai.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.explain.AnalyticPrototypeClassifier;
import org.junit.jupiter.api.Test;

/**
 * {@link PrototypeQuality} on a prototype network computed by hand ({@link AnalyticPrototypeClassifier}: 32×32 images,
 * latent cells = means of 4×4 blocks, D = 1) and images whose evidence is known: "lesion" images are dark with one
 * bright 4×4 square (its mask), "healthy" images are 0.5 inside a central disc.
 */
class PrototypeQualityTest {
  static final int SIDE = 32;
  static final int PX = SIDE * SIDE;

  /** p0 = 1 (lesion: the bright square), p1 = 0.5 (lesion class, but matches healthy tissue), p2 = 0.5 (healthy). */
  static AnalyticPrototypeClassifier model() {
    return new AnalyticPrototypeClassifier(SIDE, 4, 0, 1, new float[] {1f, 0.5f, 0.5f}, new int[] {1, 1, 0},
        new float[][] {{-1, -0.2f, 1}, {1, 0.2f, -1}}, Arrays.asList("healthy", "lesion"));
  }

  static boolean inDisc(int x, int y) {
    double dx = x + 0.5 - SIDE / 2.0;
    double dy = y + 0.5 - SIDE / 2.0;
    return dx * dx + dy * dy < 13 * 13;
  }

  /** A lesion image with its square at block (bx, by), and its mask. */
  static float[][] lesion(int bx, int by) {
    float[] img = new float[PX];
    float[] mask = new float[PX];
    for (int y = by * 4; y < by * 4 + 4; y++) {
      for (int x = bx * 4; x < bx * 4 + 4; x++) {
        img[y * SIDE + x] = 1;
        mask[y * SIDE + x] = 1;
      }
    }
    return new float[][] {img, mask};
  }

  static float[] healthy() {
    float[] img = new float[PX];
    for (int y = 0; y < SIDE; y++) for (int x = 0; x < SIDE; x++) if (inDisc(x, y)) img[y * SIDE + x] = 0.5f;
    return img;
  }

  static boolean[] disc() {
    boolean[] f = new boolean[PX];
    for (int y = 0; y < SIDE; y++) for (int x = 0; x < SIDE; x++) f[y * SIDE + x] = inDisc(x, y);
    return f;
  }

  @Test
  void distinctGroupsSamePatchesAndNearlyParallelVectors() {
    List<PrototypeInfo> infos = Arrays.asList(info(0, "a", 1, 1), info(1, "a", 1, 1), info(2, "b", 0, 0),
        info(3, "c", 0, 0), info(4, "a", 1, 2), info(5, "e", 0, 0), info(6, "f", 0, 0));
    float[][] v = {{1, 0}, {0, 1}, {1, 1}, {1.001f, 1}, {1, -1}, {1, 0.14f}, {1, -0.15f}};
    PrototypeQuality.Distinctness d = PrototypeQuality.distinctness(infos, v, 0);
    // {0, 1} share a patch; {2, 3} have cosine 0.9999995; 5 has cosine 0.990 with 0 (a duplicate), 6 has 0.989 (not)
    assertArrayEquals(new int[] {0, 0, 2, 2, 4, 0, 6}, d.group);
    assertEquals(4, d.distinct);
    assertEquals(4 / 7.0, d.share, 1e-12);
    PrototypeQuality.Distinctness m = PrototypeQuality.distinctness(model());
    assertEquals(1, m.distinct, "one-dimensional positive vectors are all parallel (cosine 1)");
    assertEquals(0, m.unused);
  }

  private static PrototypeInfo info(int p, String image, int row, int col) {
    return new PrototypeInfo(p, 0, image, p, row, col, new int[4], new int[4], p);
  }

  @Test
  void purityCountsNeighboursOfTheClassWhoseBoxHitsTheirMask() {
    int n = 12;
    float[] x = new float[n * PX];
    float[][] masks = new float[n][];
    float[][] shifted = new float[n][];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      if (i % 2 == 0) {
        float[][] l = lesion(2 + i % 4, 3 + (i / 4) % 3);
        System.arraycopy(l[0], 0, x, i * PX, PX);
        masks[i] = l[1];
        shifted[i] = lesion(7, 7)[1]; // a mask in the corner, away from the square
        labels[i] = 1;
      } else {
        System.arraycopy(healthy(), 0, x, i * PX, PX);
        masks[i] = new float[PX];
        shifted[i] = new float[PX];
      }
    }
    PrototypeQuality.Purity p = PrototypeQuality.purity(model(), x, n, labels, masks, 5);
    assertEquals(5, p.k);
    assertEquals(1.0, p.perPrototype[0], 0, "the bright prototype's neighbours are lesion squares");
    assertEquals(0.0, p.perPrototype[1], 0, "its 5 nearest images are healthy ones");
    assertTrue(Double.isNaN(p.perPrototype[2]), "no healthy image has a mask");
    assertEquals(2, p.defined);
    assertEquals(0.5, p.mean, 0);
    PrototypeQuality.Purity off = PrototypeQuality.purity(model(), x, n, labels, shifted, 5);
    assertEquals(0.0, off.perPrototype[0], 0, "masks away from the evidence make it impure");
  }

  @Test
  void stabilityIsPerfectWithoutNoiseAndDropsWithLargeNoise() {
    int n = 8;
    float[] x = new float[n * PX];
    for (int i = 0; i < n; i++) System.arraycopy(lesion(1 + i % 6, 2 + i % 5)[0], 0, x, i * PX, PX);
    AnalyticPrototypeClassifier m = model();
    PrototypeQuality.Stability none = PrototypeQuality.stability(m, x, n, 1, 0, 3, 1);
    assertEquals(1, none.topShare, 0);
    assertEquals(1, none.locationShare, 0);
    PrototypeQuality.Stability small = PrototypeQuality.stability(m, x, n, 1, 0.05, 3, 1);
    assertEquals(1, small.locationShare, 0, "noise of 0.05 does not move the bright square's cell");
    assertEquals(1, small.topShare, 0);
    PrototypeQuality.Stability large = PrototypeQuality.stability(m, x, n, 1, 8, 3, 1);
    assertTrue(large.locationShare < 0.5, "noise of 8 moves the peak: " + large.locationShare);
    PrototypeQuality.Stability again = PrototypeQuality.stability(m, x, n, 1, 8, 3, 1);
    assertEquals(large.locationShare, again.locationShare, 0, "seeded");
    assertEquals(0.4, PrototypeQuality.noiseSigma(healthy(), 0.8), 1e-6, "0.8 x the 0..0.5 span");
  }

  @Test
  void placementFlagsBoxesOutsideTheAnatomyAndOnTheBorder() {
    int n = 4;
    float[] inside = new float[n * PX];
    float[] corner = new float[n * PX];
    boolean[][] fg = new boolean[n][];
    for (int i = 0; i < n; i++) {
      System.arraycopy(lesion(3 + i % 2, 3)[0], 0, inside, i * PX, PX);
      System.arraycopy(lesion(0, 7 * (i % 2))[0], 0, corner, i * PX, PX);
      fg[i] = disc();
    }
    PrototypeQuality.Placement in = PrototypeQuality.placement(model(), inside, n, 1, fg);
    assertEquals(n, in.boxes);
    assertEquals(0, in.outside);
    assertEquals(0, in.border);
    assertTrue(in.meanForeground > 0.9);
    PrototypeQuality.Placement out = PrototypeQuality.placement(model(), corner, n, 1, fg);
    assertEquals(n, out.outside);
    assertEquals(n, out.border);
    assertEquals(1.0, out.outsideShare(), 0);
  }
}
