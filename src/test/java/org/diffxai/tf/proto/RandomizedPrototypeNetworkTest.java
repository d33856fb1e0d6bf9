package org.diffxai.tf.proto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.diffxai.metrics.ModelRandomization;
import org.diffxai.core.Randomization;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.tf.TinyPrototypeBundles;
import org.diffxai.tf.TrainingData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The randomised network is the trained bundle's architecture: with every parameter read back from the bundle it
 * computes what the bundle computes through DJL; re-initialised, it keeps the prototype contract and is seeded.
 */
class RandomizedPrototypeNetworkTest {
  @TempDir Path tmp;

  static final List<String> ALL = List.of("backbone.", "add_on.", "prototypes", "last_layer");

  @Test
  void ppnet() {
    check("PPNet");
  }

  @Test
  void eppnet() {
    check("EPPNet");
  }

  @Test
  void protoPool() {
    check("ProtoPool");
  }

  private void check(String method) {
    ClassifierBundle b = ClassifierBundle.open(TinyPrototypeBundles.train(tmp, method));
    int n = 5;
    float[] x = TinyPrototypeBundles.images(n);
    try (DjlPrototypeClassifier real = ClassifierModels.loadPrototypes(b, "cpu");
        RandomizedPrototypeNetwork rebuilt = RandomizedPrototypeNetwork.withTrained(b, ALL, 1, false);
        RandomizedPrototypeNetwork top = RandomizedPrototypeNetwork.of(b, Randomization.TOP, 1);
        RandomizedPrototypeNetwork top2 = RandomizedPrototypeNetwork.of(b, Randomization.TOP, 1);
        RandomizedPrototypeNetwork full = RandomizedPrototypeNetwork.of(b, Randomization.FULL, 1);
        RandomizedPrototypeNetwork full2 = RandomizedPrototypeNetwork.of(b, Randomization.FULL, 2)) {
      // Rebuilt from prototypes.json with the trained weights: the bundle's own numbers.
      PrototypeActivations want = real.activations(x, n);
      PrototypeActivations got = rebuilt.activations(x, n);
      for (int i = 0; i < n; i++) {
        assertArrayEquals(want.logits[i], got.logits[i], 1e-4f, method + " logits");
        assertArrayEquals(want.similarity[i], got.similarity[i], 1e-3f, method + " similarity");
      }
      for (int k = 0; k < real.lastLayer().length; k++) assertArrayEquals(real.lastLayer()[k], rebuilt.lastLayer()[k]);
      assertEquals(real.mapHeight(), full.mapHeight());
      assertEquals(real.prototypes(), full.prototypes());
      assertEquals(real.classNames(), full.classNames());

      for (RandomizedPrototypeNetwork r : List.of(top, full)) {
        PrototypeActivations a = r.activations(x, n);
        float[][] w = r.lastLayer();
        for (int i = 0; i < n; i++) {
          for (int k = 0; k < w.length; k++) {
            double s = 0;
            for (int p = 0; p < r.prototypes(); p++) s += w[k][p] * a.scores[i][p];
            assertEquals(s, a.logits[i][k], 1e-3 * (1 + Math.abs(s)), "logits = last layer x scores");
          }
          assertFalse(Arrays.equals(want.similarity[i], a.similarity[i]), "re-initialised maps differ");
        }
        // The last layer is the trainer's initial one: 1 to the prototype's class, -0.5 to the others.
        for (int p = 0; p < r.prototypes(); p++) {
          int c = r.prototype(p).classIndex;
          for (int k = 0; k < w.length; k++) {
            if (method.equals("ProtoPool")) assertTrue(w[k][p] % 0.5f == 0, "folded slot weights");
            else assertEquals(k == c ? 1f : -0.5f, w[k][p]);
          }
        }
        assertEquals("", r.prototype(0).sourceImage);
      }
      // Seeded: same seed, same numbers; another seed, other numbers. TOP and FULL share the head's initial values.
      assertArrayEquals(top.activations(x, n).logits[0], top2.activations(x, n).logits[0]);
      assertArrayEquals(top.prototypeVectors()[0], full.prototypeVectors()[0]);
      assertFalse(Arrays.equals(full.prototypeVectors()[0], full2.prototypeVectors()[0]));
      float[] one = Arrays.copyOf(x, x.length / n);
      assertFalse(Arrays.equals(top.features(one, 1)[0], full.features(one, 1)[0]), "TOP keeps the trained backbone");
    }
  }

