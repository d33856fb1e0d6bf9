package org.diffxai.attribution;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.diffxai.core.Classifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.Progress;
import org.diffxai.core.ReferenceImage;
import org.diffxai.core.UserException;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlClassifier;
import org.diffxai.model.TestBundles;
import org.diffxai.model.TestClassifiers;
import org.diffxai.phantom.PhantomGenerator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Sum;
import org.tensorflow.types.TFloat32;

/**
 * The attribution methods on real TensorFlow SavedModels: a linear classifier (whose attributions are known exactly),
 * a classifier whose output depends only on a known region, and a bundled sample prototype network.
 */
class AttributionsTest {
  static final int S = 12;
  /** The linear model's intensity mapping: model = (image − OFFSET) / SCALE. */
  static final double SCALE = 2;
  static final double OFFSET = 0.5;
  /** The region the region model reads: rows and columns [R0, R1). */
  static final int R0 = 3;
  static final int R1 = 7;

  @TempDir
  static Path tmp;
  static float[][] w;
  static Path linear;
  static Path region;

  @BeforeAll
  static void models() {
    w = new float[][] {TestBundles.values(S * S, 11), TestBundles.values(S * S, 12)};
    linear = TestClassifiers.writeModelJson(TestClassifiers.writeLinear(tmp.resolve("linear"), w, S, S),
        List.of("a", "b"), S, S, SCALE, OFFSET, null);
    region = TestClassifiers.write(tmp.resolve("region"), S, S, AttributionsTest::regionModel);
  }

  /**
   * features = [σ(4x − 2)·mask, σ(4x − 2)·(1 − mask)] with mask = 1 inside the region; logit 1 = Σ feature 0 · v with
   * v &gt; 0, logit 0 = −logit 1. Nothing outside the region reaches the logits.
   */
  static Map<String, Operand<TFloat32>> regionModel(Ops tf, Operand<TFloat32> x) {
    float[] mask = new float[S * S], v = new float[S * S];
    float[] r = TestBundles.values(S * S, 13);
    for (int q = 0; q < S * S; q++) {
      int y = q / S, xx = q % S;
      mask[q] = y >= R0 && y < R1 && xx >= R0 && xx < R1 ? 1 : 0;
      v[q] = 1 + Math.abs(r[q]);
    }
    Operand<TFloat32> m = tf.constant(Shape.of(1, S, S, 1), DataBuffers.of(mask, true, false));
    Operand<TFloat32> s = tf.math.sigmoid(tf.math.sub(tf.math.mul(x, tf.constant(4f)), tf.constant(2f)));
    Operand<TFloat32> in = tf.math.mul(s, m);
    Operand<TFloat32> out = tf.math.mul(s, tf.math.sub(tf.constant(1f), m));
    Operand<TFloat32> features = tf.concat(List.of(in, out), tf.constant(3));
    Operand<TFloat32> first = tf.slice(features, tf.constant(new int[] {0, 0, 0, 0}), tf.constant(new int[] {-1, -1,
        -1, 1}));
    Operand<TFloat32> l1 = tf.sum(tf.math.mul(first, tf.constant(Shape.of(1, S, S, 1), DataBuffers.of(v, true,
        false))), tf.constant(new int[] {1, 2, 3}), Sum.keepDims(false));
    Operand<TFloat32> logits = tf.stack(List.of(tf.math.neg(l1), l1), org.tensorflow.op.core.Stack.axis(1L));
    return Map.of("logits", logits, "features", features);
  }

  static float[] images(int n, long seed) {
    float[] x = TestBundles.values(n * S * S, seed);
    for (int i = 0; i < x.length; i++) x[i] = 0.5f + x[i] * 0.5f; // [0, 1)
    return x;
  }

