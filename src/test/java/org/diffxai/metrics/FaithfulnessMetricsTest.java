package org.diffxai.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.diffxai.core.CancelledException;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;

/**
 * The metrics on a linear classifier, whose exact per-pixel contribution relative to a baseline b is W[t]⊙(x − b):
 * closed-form expectations (correlation ±1, pointwise ordering of the deletion/insertion/region curves), invariance to
 * attribution scaling, seeded repeatability, batching independence and bad arguments.
 */
public class FaithfulnessMetricsTest {
  public static final int H = 16, W = 12;

  public static float[] image(int c, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[H * W * c];
    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
    return x;
  }

  static float[] randomMap(long seed) {
    return new org.diffxai.core.GaussianNoise(seed).fill(new float[H * W]);
  }

  static float[] scaled(float[] a, float s) {
    float[] b = new float[a.length];
    for (int i = 0; i < a.length; i++) b[i] = a[i] * s;
    return b;
  }

  static FaithfulnessMetrics metrics(LinearClassifier m, Baseline b) {
    FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings();
    s.baseline = b;
    s.runs = 200;
    return new FaithfulnessMetrics(m, s, Progress.NONE);
  }

  /** Two classes with W[1] = −W[0]: the target probability is a monotone function of the target logit. */
  static LinearClassifier twoClass(int c, long seed) {
    LinearClassifier one = LinearClassifier.random(H, W, c, 1, seed);
    return new LinearClassifier(H, W, c, new float[][] {one.weights[0], scaled(one.weights[0], -1)}, new float[2]);
  }

  @Test
  void correlationOfTheExactAttributionIsOneForEveryBaseline() {
    for (Baseline b : Baseline.values()) {
      for (int c : new int[] {1, 3}) {
        LinearClassifier m = LinearClassifier.random(H, W, c, 3, 7 + c);
        float[] x = image(c, 11);
        float[] exact = m.exact(2, x, b.of(x, H, W, c));
        FaithfulnessMetrics f = metrics(m, b);
        MetricResult r = f.faithfulnessCorrelation(x, exact, 2, 5);
        assertEquals(1, r.value, 1e-6, b + " c=" + c);
        assertEquals(-1, f.faithfulnessCorrelation(x, scaled(exact, -1), 2, 5).value, 1e-6, b + " c=" + c);
        assertEquals(201, r.forwards);
        assertEquals(200, r.curve.x.length);
        // the curve's points are the exact subset sums and drops: drop == sum up to float rounding of the logits
        for (int i = 0; i < r.curve.x.length; i++) assertEquals(r.curve.x[i], r.curve.y[i], 1e-4);
      }
    }
  }

