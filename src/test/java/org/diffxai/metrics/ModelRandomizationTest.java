package org.diffxai.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.diffxai.core.Randomization;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;

/** The map similarities on maps whose answers are known, and the randomization key. */
class ModelRandomizationTest {

  static float[] ramp(int w, int h) {
    float[] v = new float[w * h];
    for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) v[y * w + x] = x + 0.5f * y;
    return v;
  }

  @Test
  void identicalOrMonotoneMapsAreFullySimilar() {
    float[] a = ramp(16, 16);
    float[] cubed = new float[a.length];
    float[] scaled = new float[a.length];
    float[] negated = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      cubed[i] = a[i] * a[i] * a[i];
      scaled[i] = 3 * a[i] - 7;
      negated[i] = -a[i];
    }
    assertEquals(1, ModelRandomization.spearman(a, a), 1e-12);
    assertEquals(1, ModelRandomization.spearman(a, cubed), 1e-12, "ranks only");
    assertEquals(-1, ModelRandomization.spearman(a, negated), 1e-12);
    assertEquals(1, ModelRandomization.ssim(a, a, 16, 16), 1e-12);
    assertEquals(1, ModelRandomization.ssim(a, scaled, 16, 16), 1e-6, "each map is min-max scaled first");
    assertTrue(ModelRandomization.ssim(a, negated, 16, 16) < 0);
  }

  @Test
  void independentMapsAreDissimilarAndConstantOnesUndefined() {
    Random r = new Random(5);
    float[] a = new float[64 * 64], b = new float[64 * 64];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) r.nextGaussian();
      b[i] = (float) r.nextGaussian();
    }
    assertTrue(Math.abs(ModelRandomization.spearman(a, b)) < 0.05); // sd of rho is 1/sqrt(4095) = 0.016
    // SSIM of independent noise is small but not 0 (C2 and 11x11 local windows; measured 0.057 with this seed)
    assertTrue(Math.abs(ModelRandomization.ssim(a, b, 64, 64)) < 0.1);
    float[] flat = new float[a.length];
    assertTrue(Double.isNaN(ModelRandomization.spearman(a, flat)));
    assertTrue(Double.isNaN(ModelRandomization.ssim(a, flat, 64, 64)));
    assertTrue(Double.isNaN(ModelRandomization.ssim(new float[100], new float[100], 10, 10)), "below the window");
  }

  @Test
  void randomizationKey() {
    assertEquals(List.of(Randomization.TOP, Randomization.FULL), Randomization.parse("both"));
    assertEquals(List.of(Randomization.FULL), Randomization.parse(" Full "));
    assertEquals(List.of(), Randomization.parse("none"));
    UserException e = assertThrows(UserException.class, () -> Randomization.parse("half"));
    assertTrue(e.getMessage().contains("both, top, full or none"));
  }
}