  @Test
  void integratedGradientsOfALinearModelIsExactlyTheDifferenceTimesTheWeights() {
    int n = 3;
    float[] x = images(n, 1);
    int[] cls = {1, 0, 1};
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(linear), "cpu")) {
      float[][] logits = c.logits(x, n);
      for (ReferenceImage b : ReferenceImage.values()) {
        for (IntegratedGradients.Rule rule : IntegratedGradients.Rule.values()) {
          AttributionSettings s = new AttributionSettings();
          s.baseline = b;
          s.rule = rule;
          s.steps = 4;
          AttributionResult r = Attributions.compute(AttributionMethod.INTEGRATED_GRADIENTS, c, "linear", x, n,
              new Objective(Kind.LOGIT, cls), s, Progress.NONE);
          assertEquals(n * 4L, r.evaluations);
          for (int i = 0; i < n; i++) {
            float[] img = Arrays.copyOfRange(x, i * S * S, (i + 1) * S * S);
            float[] ref = b.of(img, S, S, 1);
            double diff = 0;
            for (int q = 0; q < S * S; q++) {
              double expected = (img[q] - ref[q]) * w[cls[i]][q] / SCALE;
              assertEquals(expected, r.maps[i][q], 1e-5, b + " " + rule + " image " + i + " pixel " + q);
              diff += expected;
            }
            String what = b + " " + rule + " image " + i;
            assertEquals(logits[i][cls[i]], r.values[i], 1e-5, what);
            assertEquals(logits[i][cls[i]] - diff, r.numbers.get("baseline_value")[i], 1e-4, what);
            assertEquals(diff, r.numbers.get("attribution_sum")[i], 1e-4, what);
            assertEquals(0, r.numbers.get("completeness_gap")[i], 1e-4, what + ": completeness");
          }
        }
      }
    }
  }

  @Test
  void saliencyIsTheAbsoluteWeightAndGradientTimesInputTheInputTimesTheWeight() {
    int n = 2;
    float[] x = images(n, 2);
    Objective o = new Objective(Kind.LOGIT, new int[] {0, 1});
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(linear), "cpu")) {
      AttributionSettings s = new AttributionSettings();
      AttributionResult sal = Attributions.compute(AttributionMethod.SALIENCY, c, "linear", x, n, o, s, null);
      AttributionResult gxi = Attributions.compute(AttributionMethod.GRADIENT_X_INPUT, c, "linear", x, n, o, s, null);
      AttributionResult sg = Attributions.compute(AttributionMethod.SMOOTHGRAD, c, "linear", x, n, o, s, null);
      for (int i = 0; i < n; i++) {
        for (int q = 0; q < S * S; q++) {
          assertEquals(Math.abs(w[i][q]) / SCALE, sal.maps[i][q], 1e-6);
          assertEquals(x[i * S * S + q] * w[i][q] / SCALE, gxi.maps[i][q], 1e-6);
          // the gradient of a linear model is the same at every noisy copy
          assertEquals(Math.abs(w[i][q]) / SCALE, sg.maps[i][q], 1e-5);
        }
      }
      assertEquals(n * 25L, sg.evaluations);
      float[][] planes = {Arrays.copyOf(x, S * S), Arrays.copyOfRange(x, S * S, 2 * S * S)};
      float[][] byClass = Attributions.classMaps(AttributionMethod.SALIENCY, c, "linear", planes, new int[] {0, 1}, s,
          null);
      for (int i = 0; i < n; i++) assertArrayEquals(sal.maps[i], byClass[i]);
    }
  }

  @Test
  void occlusionOfALinearModelIsTheMeanDropOverTheCoveringPatchesAndNeedsNoGradient() {
    float[] x = images(1, 3);
    AttributionSettings s = new AttributionSettings();
    s.baseline = ReferenceImage.MEAN;
    s.patch = 4;
    s.stride = 3; // positions 0, 3, 6 and the last one moved in to 8
    assertArrayEquals(new int[] {0, 3, 6, 8}, Occlusion.starts(S, 4, 3));
    float[] ref = ReferenceImage.MEAN.of(x, S, S, 1);
    double[] sum = new double[S * S];
    int[] cover = new int[S * S];
    for (int y0 : Occlusion.starts(S, 4, 3)) {
      for (int x0 : Occlusion.starts(S, 4, 3)) {
        double drop = 0;
        for (int y = y0; y < y0 + 4; y++) {
          for (int xx = x0; xx < x0 + 4; xx++) drop += (x[y * S + xx] - ref[y * S + xx]) * w[1][y * S + xx] / SCALE;
        }
        for (int y = y0; y < y0 + 4; y++) {
          for (int xx = x0; xx < x0 + 4; xx++) {
            sum[y * S + xx] += drop;
            cover[y * S + xx]++;
          }
        }
      }
    }
    Classifier c = javaLinear();
    AttributionResult r = Attributions.compute(AttributionMethod.OCCLUSION, c, "linear", x, 1,
        Objective.of(Kind.LOGIT, 1, 1), s, null);
    for (int q = 0; q < S * S; q++) assertEquals(sum[q] / cover[q], r.maps[0][q], 1e-4, "pixel " + q);
    assertEquals(17, r.evaluations);
    UserException e = assertThrows(UserException.class, () -> Attributions.compute(AttributionMethod.SALIENCY, c,
        "linear", x, 1, Objective.of(Kind.LOGIT, 1, 1), s, null));
    assertTrue(e.getMessage().contains("gives no gradients") && e.getMessage().contains("occlusion"),
        e.getMessage());
  }

  @Test
  void mapsOfAModelThatReadsOneRegionStayInsideIt() {
    int n = 2;
    float[] x = images(n, 4);
    Objective o = Objective.of(Kind.LOGIT, 1, n);
    AttributionSettings s = new AttributionSettings();
    s.patch = 3;
    s.stride = 1;
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(region), "cpu")) {
      for (AttributionMethod m : AttributionMethod.values()) {
        for (ReferenceImage b : m == AttributionMethod.INTEGRATED_GRADIENTS ? ReferenceImage.values()
            : new ReferenceImage[] {ReferenceImage.BLUR}) {
          s.baseline = b;
          AttributionResult r = Attributions.compute(m, c, "region", x, n, o, s, null);
          for (int i = 0; i < n; i++) {
            double inside = 0;
            for (int q = 0; q < S * S; q++) {
              int y = q / S, xx = q % S;
              // occlusion patches reach up to patch − 1 pixels beyond what they occlude
              int margin = m == AttributionMethod.OCCLUSION ? s.patch - 1 : 0;
              boolean near = y >= R0 - margin && y < R1 + margin && xx >= R0 - margin && xx < R1 + margin;
              if (!near) assertEquals(0, r.maps[i][q], 1e-7, m + " " + b + " image " + i + " pixel " + q);
              if (y >= R0 && y < R1 && xx >= R0 && xx < R1) inside += Math.abs(r.maps[i][q]);
            }
            assertTrue(inside > 0, m + ": the region itself gets attribution");
          }
        }
      }
    }
  }

  @Test
  void smoothGradIsSeededPerImage() {
    float[] two = new float[2 * 64 * 64];
    PhantomGenerator g = new PhantomGenerator(64);
    System.arraycopy(g.generate(4242, 0, false).pixels, 0, two, 0, 4096);
    System.arraycopy(g.generate(4242, 1, true).pixels, 0, two, 4096, 4096);
    AttributionSettings s = new AttributionSettings();
    s.samples = 4;
    s.seed = 5;
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open("sample-ppnet"), "cpu")) {
      Objective o = Objective.of(Kind.LOGIT, 1, 2);
      float[][] a = Attributions.compute(AttributionMethod.SMOOTHGRAD, c, "ppnet", two, 2, o, s, null).maps;
      float[][] b = Attributions.compute(AttributionMethod.SMOOTHGRAD, c, "ppnet", two, 2, o, s, null).maps;
      float[][] first = Attributions.compute(AttributionMethod.SMOOTHGRAD, c, "ppnet", Arrays.copyOf(two, 4096), 1,
          Objective.of(Kind.LOGIT, 1, 1), s, null).maps;
      s.seed = 6;
      float[][] other = Attributions.compute(AttributionMethod.SMOOTHGRAD, c, "ppnet", two, 2, o, s, null).maps;
      assertArrayEquals(a[0], b[0]);
      assertArrayEquals(a[1], b[1]);
      assertArrayEquals(a[0], first[0], 1e-6f, "image 0's noise does not depend on the other images");
      assertFalse(Arrays.equals(a[0], other[0]), "another seed, other noise");
    }
  }

  @Test
  void gradCamOfAPrototypeNetworkIsTheWeightedFeatureMap() {
    float[] x = new PhantomGenerator(64).generate(4242, 2, true).pixels;
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open("sample-eppnet"), "cpu")) {
      Objective o = Objective.of(Kind.LOGIT, 1, 1);
      AttributionResult r = Attributions.compute(AttributionMethod.GRAD_CAM, c, "eppnet", x, 1, o,
          new AttributionSettings(), null);
      org.diffxai.core.DifferentiableClassifier.LayerGradient g = c.featureGradient(x, 1, o);
      int cells = g.height * g.width;
      double[] alpha = new double[g.depth];
      for (int q = 0; q < cells; q++) for (int k = 0; k < g.depth; k++) alpha[k] += g.gradient[q * g.depth + k] / cells;
      float[] cam = new float[cells];
      for (int q = 0; q < cells; q++) {
        double v = 0;
        for (int k = 0; k < g.depth; k++) v += alpha[k] * g.activations[q * g.depth + k];
        cam[q] = (float) Math.max(0, v);
      }
      float[] up = org.diffxai.core.PrototypeMaps.upsampleBicubic(cam, g.height, g.width, 64, 64);
      for (int q = 0; q < up.length; q++) assertEquals(Math.max(0, up[q]), r.maps[0][q], 1e-5);
      assertEquals(c.logits(x, 1)[0][1], r.values[0], 1e-4);
    }
  }

  /**
   * The linear model in plain Java, W·(x − OFFSET)/SCALE in double: a classifier that gives no gradients, whose
   * occlusion map is known exactly.
   */
  static Classifier javaLinear() {
    return new Classifier() {
      @Override
      public int height() {
        return S;
      }

      @Override
      public int width() {
        return S;
      }

      @Override
      public int channels() {
        return 1;
      }

      @Override
      public List<String> classNames() {
        return List.of("a", "b");
      }

      @Override
      public float[][] logits(float[] x, int n) {
        float[][] out = new float[n][2];
        for (int i = 0; i < n; i++) {
          for (int k = 0; k < 2; k++) {
            double s = 0;
            for (int q = 0; q < S * S; q++) s += w[k][q] * (x[i * S * S + q] - OFFSET) / SCALE;
            out[i][k] = (float) s;
          }
        }
        return out;
      }
    };
  }
}
