package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.diffxai.core.Classifier;
import org.diffxai.core.Confidence;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.guidance.GuidedSampler;
import org.diffxai.guidance.RegionLogistic;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TestClassifiers;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.model.TorchFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Counterfactual end to end on the sample denoiser (TensorFlow) and the Java logistic classifier. */
class CounterfactualRunTest {

  static FloatStack phantoms() {
    PhantomGenerator g = new PhantomGenerator(64);
    float[][] planes = {g.generate(900, 0, false).pixels, g.generate(900, 1, false).pixels,
        g.generate(900, 0, true).pixels};
    return new FloatStack(64, 64, 1, 3, 1, planes, new String[] {"h0", "h1", "l0"});
  }

  @Test
  void writesCounterfactualsDifferencesAndTablesThatAgree(@TempDir Path tmp) throws Exception {
    FloatStack in = phantoms();
    CounterfactualRun.Request r = new CounterfactualRun.Request();
    r.image = "phantoms";
    r.model = "region-logistic";
    r.steps = 20;
    r.depth = 0.4;
    r.output = tmp.resolve("out").toString();
    Env env = ExplainPrototypesRunTest.env(in, Progress.NONE);
    RegionLogistic c = RegionLogistic.trained();
    CounterfactualRun.Result res;
    try (LoadedModel<Denoiser> d = Models.denoiser("sample", DeviceChoice.parse("cpu"), null, false, Progress.NONE)) {
      LoadedModel<DifferentiableClassifier> m = LoadedModel.<DifferentiableClassifier>of(c, "region-logistic",
          Map.of("model", "region-logistic")).withClassNames(c.classNames());
      res = CounterfactualRun.run(r, d, m, env);
    }
    assertEquals(3, res.table.size());
    for (int i = 0; i < 3; i++) {
      GuidedSampler.Trace t = res.traces.get(i);
      double[] p0 = Confidence.softmax(c.logits(in.plane(i), 1)[0], 1);
      int target = p0[1] > p0[0] ? 0 : 1; // the other class of the prediction
      assertEquals(c.classNames().get(target), res.table.getString("target", i));
      assertEquals(t.flipStep >= 0 ? 1 : 0, (int) res.table.getValue("flipped", i));
      assertTrue(t.stepsUsed() >= 1 && t.stepsUsed() <= 8, "steps " + t.stepsUsed());
      if (t.flipStep >= 0) {
        assertTrue(Confidence.softmax(c.logits(t.image, 1)[0], 1)[target] >= 0.5);
      }
      double l1 = 0;
      for (int j = 0; j < t.image.length; j++) l1 += Math.abs(t.image[j] - in.plane(i)[j]);
      assertEquals(l1 / t.image.length, res.table.getValue("l1", i), 1e-6);
    }
    for (String f : new String[] {CounterfactualRun.IMAGES_FILE, CounterfactualRun.DIFFERENCE_FILE,
        CounterfactualRun.TABLE_FILE, CounterfactualRun.STEPS_FILE, CounterfactualRun.PROVENANCE_FILE}) {
      assertTrue(Files.isRegularFile(tmp.resolve("out").resolve(f)), f);
    }
    FloatStack diff = ImageReaders.readFloatStack(tmp.resolve("out").resolve(CounterfactualRun.DIFFERENCE_FILE));
    assertEquals(3, diff.planeCount());
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 64 * 64; j += 97) {
        assertEquals(res.traces.get(i).image[j] - in.plane(i)[j], diff.plane(i)[j], 1e-6f);
      }
    }
  }

  /**
   * A check model (another sample network; it did not guide) scores every counterfactual: its probability of the target
   * and whether it calls the counterfactual the target, recomputed here from the returned images.
   */
  @Test
  void aCheckModelThatDidNotGuideScoresEveryCounterfactual(@TempDir Path tmp) {
    CounterfactualRun.Request r = new CounterfactualRun.Request();
    r.image = "phantoms";
    r.model = "sample-ppnet";
    r.check = "sample-eppnet";
    r.steps = 20;
    r.depth = 0.4;
    r.device = "cpu";
    CounterfactualRun.Result res = CounterfactualRun.run(r, ExplainPrototypesRunTest.env(phantoms(), Progress.NONE));
    String col = "check_p_target_counterfactual_calibrated";
    assertTrue(res.table.columns().contains(col), res.table.columns().toString());
    try (LoadedModel<Classifier> check = Models.classifier("sample-eppnet", DeviceChoice.parse("cpu"), 8, false,
        Progress.NONE)) {
      for (int i = 0; i < 3; i++) {
        double[] q = check.get().probabilities(res.traces.get(i).image, 1)[0];
        int target = check.classNames().indexOf(res.table.getString("target", i));
        assertEquals(q[target], res.table.getValue(col, i), 1e-9);
        assertEquals(GuidedSampler.argmax(q) == target ? 1 : 0, (int) res.table.getValue("check_flipped", i));
      }
    }
    assertTrue(res.provenance.get("check.model.name").contains("eppnet"), res.provenance.toString());

    // a check model with other classes, or of another image size, gets one message before anything runs
    Path other = TestClassifiers.writeLinear(tmp.resolve("abc"), new float[2][64 * 64], 64, 64);
    TestClassifiers.writeModelJson(other, List.of("a", "b"), 64, 64, 0.5, 0.5, null);
    r.check = other.toString();
    UserException e = assertThrows(UserException.class, () -> CounterfactualRun.run(r,
        ExplainPrototypesRunTest.env(phantoms(), Progress.NONE)));
    assertTrue(e.getMessage().contains("check model") && e.getMessage().contains("same classes"), e.getMessage());
    Path small = TestClassifiers.writeLinear(tmp.resolve("small"), new float[2][32 * 32], 32, 32);
    TestClassifiers.writeModelJson(small, List.of("healthy", "lesion"), 32, 32, 0.5, 0.5, null);
    r.check = small.toString();
    e = assertThrows(UserException.class, () -> CounterfactualRun.run(r, ExplainPrototypesRunTest.env(phantoms(),
        Progress.NONE)));
    assertTrue(e.getMessage().contains("32x32x1") && e.getMessage().contains("image size"), e.getMessage());
  }

  @Test
  void aModelWithoutGradientsOrNoModelGetsOneMessage() {
    CounterfactualRun.Request r = new CounterfactualRun.Request();
    r.image = "phantoms";
    r.device = "cpu";
    Env env = ExplainPrototypesRunTest.env(phantoms(), Progress.NONE);
    UserException e = assertThrows(UserException.class, () -> CounterfactualRun.run(r, env));
    assertTrue(e.getMessage().contains("model="), e.getMessage());
    r.model = TorchFixtures.classifier().resolve("onnx").toString(); // ONNX Runtime gives no gradients
    e = assertThrows(UserException.class, () -> CounterfactualRun.run(r, env));
    assertTrue(e.getMessage().contains("cannot give gradients"), e.getMessage());
  }
}
