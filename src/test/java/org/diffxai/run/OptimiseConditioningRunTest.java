package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffxai.core.CancelledException;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.guidance.ConditioningOptimizer;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.model.TestBundles;
import org.diffxai.model.TorchFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Optimise Conditioning on the committed sample denoiser and the sample prototype network (both real, TensorFlow). */
class OptimiseConditioningRunTest {

  private static OptimiseConditioningRun.Request request(double lambda) {
    OptimiseConditioningRun.Request r = new OptimiseConditioningRun.Request();
    r.model = "sample-ppnet";
    r.target = "lesion";
    r.lambda = lambda;
    r.learning_rate = 0.05;
    r.iterations = 3;
    r.steps = 4;
    r.samples = 2;
    r.seed = 1;
    r.device = "cpu";
    return r;
  }

  private static LoadedModel<DifferentiableClassifier> ppnet() {
    return Models.differentiableClassifier("sample-ppnet", DeviceChoice.parse("cpu"), 2, false, Progress.NONE);
  }

  /**
   * The objective rises from the learned embedding; the record is consistent (objective = log p − λ·d², p = exp of the
   * mean log p for one image…); a strong closeness term keeps the embedding nearer than none; the files are written.
   */
  @Test
  void objectiveRisesAndTheClosenessTermHoldsTheEmbeddingBack(@TempDir Path tmp) {
    DenoiserBundle b = DenoiserBundle.open("sample");
    OptimiseConditioningRun.Request free = request(0);
    free.output = tmp.resolve("out").toString();
    OptimiseConditioningRun.Result res;
    OptimiseConditioningRun.Result held;
    try (LoadedModel<DifferentiableClassifier> c = ppnet()) {
      res = OptimiseConditioningRun.run(free, b, c, Env.files(Progress.NONE));
      held = OptimiseConditioningRun.run(request(100), b, c, Env.files(Progress.NONE));
    }
    ConditioningOptimizer.Result o = res.optimisation;
    assertEquals(4, o.steps.size());
    for (ConditioningOptimizer.Step s : o.steps) {
      System.out.printf(java.util.Locale.ROOT, "[optcond] lambda 0   it %d  J %.4f  p %.4f  d %.4f  %.2f s%n",
          s.iteration, s.objective, s.probability, s.distance, s.seconds);
    }
    for (ConditioningOptimizer.Step s : held.optimisation.steps) {
      System.out.printf(java.util.Locale.ROOT, "[optcond] lambda 100 it %d  J %.4f  p %.4f  d %.4f  pen %.4f%n",
          s.iteration, s.objective, s.probability, s.distance, s.penalty);
    }
    assertEquals(0, o.first().distance);
    assertTrue(o.last().objective > o.first().objective, "the objective rises: " + o.first().objective + " -> "
        + o.last().objective);
    assertTrue(o.last().probability > o.first().probability, "p(lesion) rises");
    assertTrue(o.last().distance > 0);
    assertTrue(o.best > 0 && o.bestStep().objective >= o.last().objective, "the best iteration is kept: " + o.best);
    assertEquals(o.bestStep().distance, ConditioningOptimizer.distance(o.optimised, o.learned), 1e-5);
    assertEquals(o.last().distance / o.classDistance, res.table.getValue("relative_distance", 3), 1e-9);
    // the first step is the same for every lambda (the penalty's gradient is 0 at e0); then lambda=100 pulls back
    assertEquals(o.steps.get(1).distance, held.optimisation.steps.get(1).distance, 1e-6);
    ConditioningOptimizer.Step h = held.optimisation.last();
    assertTrue(h.distance < o.last().distance, "lambda=100 moves less: " + h.distance + " vs " + o.last().distance);
    assertEquals(h.logProbability - 100 * h.distance * h.distance, h.objective, 1e-9);
    assertEquals(o.first().objective, held.optimisation.first().objective, 1e-9); // same seeds, same start
    for (String f : new String[] {OptimiseConditioningRun.SAMPLES_FILE, OptimiseConditioningRun.TABLE_FILE,
        OptimiseConditioningRun.PER_IMAGE_FILE, OptimiseConditioningRun.EMBEDDINGS_FILE,
        OptimiseConditioningRun.PLOT_FILE, OptimiseConditioningRun.PROVENANCE_FILE}) {
      assertTrue(Files.isRegularFile(tmp.resolve("out").resolve(f)), f);
    }
    assertEquals(4, res.pairs.floats().planeCount());
  }

  @Test
  void badInputGetsOneMessage(@TempDir Path tmp) {
    DenoiserBundle b = DenoiserBundle.open("sample");
    try (LoadedModel<DifferentiableClassifier> c = ppnet()) {
      OptimiseConditioningRun.Request r = request(0.01);
      r.target = "tumour";
      UserException e = assertThrows(UserException.class, () -> OptimiseConditioningRun.run(r, b, c,
          Env.files(Progress.NONE)));
      assertTrue(e.getMessage().contains("tumour"), e.getMessage());
      OptimiseConditioningRun.Request l = request(0.01);
      l.label = "7";
      e = assertThrows(UserException.class, () -> OptimiseConditioningRun.run(l, b, c, Env.files(Progress.NONE)));
      assertTrue(e.getMessage().contains("label"), e.getMessage());
      OptimiseConditioningRun.Request ext = request(0.01);
      DenoiserBundle external = DenoiserBundle.open(TestBundles.spec().size(64, 64).classes("healthy", "lesion")
          .write(tmp.resolve("external")));
      e = assertThrows(UserException.class, () -> OptimiseConditioningRun.run(ext, external, c,
          Env.files(Progress.NONE)));
      assertTrue(e.getMessage().contains("Train Denoiser"), e.getMessage());
      OptimiseConditioningRun.Request cancel = request(0.01);
      cancel.output = tmp.resolve("cancelled").toString();
      Progress cancelled = new Progress() {
        int reports;

        @Override
        public void report(String message, double fraction) {
          if (message.startsWith("Optimise conditioning")) reports++;
        }

        @Override
        public boolean isCancelled() {
          return reports >= 2;
        }
      };
      assertThrows(CancelledException.class, () -> OptimiseConditioningRun.run(cancel, b, c, Env.files(cancelled)));
      assertFalse(Files.exists(tmp.resolve("cancelled")), "a cancelled run leaves no folder");
    }
    OptimiseConditioningRun.Request noGrad = request(0.01);
    noGrad.model = TorchFixtures.classifier().resolve("onnx").toString(); // ONNX Runtime gives no gradients
    UserException e = assertThrows(UserException.class, () -> OptimiseConditioningRun.run(noGrad,
        Env.files(Progress.NONE)));
    assertTrue(e.getMessage().contains("cannot give gradients"), e.getMessage());
    OptimiseConditioningRun.Request bad = request(0.01);
    bad.iterations = 0;
    assertThrows(UserException.class, () -> OptimiseConditioningRun.run(bad, Env.files(Progress.NONE)));
  }
}