  /**
   * The sanity check's own control: the same network's maps compared with themselves give similarity 1, the network
   * rebuilt with all its trained weights gives ~1, and the re-initialised networks clearly less.
   */
  @Test
  void mapSimilarityIsOneForTheSameNetworkAndClearlyLessForRandomisedOnes() {
    ClassifierBundle b = ClassifierBundle.open(TinyPrototypeBundles.train(tmp, "EPPNet"));
    int n = 6;
    float[] x = TinyPrototypeBundles.images(n);
    float[][] planes = new float[n][];
    for (int i = 0; i < n; i++) planes[i] = Arrays.copyOfRange(x, i * 1024, (i + 1) * 1024);
    FloatStack stack = new FloatStack(32, 32, 1, n, 1, planes, null);
    try (DjlPrototypeClassifier real = ClassifierModels.loadPrototypes(b, "cpu");
        DjlPrototypeClassifier again = ClassifierModels.loadPrototypes(b, "cpu");
        RandomizedPrototypeNetwork rebuilt = RandomizedPrototypeNetwork.withTrained(b, ALL, 3, false);
        RandomizedPrototypeNetwork top = RandomizedPrototypeNetwork.of(b, Randomization.TOP, 3);
        RandomizedPrototypeNetwork full = RandomizedPrototypeNetwork.of(b, Randomization.FULL, 3)) {
      int[] targets = new int[n];
      for (int i = 0; i < n; i++) targets[i] = i % 2;
      float[][] a = ModelRandomization.maps(real, "real", stack, targets, Progress.NONE);
      float[][] same = ModelRandomization.maps(again, "again", stack, targets, Progress.NONE);
      float[][] re = ModelRandomization.maps(rebuilt, "rebuilt", stack, targets, Progress.NONE);
      float[][] t = ModelRandomization.maps(top, "top", stack, targets, Progress.NONE);
      float[][] f = ModelRandomization.maps(full, "full", stack, targets, Progress.NONE);
      double meanTop = 0, meanFull = 0;
      for (int i = 0; i < n; i++) {
        assertEquals(1.0, ModelRandomization.spearman(a[i], same[i]), 1e-12);
        assertEquals(1.0, ModelRandomization.ssim(a[i], same[i], 32, 32), 1e-12);
        assertTrue(ModelRandomization.spearman(a[i], re[i]) > 0.999, "rebuilt with trained weights");
        assertTrue(ModelRandomization.ssim(a[i], re[i], 32, 32) > 0.999, "rebuilt with trained weights");
        meanTop += ModelRandomization.spearman(a[i], t[i]) / n;
        meanFull += ModelRandomization.spearman(a[i], f[i]) / n;
      }
      assertTrue(Math.abs(meanTop) < 0.8 && Math.abs(meanFull) < 0.8, meanTop + " " + meanFull);
    }
  }

  /** FULL is the network Train Prototype Network starts from with the same seed (docs/faithfulness.md says so). */
  @Test
  void fullRandomisationIsTheTrainersStartingNetwork() {
    for (String method : new String[] {"PPNet", "EPPNet", "ProtoPool"}) {
      ClassifierBundle b = ClassifierBundle.open(TinyPrototypeBundles.train(tmp, method));
      ProtoConfig cfg = TinyPrototypeBundles.config(ProtoConfig.Method.parse(method)).size(32, 32).numClasses(2);
      long seed = 9;
      try (RandomizedPrototypeNetwork full = RandomizedPrototypeNetwork.of(b, Randomization.FULL, seed);
          ProtoTrainer trainer = new ProtoTrainer(cfg, TinyPrototypeBundles.options().seed(seed))) {
        Map<String, float[]> w = trainer.weights();
        int p = cfg.prototypes(), d = cfg.featureDepth(), k = 2;
        float[][] vectors = full.prototypeVectors();
        for (int j = 0; j < p; j++) {
          assertArrayEquals(Arrays.copyOfRange(w.get("prototypes"), j * d, (j + 1) * d), vectors[j], method);
        }
        float[][] last = full.lastLayer();
        float[] want = w.get("last_layer");
        if (method.equals("ProtoPool")) { // the trainer folds its argmax slot choices at the first push
          want = new float[k * p];
          float[] q = w.get("slots.logits");
          int slots = k * cfg.slotsPerClass();
          for (int j = 0; j < slots; j++) {
            int m = ProtoTrainer.argmax(q, j * p, p);
            for (int c = 0; c < k; c++) want[c * p + m] += j / cfg.slotsPerClass() == c ? 1f : -0.5f;
          }
        }
        for (int c = 0; c < k; c++) assertArrayEquals(Arrays.copyOfRange(want, c * p, (c + 1) * p), last[c], method);
        if (!method.equals("ProtoPool")) { // the same logits on the same model-space images
          List<float[]> model = new ArrayList<>();
          Random rnd = new Random(2);
          float[] image = new float[3 * 1024];
          for (int i = 0; i < 3; i++) {
            float[] v = new float[1024];
            for (int j = 0; j < v.length; j++) v[j] = rnd.nextFloat() * 1.8f - 0.9f;
            model.add(v);
            System.arraycopy(b.intensity().toImage(v.clone()), 0, image, i * 1024, 1024);
          }
          float[][] expected = trainer.logits(TrainingData.of(32, 32, 1, model));
          float[][] got = full.logits(image, 3);
          for (int i = 0; i < 3; i++) assertArrayEquals(expected[i], got[i], 1e-4f, method + " logits");
        }
      }
    }
  }

  @Test
  void bundlesWithoutTheArchitectureAreUserErrors() throws Exception {
    Path dir = TinyPrototypeBundles.train(tmp, "PPNet");
    Path json = dir.resolve(ClassifierBundle.PROTOTYPES_JSON);
    String text = Files.readString(json).replace("\"hyperparameters\"", "\"hyper\"");
    Files.writeString(json, text);
    Files.delete(dir.resolve(ClassifierBundle.MODEL_JSON)); // no checksums to trip over
    ClassifierBundle b = ClassifierBundle.open(dir);
    UserException e = assertThrows(UserException.class, () -> RandomizedPrototypeNetwork.of(b, Randomization.FULL, 0));
    assertTrue(e.getMessage().contains("randomization=none"), e.getMessage());
  }
}
