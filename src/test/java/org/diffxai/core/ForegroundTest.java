package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.diffxai.phantom.Contrast;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.phantom.Shortcut;
import org.diffxai.phantom.Tissue;
import org.diffxai.metrics.Localisation;
import org.junit.jupiter.api.Test;

/** {@link Foreground} against the phantoms' tissue label maps: the head is every pixel whose tissue is not air. */
class ForegroundTest {

  /**
   * Image variants: as generated (Rician σ 0.012–0.035), with Rician noise of σ = 0.1 on the noise-free image, with a
   * strong bias field (gain 0.47× to 2.1× across the image) and σ = 0.05, and with both at their worst (HARSH).
   */
  enum Variant { PLAIN, NOISY, BIASED, HARSH }

  static float[] variant(Phantom p, Variant v, long seed) {
    if (v == Variant.PLAIN) return p.pixels;
    Random r = new Random(seed);
    double sigma = v == Variant.BIASED ? 0.05 : 0.1;
    float[] out = new float[p.clean.length];
    for (int i = 0; i < out.length; i++) {
      double s = p.clean[i];
      if (v != Variant.NOISY) {
        double x = (i % p.width) / (p.width - 1.0) * 2 - 1, y = (i / p.width) / (p.height - 1.0) * 2 - 1;
        s *= Math.exp(0.5 * x - 0.25 * y);
      }
      double re = s + sigma * r.nextGaussian(), im = sigma * r.nextGaussian();
      out[i] = (float) Math.sqrt(re * re + im * im);
    }
    return out;
  }

  static double iou(boolean[] a, boolean[] b) {
    return Localisation.maskIoU(a, b);
  }

  /** The head mask from the label map: every pixel whose dominant tissue is not air (nor a planted shortcut). */
  static boolean[] head(Phantom p) {
    boolean[] m = new boolean[p.tissue.length];
    for (int i = 0; i < m.length; i++) {
      m[i] = p.tissue[i] != Tissue.BACKGROUND.code() && p.tissue[i] != Tissue.SHORTCUT.code();
    }
    return m;
  }

  @Test
  void findsTheHeadOnPhantomsAndNoisyAndBiasedVariants() {
    StringBuilder report = new StringBuilder();
    boolean ok = true;
    for (int size : new int[] {64, 256}) {
      for (Contrast c : Contrast.values()) {
        PhantomGenerator g = new PhantomGenerator(size, size, c);
        int n = size == 64 ? 40 : 4;
        double[][] j = new double[Variant.values().length][n];
        for (int i = 0; i < n; i++) {
          Phantom p = g.generate(1234, i, i % 2 == 1);
          boolean[] truth = head(p);
          for (Variant v : Variant.values()) {
            j[v.ordinal()][i] = iou(Foreground.estimate(variant(p, v, i), size, size), truth);
          }
        }
        for (Variant v : Variant.values()) {
          double[] x = j[v.ordinal()];
          double mean = Arrays.stream(x).average().getAsDouble(), min = Arrays.stream(x).min().getAsDouble();
          report.append(String.format(Locale.ROOT, "%s %s %d: IoU mean %.4f, min %.4f (%d slices)%n", v, c, size,
              mean, min, n));
          // every slice >= 0.95, except the HARSH variant, where the mean must be
          ok &= v == Variant.HARSH ? mean >= 0.95 : min >= 0.95;
        }
      }
    }
    System.out.print(report);
    assertTrue(ok, report.toString());
  }

  @Test
  void leavesOutAPlantedMarkAndTreatsAFlatImageAsAllAnatomy() {
    Phantom plain = new PhantomGenerator(64).generate(3, 2, true);
    for (Shortcut.Kind k : new Shortcut.Kind[] {Shortcut.Kind.MARK, Shortcut.Kind.TEXT}) {
      Phantom p = new Shortcut(k, true, 1, Shortcut.Corner.TOP_RIGHT).plant(plain, 3, 2);
      boolean[] fg = Foreground.estimate(p.pixels, 64, 64);
      for (int i = 0; i < fg.length; i++) assertFalse(p.shortcutPixels[i] && fg[i], k + " pixel " + i);
      assertTrue(iou(fg, head(p)) > 0.95);
    }
    boolean[] flat = Foreground.estimate(new float[20 * 10], 20, 10);
    for (boolean b : flat) assertTrue(b);
  }
}
