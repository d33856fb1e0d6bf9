package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Gradient;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.LayerGradient;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.Randomization;
import org.diffxai.core.UserException;
import org.diffxai.metrics.ModelRandomization;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.tf.proto.RandomizedPrototypeNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Operand;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;

/**
 * Gradients through real TensorFlow SavedModels loaded by {@link ClassifierModels}: linear models whose gradient is
 * known exactly (with an intensity mapping and an input clip), graphs TensorFlow cannot differentiate, function calls,
 * the bundled sample prototype networks against central finite differences, and the model-randomisation control.
 */
class ClassifierGradientsTest {
  static final int S = 6;
  @TempDir
  Path tmp;

  static float[][] weights(long seed) {
    return new float[][] {TestBundles.values(S * S, seed), TestBundles.values(S * S, seed + 1)};
  }

  @Test
  void linearModelGradientIsItsWeightsInImageUnits() {
    float[][] w = weights(3);
    Path dir = TestClassifiers.writeModelJson(TestClassifiers.writeLinear(tmp.resolve("lin"), w, S, S),
        List.of("a", "b"), S, S, 2.0, 0.5, null);
    int n = 5;
    float[] x = TestBundles.values(n * S * S, 9);
    int[] cls = {0, 1, 1, 0, 1};
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(dir), "cpu")) {
      c.batchSize(2);
      float[][] logits = c.logits(x, n);
      Gradient g = c.gradient(x, n, new Objective(Kind.LOGIT, cls));
      Gradient lp = c.gradient(x, n, new Objective(Kind.LOG_PROBABILITY, cls));
      for (int i = 0; i < n; i++) {
        assertEquals(logits[i][cls[i]], g.values[i], 1e-5);
        double[] p = softmax(logits[i]);
        assertEquals(Math.log(p[cls[i]]), lp.values[i], 1e-5);
        for (int q = 0; q < S * S; q++) {
          // model = (image − 0.5) / 2, so ∂logit/∂image = W / 2; ∂ log p_k = (W_k − Σ_j p_j W_j) / 2
          assertEquals(w[cls[i]][q] / 2, g.gradient[i * S * S + q], 1e-6);
          double mix = p[0] * w[0][q] + p[1] * w[1][q];
          assertEquals((w[cls[i]][q] - mix) / 2, lp.gradient[i * S * S + q], 1e-5);
        }
      }
      c.batchSize(32);
      assertTrue(Arrays.equals(g.gradient, c.gradient(x, n, new Objective(Kind.LOGIT, cls)).gradient),
          "batching changes nothing");
    }
  }

  @Test
  void clippedPixelsHaveNoGradient() {
    float[][] w = weights(4);
    Path dir = TestClassifiers.writeModelJson(TestClassifiers.writeLinear(tmp.resolve("clip"), w, S, S),
        List.of("a", "b"), S, S, 1.0, 0.0, new float[] {-1, 1});
    float[] x = new float[S * S];
    for (int q = 0; q < x.length; q++) x[q] = q % 4 == 0 ? 1.5f : q % 4 == 1 ? -2f : q % 4 == 2 ? 1f : 0.25f;
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(dir), "cpu")) {
      Gradient g = c.gradient(x, 1, Objective.of(Kind.LOGIT, 1, 1));
      for (int q = 0; q < x.length; q++) {
        assertEquals(Math.abs(x[q]) > 1 ? 0f : w[1][q], g.gradient[q], 1e-6, "pixel " + q + " = " + x[q]);
      }
    }
  }

  @Test
  void anOpWithoutGradientGivesOneClearMessage() {
    Path dir = TestClassifiers.write(tmp.resolve("quantised"), S, S, (tf, x) -> Map.of("logits", linear(tf,
        tf.math.round(tf.math.mul(x, tf.constant(8f))), weights(5))));
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(dir), "cpu")) {
      float[] x = TestBundles.values(S * S, 1);
      assertEquals(2, c.logits(x, 1)[0].length, "the model itself runs");
      UserException e = assertThrows(UserException.class, () -> c.gradient(x, 1, Objective.of(Kind.LOGIT, 0, 1)));
      assertTrue(e.getMessage().contains("quantised") && e.getMessage().contains("Round")
          && e.getMessage().contains("occlusion") && e.getMessage().contains("map=upsample"), e.getMessage());
    }
    // Floor's gradient is registered as "none": TensorFlow builds no path at all, which must not become zero maps
    Path floor = TestClassifiers.write(tmp.resolve("floored"), S, S, (tf, x) -> Map.of("logits", linear(tf,
        tf.math.floor(tf.math.mul(x, tf.constant(8f))), weights(5))));
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(floor), "cpu")) {
      UserException e = assertThrows(UserException.class, () -> c.gradient(TestBundles.values(S * S, 1), 1,
          Objective.of(Kind.LOGIT, 0, 1)));
      assertTrue(e.getMessage().contains("floored") && e.getMessage().contains("does not depend on")
          && e.getMessage().contains("occlusion"), e.getMessage());
    }
  }

  @Test
  void functionCallsAreDifferentiatedAndTheirUndifferentiableOpsNamed() {
    float[][] w = weights(6);
    for (boolean round : new boolean[] {false, true}) {
      Path dir = TestClassifiers.write(tmp.resolve(round ? "fn-round" : "fn"), S, S, (tf, x) -> {
        ConcreteFunction fn = ConcreteFunction.create(o -> {
          Placeholder<TFloat32> in = o.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, S, S, 1)));
          Operand<TFloat32> v = round ? o.math.round(in) : in;
          return Signature.builder().input("x", in).output("logits", linear(o, v, w)).build();
        });
        @SuppressWarnings("unchecked")
        Operand<TFloat32> logits = (Operand<TFloat32>) fn.call(tf, x);
        return Map.of("logits", logits);
      });
      try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(dir), "cpu")) {
        float[] x = TestBundles.values(S * S, 2);
        if (round) {
          UserException e = assertThrows(UserException.class, () -> c.gradient(x, 1, Objective.of(Kind.LOGIT, 1,
              1)));
          assertTrue(e.getMessage().contains("Round") && e.getMessage().contains("inside a function")
              && e.getMessage().contains("occlusion"), e.getMessage());
        } else {
          Gradient g = c.gradient(x, 1, Objective.of(Kind.LOGIT, 1, 1));
          for (int q = 0; q < S * S; q++) assertEquals(w[1][q], g.gradient[q], 1e-6);
        }
      }
    }
  }

  @Test
  void plainClassifiersHaveNoPrototypeScoresAndNoFeatureLayerUnlessExported() {
    Path plain = TestClassifiers.writeLinear(tmp.resolve("plain"), weights(7), S, S);
    float[] x = TestBundles.values(S * S, 3);
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(plain), "cpu")) {
      UserException e = assertThrows(UserException.class, () -> c.gradient(x, 1, Objective.of(
          Kind.PROTOTYPE_SCORE, 0, 1)));
      assertTrue(e.getMessage().contains("not a prototype network"), e.getMessage());
      e = assertThrows(UserException.class, () -> c.featureGradient(x, 1, Objective.of(Kind.LOGIT, 0, 1)));
      assertTrue(e.getMessage().contains("No feature layer") && e.getMessage().contains("'features' signature")
          && e.getMessage().contains("occlusion"), e.getMessage());
      e = assertThrows(UserException.class, () -> c.gradient(x, 1, Objective.of(Kind.LOGIT, 2, 1)));
      assertTrue(e.getMessage().contains("has no class 2"), e.getMessage());
    }
    // features = 3·x, logits = Σ features · v: ∂logit/∂features = v, activations = 3·x
    float[][] v = weights(8);
    Path feats = TestClassifiers.write(tmp.resolve("feats"), S, S, (tf, in) -> {
      Operand<TFloat32> f = tf.math.mul(in, tf.constant(3f));
      return Map.of("features", f, "logits", linear(tf, f, v));
    });
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(feats), "cpu")) {
      LayerGradient g = c.featureGradient(x, 1, Objective.of(Kind.LOGIT, 1, 1));
      assertEquals(S, g.height);
      assertEquals(1, g.depth);
      assertEquals(c.logits(x, 1)[0][1], g.values[0], 1e-5);
      for (int q = 0; q < S * S; q++) {
        assertEquals(3 * x[q], g.activations[q], 1e-6);
        assertEquals(v[1][q], g.gradient[q], 1e-6);
      }
    }
  }

  /**
   * The directional derivative along the gradient's own direction d = g/|g| equals |g| when g is right; central
   * differences (f(x + hd) − f(x − hd)) / 2h see it above float32 round-off (on a random direction the signal is
   * √(H·W) = 64 times smaller and drowns in it). ReLU kinks bend f at large h and round-off grows at small h, so the
   * best of h = 0.04 … 0.00125 image units must agree within 3 %.
   */
  @Test
  void samplePrototypeNetworkGradientsMatchCentralFiniteDifferences() {
    float[] x = new PhantomGenerator(64).generate(4242, 0, true).pixels;
    for (String key : List.of("sample-ppnet", "sample-eppnet", "sample-protopool")) {
      try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open(key), "cpu")) {
        checkFiniteDifferences(c, key, x);
        LayerGradient lg = c.featureGradient(x, 1, Objective.of(Kind.LOGIT, 1, 1));
        assertEquals(c.mapHeight() * c.mapWidth() * c.featureDepth(), lg.activations.length);
        float[] f = c.features(x, 1)[0];
        for (int q = 0; q < f.length; q++) assertEquals(f[q], lg.activations[q], 1e-5);
      }
    }
  }

  static void checkFiniteDifferences(PrototypeClassifier pc, String key, float[] x) {
    DifferentiableClassifier c = (DifferentiableClassifier) pc;
    float[] logits = pc.logits(x, 1)[0];
    int predicted = logits[1] > logits[0] ? 1 : 0;
    for (Kind k : Kind.values()) {
      Objective o = Objective.of(k, k == Kind.PROTOTYPE_SCORE ? 0 : predicted, 1);
      Gradient g = c.gradient(x, 1, o);
      assertEquals(value(pc, x, o), g.values[0], 1e-4, key + " " + k + " value");
      double norm = 0;
      for (float v : g.gradient) norm += (double) v * v;
      norm = Math.sqrt(norm);
      double best = Double.POSITIVE_INFINITY;
      StringBuilder seen = new StringBuilder();
      for (double h : new double[] {0.04, 0.02, 0.01, 0.005, 0.0025, 0.00125}) {
        float[] plus = x.clone(), minus = x.clone();
        for (int q = 0; q < x.length; q++) {
          plus[q] += (float) (h * g.gradient[q] / norm);
          minus[q] -= (float) (h * g.gradient[q] / norm);
        }
        double fd = (value(pc, plus, o) - value(pc, minus, o)) / (2 * h);
        best = Math.min(best, Math.abs(fd - norm) / norm);
        seen.append(String.format(java.util.Locale.ROOT, " h=%g: %.6g", h, fd));
      }
      assertTrue(best < 0.03, key + " " + k + ": |g| = " + norm + ", central differences" + seen);
    }
  }

  static double value(PrototypeClassifier c, float[] x, Objective o) {
    if (o.kind == Kind.PROTOTYPE_SCORE) return c.activations(x, 1).scores[0][o.index[0]];
    float[] l = c.logits(x, 1)[0];
    return o.kind == Kind.LOGIT ? l[o.index[0]] : Math.log(softmax(l)[o.index[0]]);
  }

  @Test
  void randomisingTheWeightsChangesTheGradientMaps() {
    ClassifierBundle b = ClassifierBundle.open("sample-ppnet");
    PhantomGenerator gen = new PhantomGenerator(64);
    int n = 4;
    float[] x = new float[n * 64 * 64];
    for (int i = 0; i < n; i++) System.arraycopy(gen.generate(4242, i, i % 2 == 1).pixels, 0, x, i * 4096, 4096);
    Objective o = new Objective(Kind.LOGIT, new int[] {0, 1, 0, 1});
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(b, "cpu");
        RandomizedPrototypeNetwork r = RandomizedPrototypeNetwork.of(b, Randomization.FULL, 1, false)) {
      Gradient real = c.gradient(x, n, o);
      Gradient rand = r.gradient(x, n, o);
      checkFiniteDifferences(r, "randomised sample-ppnet", Arrays.copyOf(x, 4096));
      for (int i = 0; i < n; i++) {
        float[] a = abs(Arrays.copyOfRange(real.gradient, i * 4096, (i + 1) * 4096));
        float[] bb = abs(Arrays.copyOfRange(rand.gradient, i * 4096, (i + 1) * 4096));
        double rho = ModelRandomization.spearman(a, bb);
        assertTrue(Math.abs(rho) < 0.5, "image " + i + ": saliency of the trained and the randomised network have"
            + " Spearman " + rho);
      }
    }
  }

  static float[] abs(float[] v) {
    for (int i = 0; i < v.length; i++) v[i] = Math.abs(v[i]);
    return v;
  }

  /** logits = reshape(v, [N, S·S]) · Wᵀ. */
  static Operand<TFloat32> linear(Ops tf, Operand<TFloat32> v, float[][] w) {
    float[] flat = new float[2 * S * S];
    System.arraycopy(w[0], 0, flat, 0, S * S);
    System.arraycopy(w[1], 0, flat, S * S, S * S);
    Operand<TFloat32> wt = tf.constant(Shape.of(2, S * S), DataBuffers.of(flat, true, false));
    return tf.linalg.matMul(tf.reshape(v, tf.constant(new int[] {-1, S * S})), wt, MatMul.transposeB(true));
  }

  static double[] softmax(float[] l) {
    double m = Math.max(l[0], l[1]);
    double a = Math.exp(l[0] - m), b = Math.exp(l[1] - m);
    return new double[] {a / (a + b), b / (a + b)};
  }
}
