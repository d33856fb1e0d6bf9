package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ImageMetricsTest {

  private static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = r.nextFloat();
    return a;
  }

  private static float[] constant(int n, float v) {
    float[] a = new float[n];
    Arrays.fill(a, v);
    return a;
  }

  @Test
  void identicalImagesGiveSsimOneAndInfinitePsnr() {
    float[] a = random(32 * 24, 1);
    assertEquals(1.0, ImageMetrics.ssim(a, a.clone(), 32, 24, 1.0), 1e-12);
    assertEquals(Double.POSITIVE_INFINITY, ImageMetrics.psnr(a, a.clone(), 1.0));
    assertEquals(0.0, ImageMetrics.mse(a, a.clone()));
  }

  @Test
  void constantOffsetGivesAnalyticPsnr() {
    float[] a = random(20 * 20, 2);
    float[] b = a.clone();
    float d = 0.0625f; // exactly representable, so every difference is exactly d
    for (int i = 0; i < b.length; i++) b[i] = a[i] + d;
    // MSE = d^2, PSNR = 10 log10(L^2 / d^2) = 20 log10(L / d)
    assertEquals(20 * Math.log10(1.0 / d), ImageMetrics.psnr(a, b, 1.0), 1e-4);
    assertEquals(20 * Math.log10(255.0 / d), ImageMetrics.psnr(a, b, 255.0), 1e-4);
  }

  @Test
  void ssimOfConstantImagesIsTheLuminanceTerm() {
    // Both windows flat: sigma = 0, so SSIM = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) * C2 / C2.
    double c1 = 0.01 * 0.01;
    double expected = (2 * 0.5 * 0.7 + c1) / (0.25 + 0.49 + c1);
    float[] a = constant(15 * 13, 0.5f);
    float[] b = constant(15 * 13, 0.7f);
    assertEquals(expected, ImageMetrics.ssim(a, b, 15, 13, 1.0), 1e-6);
  }

  @Test
  void ssimOfOneWindowWithOneChangedPixelMatchesHandComputation() {
    // 11x11: exactly one window position. x = 0.5 everywhere; y = x except the centre pixel, raised by delta.
    // With w_c the weight of the centre (g(0)^2 of the normalised 1-D Gaussian):
    //   mu_x = 0.5, mu_y = 0.5 + delta w_c, sigma_x = 0, sigma_xy = 0, sigma_y^2 = delta^2 w_c (1 - w_c).
    double sum = 0;
    for (int k = -5; k <= 5; k++) sum += Math.exp(-k * k / (2 * 1.5 * 1.5));
    double wc = (1 / sum) * (1 / sum);
    double delta = 0.25;
    double c1 = 1e-4, c2 = 9e-4;
    double mx = 0.5, my = 0.5 + delta * wc, vy = delta * delta * wc * (1 - wc);
    double expected = ((2 * mx * my + c1) * c2) / ((mx * mx + my * my + c1) * (vy + c2));
    float[] a = constant(121, 0.5f);
    float[] b = constant(121, 0.5f);
    b[5 * 11 + 5] = 0.75f;
    assertEquals(expected, ImageMetrics.ssim(a, b, 11, 11, 1.0), 1e-9);
    assertTrue(expected < 0.5, "a single changed pixel in a flat window is a large structural change");
  }

  @Test
  void ssimIsSymmetricAndBelowOneForNoisyCopies() {
    int w = 40, h = 30;
    float[] a = new float[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) a[y * w + x] = (float) (0.5 + 0.4 * Math.sin(x / 4.0) * Math.cos(y / 5.0));
    }
    Random r = new Random(3);
    float[] light = a.clone(), heavy = a.clone();
    for (int i = 0; i < a.length; i++) {
      double n = r.nextGaussian();
      light[i] += (float) (0.02 * n);
      heavy[i] += (float) (0.2 * n);
    }
    double sLight = ImageMetrics.ssim(a, light, w, h, 1.0);
    double sHeavy = ImageMetrics.ssim(a, heavy, w, h, 1.0);
    assertEquals(sLight, ImageMetrics.ssim(light, a, w, h, 1.0), 1e-12);
    assertEquals(sHeavy, ImageMetrics.ssim(heavy, a, w, h, 1.0), 1e-12);
    assertTrue(sLight < 1 && sLight > 0.8, "light noise: " + sLight);
    assertTrue(sHeavy < sLight, "more noise must lower SSIM: " + sHeavy + " vs " + sLight);
    assertTrue(ImageMetrics.psnr(a, heavy, 1.0) < ImageMetrics.psnr(a, light, 1.0));
  }

  @Test
  void nearestFindsTheCopy() {
    int w = 16, h = 16;
    float[] sample = random(w * h, 10);
    float[] noisy = sample.clone();
    for (int i = 0; i < noisy.length; i++) noisy[i] += 0.05f * (i % 2 == 0 ? 1 : -1);
    List<float[]> refs = Arrays.asList(random(w * h, 11), noisy, random(w * h, 12));
    ImageMetrics.Nearest n = ImageMetrics.nearest(sample, refs, w, h, 1.0);
    assertEquals(1, n.ssimIndex);
    assertEquals(1, n.psnrIndex);
    assertEquals(ImageMetrics.ssim(sample, noisy, w, h, 1.0), n.ssim, 0);
    assertEquals(20 * Math.log10(1 / 0.05), n.psnr, 1e-3);
  }

  @Test
  void rejectsBadShapes() {
    assertThrows(IllegalArgumentException.class, () -> ImageMetrics.ssim(new float[100], new float[100], 10, 10, 1));
    assertThrows(IllegalArgumentException.class, () -> ImageMetrics.ssim(new float[144], new float[143], 12, 12, 1));
    assertThrows(IllegalArgumentException.class, () -> ImageMetrics.psnr(new float[4], new float[4], 0));
    assertThrows(IllegalArgumentException.class,
        () -> ImageMetrics.nearest(new float[144], List.of(), 12, 12, 1));
  }
}
