package org.diffxai.phantom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PhantomGeneratorTest {

  /** Mean of the image over pixels whose dominant tissue is t (NaN if none). */
  static double mean(Phantom p, float[] img, Tissue t) {
    double s = 0;
    int n = 0;
    for (int i = 0; i < img.length; i++) {
      if (p.tissue[i] == t.code()) {
        s += img[i];
        n++;
      }
    }
    return s / n;
  }

  static int count(Phantom p, Tissue t) {
    int n = 0;
    for (byte b : p.tissue) n += b == t.code() ? 1 : 0;
    return n;
  }

  /** CSF and everything inside it. */
  static boolean intracranial(byte code) {
    return code >= Tissue.CSF.code();
  }

  @Test
  void sameSeedAndIndexGiveIdenticalArrays() {
    for (boolean lesion : new boolean[] {false, true}) {
      Phantom a = new PhantomGenerator(64).generate(42, 3, lesion);
      Phantom b = new PhantomGenerator(64).generate(42, 3, lesion);
      assertArrayEquals(a.pixels, b.pixels, 0f);
      assertArrayEquals(a.clean, b.clean, 0f);
      assertArrayEquals(a.tissue, b.tissue);
      assertArrayEquals(a.lesionMask, b.lesionMask, 0f);
    }
    Phantom c = new PhantomGenerator(64).generate(42, 4, false);
    Phantom d = new PhantomGenerator(64).generate(43, 3, false);
    Phantom e = new PhantomGenerator(64).generate(42, 3, false);
    assertFalse(Arrays.equals(c.pixels, e.pixels), "another index gives another subject");
    assertFalse(Arrays.equals(d.pixels, e.pixels), "another seed gives another subject");
  }

  @Test
  void t1AnatomyHasTheRightContrastAt64And256() {
    for (int size : new int[] {64, 256}) {
      PhantomGenerator g = new PhantomGenerator(size);
      for (int i = size == 64 ? 0 : 1; i < (size == 64 ? 4 : 2); i++) {
        Phantom p = g.generate(7, i, i % 2 == 1);
        assertEquals(size * size, p.pixels.length);
        String at = "size " + size + " index " + i;
        double wm = mean(p, p.pixels, Tissue.WHITE_MATTER), gm = mean(p, p.pixels, Tissue.GREY_MATTER);
        double csf = mean(p, p.pixels, Tissue.CSF), vent = mean(p, p.pixels, Tissue.VENTRICLE);
        double fat = mean(p, p.pixels, Tissue.FAT), bg = mean(p, p.pixels, Tissue.BACKGROUND);
        // measured on the noisy image, over each tissue's pixels: WM > GM > CSF on T1, fat bright
        assertTrue(wm > gm + 0.1, at + ": WM " + wm + " vs GM " + gm);
        assertTrue(gm > csf + 0.1, at + ": GM " + gm + " vs CSF " + csf);
        assertTrue(gm > vent + 0.1, at + ": GM " + gm + " vs ventricles " + vent);
        assertTrue(fat > gm, at + ": fat " + fat);
        assertTrue(bg < 0.1 && bg < csf, at + ": background " + bg);
        // every structure is present, with a sensible share of the image
        assertTrue(count(p, Tissue.GREY_MATTER) > 0.05 * size * size, at);
        assertTrue(count(p, Tissue.WHITE_MATTER) > 0.08 * size * size, at);
        assertTrue(count(p, Tissue.VENTRICLE) > 0.004 * size * size, at);
        assertTrue(count(p, Tissue.BACKGROUND) > 0.2 * size * size, at);
        // roughly in [0, 1]
        double max = 0;
        for (float v : p.pixels) max = Math.max(max, v);
        assertTrue(max < 1.5 && max > 0.6, at + ": max " + max);
      }
    }
  }

  @Test
  void t2ReversesTheBrainContrast() {
    Phantom p = new PhantomGenerator(64, 64, Contrast.T2).generate(7, 0, false);
    double wm = mean(p, p.pixels, Tissue.WHITE_MATTER), gm = mean(p, p.pixels, Tissue.GREY_MATTER);
    double vent = mean(p, p.pixels, Tissue.VENTRICLE);
    assertTrue(vent > gm && gm > wm + 0.05, "T2: ventricles " + vent + ", GM " + gm + ", WM " + wm);
    Phantom t1 = new PhantomGenerator(64, 64, Contrast.T1).generate(7, 0, false);
    assertArrayEquals(t1.tissue, p.tissue, "T1 and T2 of one subject share the anatomy");
  }

  @Test
  void backgroundCarriesRicianNoiseWithNonZeroMean() {
    Phantom p = new PhantomGenerator(128).generate(3, 1, false);
    double sum = 0;
    int n = 0;
    for (int k = 0; k < p.pixels.length; k++) {
      if (p.clean[k] == 0) { // air: no signal at all
        sum += p.pixels[k];
        n++;
      }
    }
    assertTrue(n > 0.2 * p.pixels.length, "air pixels: " + n);
    // The magnitude of zero signal plus complex Gaussian noise is Rayleigh distributed, mean sigma sqrt(pi / 2)
    // (Gudbjartsson and Patz 1995): a non-zero background.
    double expected = p.noiseSigma * Math.sqrt(Math.PI / 2);
    assertTrue(sum / n > 0, "background mean " + sum / n);
    assertEquals(expected, sum / n, 0.05 * expected);
    for (float v : p.pixels) assertTrue(v >= 0, "magnitude images are non-negative");
    Phantom clean = new PhantomGenerator(128).withNoise(false).generate(3, 1, false);
    assertArrayEquals(p.clean, clean.pixels, 0f);
    assertEquals(0f, clean.pixels[0], 0f);
    assertEquals(0.0, clean.noiseSigma, 0.0);
  }

  @Test
  void lesionSlicesDifferFromTheirHealthyPairOnlyInsideTheBrain() {
    PhantomGenerator g = new PhantomGenerator(64);
    for (int i = 0; i < 4; i++) {
      Phantom h = g.generate(11, i, false), l = g.generate(11, i, true);
      double lesionArea = 0, inside = 0, outside = 0, maskedDiff = 0;
      int relabelled = 0;
      for (int k = 0; k < h.clean.length; k++) {
        assertEquals(0f, h.lesionMask[k], 0f);
        double d = Math.abs(l.clean[k] - h.clean[k]);
        lesionArea += l.lesionMask[k];
        maskedDiff += d * l.lesionMask[k];
        if (intracranial(h.tissue[k])) inside += d;
        else if (h.tissue[k] <= Tissue.FAT.code()) outside += d; // skull pixels may share partial volume with CSF
        if (l.lesionMask[k] == 0 && h.tissue[k] != l.tissue[k]) relabelled++;
      }
      String at = "index " + i;
      assertEquals(0.0, outside, 1e-9, at + ": scalp and background are identical in the pair");
      assertTrue(lesionArea > 3, at + ": lesion covers " + lesionArea + " pixels");
      assertTrue(maskedDiff / lesionArea > 0.08, at + ": mean change inside the lesion " + maskedDiff / lesionArea);
      assertTrue(inside > maskedDiff, at);
      assertTrue(relabelled > 0, at + ": the mass effect moves anatomy outside the lesion");
      // T1: the lesion is hypointense relative to the white matter it replaces
      assertTrue(mean(l, l.clean, Tissue.LESION_CORE) < mean(h, h.clean, Tissue.WHITE_MATTER) - 0.15, at);
    }
  }

  @Test
  void anatomyIsTheSameAtEverySize() {
    // 256 box-averaged to 64 matches the 64 rendering (both noise-free): the model is resolution independent.
    float[] small = new PhantomGenerator(64).withNoise(false).generate(5, 2, true).clean;
    float[] big = new PhantomGenerator(256).withNoise(false).generate(5, 2, true).clean;
    double sxy = 0, sxx = 0, syy = 0, sx = 0, sy = 0;
    int n = small.length;
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 64; x++) {
        double b = 0;
        for (int j = 0; j < 4; j++) {
          for (int i = 0; i < 4; i++) b += big[(4 * y + j) * 256 + 4 * x + i];
        }
        b /= 16;
        double a = small[y * 64 + x];
        sx += a;
        sy += b;
        sxx += a * a;
        syy += b * b;
        sxy += a * b;
      }
    }
    double r = (sxy - sx * sy / n) / Math.sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
    assertTrue(r > 0.97, "correlation " + r);
  }

  @Test
  void nonSquareAndLimits() {
    Phantom p = new PhantomGenerator(80, 48, Contrast.T1).generate(1, 0, true);
    assertEquals(80 * 48, p.pixels.length);
    assertEquals(80, p.width);
    assertTrue(count(p, Tissue.WHITE_MATTER) > 100);
    assertThrows(IllegalArgumentException.class, () -> new PhantomGenerator(8));
    assertThrows(IllegalArgumentException.class, () -> new PhantomGenerator(2048));
  }
}