  @Test
  void correlationOfARandomMapIsNearZero() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 2, 3);
    float[] x = image(1, 4);
    FaithfulnessMetrics f = metrics(m, Baseline.ZERO);
    double sum = 0;
    for (int s = 0; s < 5; s++) {
      double v = f.faithfulnessCorrelation(x, randomMap(100 + s), 0, s).value;
      assertTrue(Math.abs(v) < 0.3, "random map " + s + ": " + v);
      sum += v;
    }
    assertTrue(Math.abs(sum / 5) < 0.12, "mean over 5 random maps: " + sum / 5);
  }

  @Test
  void deletionOrdersExactBelowRandomBelowNegatedPointwise() {
    for (Baseline b : Baseline.values()) {
      LinearClassifier m = twoClass(1, 21);
      float[] x = image(1, 22);
      float[] exact = m.exact(0, x, b.of(x, H, W, 1));
      FaithfulnessMetrics f = metrics(m, b);
      MetricResult e = f.deletion(x, exact, 0), r = f.deletion(x, randomMap(23), 0);
      MetricResult n = f.deletion(x, scaled(exact, -1), 0);
      assertTrue(e.value < r.value && r.value < n.value, b + ": " + e + " " + r + " " + n);
      for (int i = 0; i < e.curve.y.length; i++) {
        assertTrue(e.curve.y[i] <= r.curve.y[i] + 1e-6 && r.curve.y[i] <= n.curve.y[i] + 1e-6, b + " point " + i);
      }
      // endpoints: the image itself and the baseline
      float[] base = b.of(x, H, W, 1);
      assertEquals(FaithfulnessMetrics.softmax(m.logits(x, 1)[0], 0), e.curve.y[0], 0);
      assertEquals(FaithfulnessMetrics.softmax(m.logits(base, 1)[0], 0), e.curve.y[e.curve.y.length - 1], 0);
      assertEquals(0, e.curve.x[0]);
      assertEquals(1, e.curve.x[e.curve.x.length - 1]);
      assertTrue(e.value >= 0 && n.value <= 1);
      // default step = the width: H + 1 points
      assertEquals(H + 1, e.forwards);
    }
  }

  @Test
  void insertionOrdersExactAboveRandomAboveNegated() {
    LinearClassifier m = twoClass(1, 31);
    float[] x = image(1, 32);
    FaithfulnessMetrics f = metrics(m, Baseline.ZERO);
    // from the blurred image (RISE): exact relative to that start
    float[] blurred = Baseline.BLUR.of(x, H, W, 1);
    float[] exact = m.exact(0, x, blurred);
    MetricResult e = f.insertion(x, exact, 0), r = f.insertion(x, randomMap(33), 0);
    MetricResult n = f.insertion(x, scaled(exact, -1), 0);
    assertTrue(e.value > r.value && r.value > n.value, e + " " + r + " " + n);
    assertEquals(FaithfulnessMetrics.softmax(m.logits(blurred, 1)[0], 0), e.curve.y[0], 0);
    assertEquals(FaithfulnessMetrics.softmax(m.logits(x, 1)[0], 0), e.curve.y[e.curve.y.length - 1], 0);
    // from a given start (zero image): exact = W ⊙ x
    float[] zero = new float[x.length];
    float[] ex0 = m.exact(0, x, zero);
    MetricResult e0 = f.insertion(x, zero, ex0, 0), r0 = f.insertion(x, zero, randomMap(34), 0);
    MetricResult n0 = f.insertion(x, zero, scaled(ex0, -1), 0);
    for (int i = 0; i < e0.curve.y.length; i++) {
      assertTrue(e0.curve.y[i] >= r0.curve.y[i] - 1e-6 && r0.curve.y[i] >= n0.curve.y[i] - 1e-6, "point " + i);
    }
    assertTrue(e0.value > r0.value && r0.value > n0.value);
  }

  @Test
  void aucIsTheTrapezoidOfAPartialLastStep() {
    // 16x12 = 192 pixels, step 50: points at 0, 50, 100, 150, 192 pixels
    LinearClassifier m = twoClass(1, 41);
    FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings();
    s.baseline = Baseline.ZERO;
    s.step = 50;
    float[] x = image(1, 42);
    MetricResult r = new FaithfulnessMetrics(m, s, null).deletion(x, randomMap(43), 0);
    assertArrayEquals(new double[] {0, 50 / 192.0, 100 / 192.0, 150 / 192.0, 1}, r.curve.x, 0);
    double[] y = r.curve.y;
    double auc = 0;
    for (int i = 0; i < 4; i++) auc += (r.curve.x[i + 1] - r.curve.x[i]) * (y[i] + y[i + 1]) / 2;
    assertEquals(auc, r.value, 1e-15);
  }

  @Test
  void monotonicityOfTheExactAttributionIsOne() {
    for (Baseline b : new Baseline[] {Baseline.ZERO, Baseline.BLUR}) {
      LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 51);
      float[] x = image(1, 52);
      float[] exact = m.exact(1, x, b.of(x, H, W, 1));
      FaithfulnessMetrics f = metrics(m, b);
      MetricResult r = f.monotonicity(x, exact, 1);
      assertEquals(1, r.value, 1e-12, b.key());
      assertEquals(-1, f.monotonicity(x, scaled(exact, -1), 1).value, 1e-12, b.key());
      assertTrue(Math.abs(f.monotonicity(x, randomMap(53), 1).value) < 0.6);
      assertEquals(H + 1, r.forwards); // 192 pixels in groups of 12
    }
  }

  @Test
  void regionPerturbationOrdersExactAboveRandomAboveNegated() {
    LinearClassifier m = LinearClassifier.random(H, W, 2, 2, 61);
    float[] x = image(2, 62);
    FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings();
    s.baseline = Baseline.MEAN;
    s.patchSize = 5; // 16x12 in 5x5 patches: 4 rows x 3 columns, the last ones smaller
    FaithfulnessMetrics f = new FaithfulnessMetrics(m, s, null);
    float[] exact = m.exact(0, x, Baseline.MEAN.of(x, H, W, 2));
    MetricResult e = f.regionPerturbation(x, exact, 0), r = f.regionPerturbation(x, randomMap(63), 0);
    MetricResult n = f.regionPerturbation(x, scaled(exact, -1), 0);
    assertEquals(13, e.forwards);
    assertEquals(0, e.curve.y[0]);
    for (int i = 0; i < e.curve.y.length; i++) {
      assertTrue(e.curve.y[i] >= r.curve.y[i] - 1e-5 && r.curve.y[i] >= n.curve.y[i] - 1e-5, "point " + i);
    }
    assertTrue(e.value > r.value && r.value > n.value);
    // all patches removed: the drop is the whole exact attribution
    double total = 0;
    for (float v : exact) total += v;
    assertEquals(total, e.curve.y[12], 1e-4);
  }

  @Test
  void valuesAreInvariantToPositiveScalingOfTheAttribution() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 71);
    float[] x = image(1, 72);
    float[] a = randomMap(73);
    FaithfulnessMetrics f = metrics(m, Baseline.BLUR);
    List<MetricResult> ref = f.all(x, a, 1, 9);
    for (float s : new float[] {4f, 0.25f, 3.7f, 1e-3f}) {
      List<MetricResult> got = f.all(x, scaled(a, s), 1, 9);
      for (int i = 0; i < ref.size(); i++) {
        // powers of two scale floats exactly; other factors round each value (relative 6e-8)
        double tol = s == 4f || s == 0.25f ? 0 : 1e-6;
        assertEquals(ref.get(i).value, got.get(i).value, tol, ref.get(i).metric.key() + " scale " + s);
        if (!ref.get(i).curve.scatter) assertArrayEquals(ref.get(i).curve.y, got.get(i).curve.y, 0);
      }
    }
  }

  @Test
  void seededRunsRepeatExactlyAndDoNotDependOnTheBatch() {
    LinearClassifier m = LinearClassifier.random(H, W, 2, 3, 81);
    float[] x = image(2, 82);
    float[] a = randomMap(83);
    List<MetricResult> ref = metrics(m, Baseline.BLUR).all(x, a, 2, 42);
    for (int batch : new int[] {1, 7, 32, 1000}) {
      FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings();
      s.runs = 200;
      s.batch = batch;
      List<MetricResult> got = new FaithfulnessMetrics(m, s, null).all(x, a, 2, 42);
      for (int i = 0; i < ref.size(); i++) {
        assertEquals(ref.get(i).value, got.get(i).value, 0, "batch " + batch);
        assertArrayEquals(ref.get(i).curve.x, got.get(i).curve.x, 0);
        assertArrayEquals(ref.get(i).curve.y, got.get(i).curve.y, 0);
      }
    }
    assertNotEquals(ref.get(0).value, metrics(m, Baseline.BLUR).faithfulnessCorrelation(x, a, 2, 43).value);
  }

  @Test
  void theClassifierIsCalledInBatchesOfTheSetting() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 2, 91);
    FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings();
    s.runs = 100;
    s.batch = 16;
    MetricResult r = new FaithfulnessMetrics(m, s, null).faithfulnessCorrelation(image(1, 92), randomMap(93), 0, 1);
    assertEquals(101, r.forwards);
    assertEquals(101, m.images);
    assertEquals(7, m.calls); // ceil(101 / 16)
  }

  @Test
  void cancellationStopsBetweenBatches() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 2, 95);
    int[] reports = {0};
    Progress p = new Progress() {
      @Override
      public void report(String message, double fraction) {
        reports[0]++;
      }

      @Override
      public boolean isCancelled() {
        return reports[0] >= 2;
      }
    };
    FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings();
    s.batch = 4;
    assertThrows(CancelledException.class,
        () -> new FaithfulnessMetrics(m, s, p).deletion(image(1, 96), randomMap(97), 0));
    assertEquals(8, m.images);
  }

  @Test
  void badArgumentsAreUserErrors() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 2, 99);
    float[] x = image(1, 98);
    FaithfulnessMetrics f = metrics(m, Baseline.ZERO);
    assertMessage(() -> settings(m, s -> s.subsetSize = 193), "subset_size=193", "192 pixels");
    assertMessage(() -> settings(m, s -> s.step = 500), "step=500");
    assertMessage(() -> settings(m, s -> s.patchSize = 13), "patch_size=13", "1 to 12");
    assertMessage(() -> settings(m, s -> s.runs = 2), "runs=2", "at least 3");
    assertMessage(() -> settings(m, s -> s.step = -1), "step=-1");
    assertMessage(() -> f.deletion(x, new float[10], 0), "attribution map has 10 pixels", "192");
    assertMessage(() -> f.deletion(new float[5], randomMap(1), 0), "image has 5 values");
    assertMessage(() -> f.insertion(x, randomMap(1), 2), "target=2", "2 classes");
    float[] nan = randomMap(2);
    nan[W + 3] = Float.NaN;
    assertMessage(() -> f.monotonicity(x, nan, 0), "non-finite", "x=3, y=1");
  }

  @Test
  void aConstantMapHasAnUndefinedCorrelationWithAReason() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 2, 101);
    FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings();
    s.baseline = Baseline.ZERO;
    s.subsetSize = H * W; // every subset is the whole image: every sum and drop is equal
    MetricResult r = new FaithfulnessMetrics(m, s, null).faithfulnessCorrelation(image(1, 102), randomMap(3), 0, 1);
    assertTrue(Double.isNaN(r.value));
    assertTrue(r.note.contains("undefined"), r.note);
  }

  @Test
  void descendingOrderBreaksTiesByIndexAndHandlesSigns() {
    float[] v = {0.5f, -0f, 2f, -3f, 0.5f, 0f, Float.MAX_VALUE, -Float.MAX_VALUE, 1e-30f, -1e-30f};
    assertArrayEquals(new int[] {6, 2, 0, 4, 8, 1, 5, 9, 3, 7}, FaithfulnessMetrics.descendingOrder(v));
  }

  interface SettingsChange {
    void apply(FaithfulnessMetrics.Settings s);
  }

  static FaithfulnessMetrics settings(LinearClassifier m, SettingsChange change) {
    FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings();
    change.apply(s);
    return new FaithfulnessMetrics(m, s, null);
  }

  static void assertMessage(org.junit.jupiter.api.function.Executable e, String... parts) {
    UserException ex = assertThrows(UserException.class, e);
    for (String p : parts) assertTrue(ex.getMessage().contains(p), "'" + p + "' missing in: " + ex.getMessage());
  }
}
