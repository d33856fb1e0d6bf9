package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.diffxai.core.Classifier;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.UserException;
import org.diffxai.io.Npy;
import org.junit.jupiter.api.Test;

/**
 * A small CNN written and exported by PyTorch ({@link TorchFixtures#classifier()}) as ONNX and TorchScript classifier
 * bundles: logits equal PyTorch's, TorchScript input gradients equal PyTorch's autograd (through the bundle's intensity
 * mapping), and ONNX models refuse gradients with the gradient-free methods named.
 */
class EngineClassifierTest {
  static final double TOLERANCE = 1e-5;

  private static float[][] rows(float[] flat, int n) {
    float[][] out = new float[n][];
    int k = flat.length / n;
    for (int i = 0; i < n; i++) out[i] = Arrays.copyOfRange(flat, i * k, (i + 1) * k);
    return out;
  }

  @Test
  void logitsEqualPyTorch() {
    Path c = TorchFixtures.classifier();
    float[] images = Npy.read(c.resolve("reference/images.npy")).floats();
    float[][] want = rows(Npy.read(c.resolve("reference/logits.npy")).floats(), 5);
    for (String f : new String[] {"onnx", "torchscript"}) {
      try (Classifier m = Models.classifier(ClassifierBundle.open(c.resolve(f)), "cpu")) {
        assertEquals(Arrays.asList("healthy", "lesion"), m.classNames());
        assertEquals(64, m.height());
        ((EngineClassifier) m).batchSize(2); // batches of 2, 2 and 1: results must not depend on it
        float[][] got = m.logits(images, 5);
        double worst = 0;
        for (int i = 0; i < 5; i++) {
          for (int j = 0; j < 2; j++) worst = Math.max(worst, Math.abs(got[i][j] - want[i][j]));
        }
        System.out.println(f + " classifier logits vs PyTorch: max |diff| = " + worst);
        assertTrue(worst <= TOLERANCE, f + ": " + worst);
      }
    }
  }

  @Test
  void torchScriptGradientsEqualPyTorchAutograd() {
    Path c = TorchFixtures.classifier();
    float[] images = Npy.read(c.resolve("reference/images.npy")).floats();
    int[] target = Npy.read(c.resolve("reference/target.npy")).ints();
    try (DifferentiableClassifier m = Models.differentiableClassifier(ClassifierBundle.open(c.resolve("torchscript")),
        "cpu")) {
      ((EngineClassifier) m).batchSize(3);
      for (String name : new String[] {"logit", "logprob"}) {
        Kind kind = name.equals("logit") ? Kind.LOGIT : Kind.LOG_PROBABILITY;
        DifferentiableClassifier.Gradient g = m.gradient(images, 5, new Objective(kind, target));
        float[] wantG = Npy.read(c.resolve("reference/grad_" + name + ".npy")).floats();
        float[] wantV = Npy.read(c.resolve("reference/value_" + name + ".npy")).floats();
        double gmax = 0;
        double worst = 0;
        for (int i = 0; i < wantG.length; i++) {
          gmax = Math.max(gmax, Math.abs(wantG[i]));
          worst = Math.max(worst, Math.abs(g.gradient[i] - wantG[i]));
        }
        double vworst = 0;
        for (int i = 0; i < 5; i++) vworst = Math.max(vworst, Math.abs(g.values[i] - wantV[i]));
        System.out.println("TorchScript " + name + " gradient vs PyTorch autograd: max |diff| = " + worst
            + " (max |gradient| " + gmax + "), values " + vworst);
        assertTrue(gmax > 1e-4, "a gradient that is all zero proves nothing");
        assertTrue(worst <= TOLERANCE, name + ": " + worst);
        assertTrue(vworst <= TOLERANCE, name + " values: " + vworst);
      }
      UserException e = assertThrows(UserException.class, () -> m.gradient(images, 5,
          Objective.of(Kind.PROTOTYPE_SCORE, 0, 5)));
      assertTrue(e.getMessage().contains("not a prototype network"), e.getMessage());
    }
  }

  @Test
  void onnxClassifiersNameTheGradientFreeMethods() {
    ClassifierBundle b = ClassifierBundle.open(TorchFixtures.classifier().resolve("onnx"));
    try (Classifier m = Models.classifier(b, "cpu")) {
      assertFalse(m instanceof DifferentiableClassifier);
      Map<String, String> p = Models.provenance(m);
      assertEquals("onnx", p.get("model.format"));
      assertEquals("DJL OnnxRuntime", p.get("engine"));
    }
    UserException e = assertThrows(UserException.class, () -> Models.differentiableClassifier(b, "cpu"));
    assertEquals("Model small-cnn cannot give gradients: it is an ONNX model, and ONNX Runtime computes no gradients. "
        + "Use a gradient-free method with it: occlusion, or the perturbation metrics (Faithfulness Score). For gradient "
        + "methods export the same network as TorchScript (model.pt); see docs/bring-your-model.md.", e.getMessage());
  }

  @Test
  void gradientsRunWithTheOneDnnWorkaroundAndPassTheProbe() {
    assertTrue(EngineRuntime.withoutOneDnn(EngineRuntime::probeGradient));
  }
}
