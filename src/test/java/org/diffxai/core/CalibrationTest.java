package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Temperature scaling, ECE and the OOD rule of {@link Calibration} and {@link Confidence}. */
class CalibrationTest {

  /** Logits of n three-class images and labels drawn from softmax(logits / trueT): a model whose best T is trueT. */
  private static Object[] overconfident(int n, double trueT, long seed) {
    Random r = Seeds.random(seed, "calibration-test");
    float[][] z = new float[n][3];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < 3; k++) z[i][k] = (float) (3 * r.nextGaussian());
      double[] p = Confidence.softmax(z[i], trueT);
      double u = r.nextDouble();
      y[i] = u < p[0] ? 0 : u < p[0] + p[1] ? 1 : 2;
    }
    return new Object[] {z, y};
  }

  @Test
  void fittedTemperatureRecoversTheOneTheLabelsWereDrawnWith() {
    Object[] d = overconfident(10000, 2.5, 1);
    float[][] z = (float[][]) d[0];
    int[] y = (int[]) d[1];
    double t = Calibration.fitTemperature(z, y);
    assertEquals(2.5, t, 0.15, "fitted T");
    // the golden-section result is the NLL minimum of a fine grid
    double bestT = 0;
    double best = Double.POSITIVE_INFINITY;
    for (double g = 2; g <= 3.2; g += 0.002) {
      double v = Calibration.nll(z, y, g);
      if (v < best) {
        best = v;
        bestT = g;
      }
    }
    assertEquals(bestT, t, 3e-3);
    assertTrue(Calibration.nll(z, y, t) <= best + 1e-9);
    // calibration lowers the ECE of the over-confident logits
    Calibration.Fit fit = Calibration.fit(z, y);
    assertEquals(t, fit.temperature, 0);
    assertTrue(fit.eceBefore > 0.1, "ECE at T=1 " + fit.eceBefore);
    assertTrue(fit.eceAfter < 0.02, "ECE at the fitted T " + fit.eceAfter);
    assertTrue(fit.nllAfter < fit.nllBefore);
  }

  @Test
  void eceByHandWithFifteenBins() {
    // confidences 0.9, 0.9 (bin 13) and 0.62, 0.62 (bin 9): two-class logits log(p / (1 - p))
    float a = (float) Math.log(0.9 / 0.1);
    float b = (float) Math.log(0.62 / 0.38);
    float[][] z = {{a, 0}, {a, 0}, {0, b}, {0, b}};
    int[] y = {0, 1, 1, 1};
    // bin 13: accuracy 0.5, confidence 0.9; bin 9: accuracy 1, confidence 0.62
    assertEquals(0.5 * 0.4 + 0.5 * 0.38, Calibration.ece(z, y, 1), 1e-6);
    assertEquals(15, Calibration.ECE_BINS);
  }

  @Test
  void confidenceAppliesTheTemperatureAndTheOodThresholds() {
    int[][] classes = {{0, 1}, {2}};
    Confidence c = new Confidence(2, 0.5, 1.0, classes);
    float[] logits = {1, 3};
    double e = Math.exp(-1);
    assertArrayEquals(new double[] {e / (1 + e), 1 / (1 + e)}, c.probabilities(logits), 1e-12);
    assertArrayEquals(Confidence.softmax(logits, 1), Confidence.NONE.probabilities(logits), 0);
    float[] d = {0.7f, 0.2f, 1.9f};
    assertEquals(0.2, Confidence.nearestPart(d), 1e-7);
    // class 0: (0.7 + 0.2) / 2 = 0.45, class 1: 1.9
    assertEquals(0.45, Confidence.classCoverage(d, classes), 1e-7);
    assertFalse(c.isOod(d, Double.NaN));
    assertTrue(c.isOod(new float[] {0.7f, 0.51f, 1.9f}, Double.NaN), "nearest part above 0.5");
    assertTrue(c.isOod(new float[] {2.0f, 0.55f, 1.5f}, Double.NaN), "coverage min(1.275, 1.5) above 1");
    assertFalse(c.isOod(new float[] {1.4f, 0.45f, 0.9f}, Double.NaN), "nearest 0.45, coverage min(0.925, 0.9)");
    assertTrue(c.isOod(new float[] {Float.NaN, 0.1f, 0.1f}, Double.NaN), "a NaN distance counts as out of "
        + "distribution");
    assertFalse(Confidence.NONE.isOod(new float[] {1e9f}, Double.NaN), "no threshold, never flagged");
    assertFalse(Confidence.NONE.hasOodThreshold());
    // out of range: model = (x - 0.5) / 0.25 outside [-1, 1], i.e. x outside [0.25, 0.75]
    Confidence r = Confidence.NONE.withRange(0.5, new IntensityMapping(0.25, 0.5), new float[] {-1, 1});
    float[] img = {0.1f, 0.3f, 0.5f, 0.8f, 0.7f, 0.75f};
    assertEquals(2 / 6.0, r.outOfRange(img, 0, 6), 1e-12);
    assertEquals(0.5, r.outOfRange(img, 2, 2), 1e-12);
    assertFalse(r.isOod(new float[] {1e9f}, 0.5), "no distance thresholds; 0.5 is not above 0.5");
    assertTrue(r.isOod(new float[] {1e9f}, 0.51));
    assertTrue(Double.isNaN(Confidence.NONE.outOfRange(img, 0, 6)), "no clip range, no statistic");
    assertEquals(0.8, Calibration.oodThreshold(new double[] {0.1, 0.8, 0.3}), 0);
    assertThrows(IllegalArgumentException.class, () -> new Confidence(0, Double.NaN, Double.NaN, null));
    assertThrows(IllegalArgumentException.class, () -> new Confidence(1, 0.1, 0.2, null));
    assertThrows(IllegalArgumentException.class, () -> Calibration.fit(new float[][] {{1, 2}}, new int[] {2}));
    // class sets: own class and a non-zero weight
    int[][] sets = Confidence.classPrototypes(new int[] {0, 0, 1, 0}, new float[][] {{1, 1, 0, 0}, {0, -0.5f, 2, 0}});
    assertArrayEquals(new int[] {0, 1}, sets[0]);
    assertArrayEquals(new int[] {2}, sets[1]);
  }

  @Test
  void activationsCarryCalibratedProbabilitiesAndFlags() {
    float[][] logits = {{0, 2}, {1, 1}};
    float[][] minD = {{0.1f, 0.4f}, {0.6f, 0.9f}};
    // two 1-pixel images in model space = image (identity mapping); clip [-1, 1]
    Confidence conf = new Confidence(4, 0.5, Double.NaN, new int[][] {{0}, {1}}).withRange(0.5,
        IntensityMapping.IDENTITY, new float[] {-1, 1});
    PrototypeActivations a = new PrototypeActivations(logits, new float[2][2], new float[2][2], minD, conf,
        new float[] {0.3f, 0.2f});
    assertArrayEquals(Confidence.softmax(logits[0], 4), a.probabilities[0], 0);
    assertEquals(0.1, a.nearestPart[0], 1e-7);
    assertEquals(0.1, a.classCoverage[0], 1e-7);
    assertEquals(0, a.outOfRange[0], 0);
    assertFalse(a.ood[0]);
    assertTrue(a.ood[1], "nearest part 0.6 above 0.5");
    PrototypeActivations bright = new PrototypeActivations(logits, new float[2][2], new float[2][2], minD, conf,
        new float[] {3f, 0.2f});
    assertEquals(1, bright.outOfRange[0], 0);
    assertTrue(bright.ood[0], "its one pixel is out of range");
    PrototypeActivations plain = new PrototypeActivations(logits, new float[2][2], new float[2][2], minD);
    assertFalse(plain.ood[1]);
    assertTrue(Double.isNaN(plain.classCoverage[1]));
    assertArrayEquals(Confidence.softmax(logits[0], 1), plain.probabilities[0], 0);
  }
}
