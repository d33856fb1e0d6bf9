package org.diffxai.phantom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffxai.metrics.Localisation;
import org.junit.jupiter.api.Test;

/** {@link Phantom#lesionPixels} against an independent recomputation. */
class LesionMaskTest {

  /**
   * Without the mass effect, a lesion slice and its healthy pair share every random draw and every rendered
   * super-sample except the lesion's tissue, so their noise-free images differ exactly where the lesion changed the
   * image: the mask must be that set, pixel for pixel, at every size and in both contrasts.
   */
  @Test
  void maskIsExactlyWhereTheLesionChangesTheImage() {
    int slices = 0, lesionPixels = 0;
    for (int size : new int[] {16, 48, 64, 100, 256}) {
      for (Contrast c : Contrast.values()) {
        PhantomGenerator g = new PhantomGenerator(size, size, c);
        PhantomGenerator noMass = g.withMassEffect(false);
        int n = size == 256 ? 2 : 12;
        for (int i = 0; i < n; i++) {
          long seed = 300 + size;
          Phantom healthy = g.generate(seed, i, false);
          Phantom lesion = noMass.generate(seed, i, true);
          int changed = 0;
          for (int k = 0; k < size * size; k++) {
            boolean differs = lesion.clean[k] != healthy.clean[k];
            assertEquals(differs, lesion.lesionPixels[k], "size " + size + " " + c + " slice " + i + " pixel " + k);
            changed += differs ? 1 : 0;
          }
          assertTrue(changed > 0, "every lesion changes some pixels");
          assertFalse(any(healthy.lesionPixels), "healthy slices have an empty mask");
          slices++;
          lesionPixels += changed;
        }
      }
    }
    assertEquals(2 * (4 * 12 + 2), slices);
    assertTrue(lesionPixels > 0);
  }

  /** With the mass effect (the default) the mask still holds the lesion's labelled tissue and its covered pixels. */
  @Test
  void maskHoldsTheLabelledLesionTissue() {
    PhantomGenerator g = new PhantomGenerator(64);
    for (int i = 0; i < 30; i++) {
      Phantom p = g.generate(4242, i, true);
      int mask = 0, labelled = 0;
      for (int k = 0; k < p.lesionPixels.length; k++) {
        if (Tissue.of(p.tissue[k]).isLesion() || p.lesionMask[k] > 0) {
          assertTrue(p.lesionPixels[k], "slice " + i + " pixel " + k + " is lesion tissue but outside the mask");
          labelled++;
        }
        mask += p.lesionPixels[k] ? 1 : 0;
      }
      assertTrue(labelled > 0 && mask >= labelled, "slice " + i);
      // the oedema's fall-off reaches at most 2 * 2.3 * 1.36 r0 with r0 <= 0.13: a compact region
      assertTrue(mask < 0.1 * 64 * 64, "slice " + i + ": " + mask + " mask pixels");
      // the mass effect displaces anatomy but draws no random numbers: same lesion, same mask up to the tissue under it
      Phantom q = g.withMassEffect(false).generate(4242, i, true);
      assertTrue(iou(p.lesionPixels, q.lesionPixels) > 0.85, "slice " + i);
    }
  }

  /** The same (seed, index) at 256×256 and 64×64: the 256 mask box-averaged to 64 agrees with the 64 mask. */
  @Test
  void maskIsAlignedAcrossSizes() {
    for (int i = 0; i < 6; i++) {
      boolean[] small = new PhantomGenerator(64).generate(9, i, true).lesionPixels;
      boolean[] big = new PhantomGenerator(256).generate(9, i, true).lesionPixels;
      boolean[] down = new boolean[64 * 64];
      for (int y = 0; y < 64; y++) {
        for (int x = 0; x < 64; x++) {
          int n = 0;
          for (int dy = 0; dy < 4; dy++) {
            for (int dx = 0; dx < 4; dx++) n += big[(4 * y + dy) * 256 + 4 * x + dx] ? 1 : 0;
          }
          down[y * 64 + x] = n >= 8;
        }
      }
      double[] c1 = centroid(small, 64), c2 = centroid(down, 64);
      assertTrue(Math.hypot(c1[0] - c2[0], c1[1] - c2[1]) < 0.5, "slice " + i + ": centroids " + c1[0] + "," + c1[1]
          + " vs " + c2[0] + "," + c2[1]);
      assertTrue(iou(small, down) > 0.75, "slice " + i + ": IoU " + iou(small, down));
    }
  }

  @Test
  void sameArgumentsGiveTheSameMask() {
    Phantom a = new PhantomGenerator(64).generate(5, 2, true), b = new PhantomGenerator(64).generate(5, 2, true);
    assertArrayEquals(a.lesionPixels, b.lesionPixels);
  }

  static boolean any(boolean[] m) {
    for (boolean b : m) if (b) return true;
    return false;
  }

  static double iou(boolean[] a, boolean[] b) {
    return Localisation.maskIoU(a, b);
  }

  static double[] centroid(boolean[] m, int w) {
    double sx = 0, sy = 0;
    int n = 0;
    for (int k = 0; k < m.length; k++) {
      if (m[k]) {
        sx += k % w;
        sy += k / w;
        n++;
      }
    }
    return new double[] {sx / n, sy / n};
  }
}
