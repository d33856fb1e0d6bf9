package org.diffxai.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;

class BaselineTest {

  @Test
  void zeroMinAndMeanPerChannel() {
    // 2x2 pixels, 2 channels: channel 0 = 1, 2, 3, 6; channel 1 = -1, 0, 5, 0
    float[] x = {1, -1, 2, 0, 3, 5, 6, 0};
    float[] min = Baseline.MIN.of(x, 2, 2, 2), mean = Baseline.MEAN.of(x, 2, 2, 2), zero = Baseline.ZERO.of(x, 2, 2, 2);
    for (int p = 0; p < 4; p++) {
      assertEquals(1, min[2 * p]);
      assertEquals(-1, min[2 * p + 1]);
      assertEquals(3, mean[2 * p]);
      assertEquals(1, mean[2 * p + 1]);
      assertEquals(0, zero[2 * p]);
    }
  }

  @Test
  void blurKeepsConstantsSpreadsAnImpulseWithUnitMassAndHasTheDocumentedSigma() {
    int h = 64, w = 48;
    assertEquals(3, Baseline.blurSigma(h, w), 0);
    assertEquals(1, Baseline.blurSigma(8, 8), 0);
    assertEquals(16, Baseline.blurSigma(256, 256), 0);
    float[] flat = new float[h * w];
    java.util.Arrays.fill(flat, 2.5f);
    for (float v : Baseline.BLUR.of(flat, h, w, 1)) assertEquals(2.5f, v, 1e-6);
    float[] impulse = new float[h * w];
    impulse[32 * w + 24] = 1;
    float[] b = Baseline.BLUR.of(impulse, h, w, 1);
    double sum = 0, var = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        sum += b[y * w + x];
        var += b[y * w + x] * (double) (x - 24) * (x - 24);
      }
    }
    assertEquals(1, sum, 1e-5);
    // the discrete Gaussian truncated at 3 sigma has a variance slightly below sigma^2 = 9
    assertEquals(9, var, 0.3);
    assertEquals(b[32 * w + 20], b[32 * w + 28], 1e-9); // symmetric
    assertTrue(b[32 * w + 24] > b[32 * w + 25]);
  }

  @Test
  void keysParse() {
    assertEquals(Baseline.BLUR, Baseline.of("Blur"));
    assertEquals("mean", Baseline.MEAN.key());
    UserException e = assertThrows(UserException.class, () -> Baseline.of("black"));
    assertTrue(e.getMessage().contains("zero, min, mean or blur"));
  }
}
