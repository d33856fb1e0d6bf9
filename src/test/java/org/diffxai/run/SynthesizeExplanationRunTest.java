package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.diffxai.core.Classifier;
import org.diffxai.core.Confidence;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DiffusionSampler;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.guidance.GuidedSampler;
import org.diffxai.guidance.RegionLogistic;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.model.TorchFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Synthesize Explanation on the sample denoiser (TensorFlow) and the Java logistic classifier. */
class SynthesizeExplanationRunTest {

  @Test
  void unguidedIsTheSamplerAndGuidedPairsShareTheSeeds(@TempDir Path tmp) throws Exception {
    SynthesizeExplanationRun.Request r = new SynthesizeExplanationRun.Request();
    r.model = "region-logistic";
    r.target = "lesion";
    r.samples = 2;
    r.steps = 10;
    r.seed = 4;
    r.batch = 2;
    r.output = tmp.resolve("out").toString();
    RegionLogistic c = RegionLogistic.trained();
    SynthesizeExplanationRun.Result res;
    float[][] plain;
    try (LoadedModel<Denoiser> d = Models.denoiser("sample", DeviceChoice.parse("cpu"), null, false, Progress.NONE);
        LoadedModel<Classifier> check = Models.classifier("sample-eppnet", DeviceChoice.parse("cpu"), 8, false,
            Progress.NONE)) {
      LoadedModel<DifferentiableClassifier> m = LoadedModel.<DifferentiableClassifier>of(c, "region-logistic",
          Map.of("model", "region-logistic")).withClassNames(c.classNames());
      res = SynthesizeExplanationRun.run(r, d, m, check, Env.files(Progress.NONE));
      // the check model (a sample network that did not guide) scores every sample, unguided and guided
      for (int row = 0; row < 4; row++) {
        GuidedSampler.Trace t = (row % 2 == 0 ? res.unguided : res.guided).get(row / 2);
        double[] q = check.get().probabilities(t.image, 1)[0];
        assertEquals(q[1], res.table.getValue("check_p_lesion_calibrated", row), 1e-9);
        assertEquals(q[1] > q[0] ? 1 : 0, (int) res.table.getValue("check_is_target", row));
      }
      plain = new DiffusionSampler(d.get(), DiffusionScheduler.create("ddim", d.scheduler(), 0)).steps(10).samples(2)
          .seed(4).label(1).batchSize(2).run(null, Progress.NONE);
      for (int i = 0; i < 2; i++) {
        assertArrayEquals(d.intensity().toImage(plain[i].clone()), res.unguided.get(i).image, "unguided " + i);
      }
    }
    assertEquals(4, res.table.size());
    assertEquals(20, res.steps.size());
    for (int i = 0; i < 2; i++) {
      double pg = Confidence.softmax(c.logits(res.guided.get(i).image, 1)[0], 1)[1];
      assertEquals(pg, res.table.getValue("p_lesion_uncalibrated", 2 * i + 1), 1e-6);
    }
    for (String f : new String[] {SynthesizeExplanationRun.SAMPLES_FILE, SynthesizeExplanationRun.TABLE_FILE,
        SynthesizeExplanationRun.STEPS_FILE, SynthesizeExplanationRun.PROVENANCE_FILE}) {
      assertTrue(Files.isRegularFile(tmp.resolve("out").resolve(f)), f);
    }
  }

  @Test
  void aModelWithoutGradientsGetsOneMessage() {
    SynthesizeExplanationRun.Request r = new SynthesizeExplanationRun.Request();
    r.model = TorchFixtures.classifier().resolve("onnx").toString(); // ONNX Runtime gives no gradients
    r.device = "cpu";
    UserException e = assertThrows(UserException.class, () -> SynthesizeExplanationRun.run(r,
        Env.files(Progress.NONE)));
    assertTrue(e.getMessage().contains("cannot give gradients"), e.getMessage());
  }
}
