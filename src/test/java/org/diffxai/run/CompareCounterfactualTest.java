package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.UserException;
import org.diffxai.guidance.GuidedSampler;
import org.diffxai.io.FloatStack;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.tf.proto.RandomizedPrototypeNetwork;
import org.junit.jupiter.api.Test;

/**
 * The counterfactual method of Compare Explanation Methods on the real sample denoiser and sample-ppnet (TensorFlow):
 * its maps are the Counterfactual command's |difference| for the same settings, they enter the faithfulness rows, the
 * random-map verdicts and the model-randomisation control like the own map.
 */
class CompareCounterfactualTest {

  @Test
  void counterfactualMapsAreScoredCheckedAndMatchTheCounterfactualCommand() {
    PhantomGenerator g = new PhantomGenerator(64);
    int n = 4;
    float[][] planes = new float[n][];
    boolean[][] masks = new boolean[n][];
    for (int i = 0; i < n; i++) {
      org.diffxai.phantom.Phantom ph = g.generate(321, i, i % 2 == 1);
      planes[i] = ph.pixels;
      masks[i] = ph.lesion ? ph.lesionPixels : null;
    }
    FloatStack stack = new FloatStack(64, 64, 1, n, 1, planes, null);
    CompareMethodsRun.Request r = new CompareMethodsRun.Request();
    r.methods = "own,counterfactual";
    r.metric = "deletion";
    r.randomization = "top";
    r.bootstrap = 200;
    r.counterfactual_steps = 20;
    r.seed = 2;
    r.device = "cpu";
    CompareMethodsRun.Result res;
    List<CounterfactualRun.Result> direct = new ArrayList<>();
    try (LoadedModel<PrototypeClassifier> m = Models.prototypes("sample-ppnet", DeviceChoice.CPU, 32, false,
        Progress.NONE);
        LoadedModel<Denoiser> d = Models.denoiser("sample", DeviceChoice.CPU, null, false, Progress.NONE)) {
      res = CompareMethodsRun.run(r, new CompareMethodsRun.Images(stack, "phantoms", java.util.Map.of(), masks),
          List.of(m),
          (i, st, s) -> RandomizedPrototypeNetwork.of(ClassifierBundle.open("sample-ppnet"), st, s), d,
          Env.files(Progress.NONE));
      // the Counterfactual command with the same settings (target: the other class of the prediction)
      CounterfactualRun.Request c = new CounterfactualRun.Request();
      c.image = "phantoms";
      c.model = "sample-ppnet";
      c.depth = r.counterfactual_depth;
      c.steps = r.counterfactual_steps;
      c.scale = r.counterfactual_scale;
      c.seed = r.seed;
      c.reference = r.counterfactual_reference;
      LoadedModel<DifferentiableClassifier> dc = LoadedModel.<DifferentiableClassifier>of(
          (DifferentiableClassifier) m.get(), m.name(), m.provenance()).withClassNames(m.classNames());
      direct.add(CounterfactualRun.run(c, d, dc, ExplainPrototypesRunTest.env(stack, Progress.NONE)));
    }
    float[][] maps = res.counterfactualMaps.get("sample-ppnet");
    assertEquals(n, maps.length);
    // the default map is |counterfactual - unguided reconstruction|: the command's difference with reference=unguided
    assertEquals(CounterfactualRun.UNGUIDED, r.counterfactual_reference);
    FloatStack diff = direct.get(0).difference.floats();
    int changed = 0;
    for (int i = 0; i < n; i++) {
      GuidedSampler.Trace t = direct.get(0).traces.get(i);
      for (int p = 0; p < 64 * 64; p += 61) {
        assertEquals(Math.abs(diff.plane(i)[p]), maps[i][p], 1e-6f, "image " + i + " pixel " + p);
        if (Math.abs(maps[i][p] - Math.abs(t.image[p] - planes[i][p])) > 1e-3f) changed++;
      }
    }
    assertTrue(changed > 0, "the unguided reference is not the input");
    assertTrue(direct.get(0).provenance.get("difference").startsWith("counterfactual - unguided reconstruction"));
    boolean scored = false, randomized = false, localised = false;
    for (CompareMethodsRun.Row row : res.rows) {
      if (row.method.equals(CompareMethodsRun.COUNTERFACTUAL) && row.metric.equals("deletion")) {
        scored = true;
        assertEquals(n, row.n);
      }
      if (row.method.equals(CompareMethodsRun.COUNTERFACTUAL) && row.metric.equals("relevance_mass")) {
        // the two lesion images; relevance mass of the map against its mask, recomputed here
        localised = true;
        assertEquals(2, row.n);
        double mass = 0;
        for (int i = 1; i < n; i += 2) {
          double in = 0, all = 0;
          for (int p = 0; p < 64 * 64; p++) {
            all += Math.max(0, maps[i][p]);
            if (masks[i][p]) in += Math.max(0, maps[i][p]);
          }
          mass += in / all / 2;
        }
        assertEquals(mass, row.mean, 1e-6);
        System.out.printf("[compare counterfactual] relevance mass of |difference| in the lesion: %.3f%n", mass);
      }
      if (row.method.equals("randomized_top (counterfactual)") && row.metric.equals("spearman_vs_real")) {
        randomized = true;
        System.out.printf("[compare counterfactual] randomised (top) vs real counterfactual map: Spearman %.3f"
            + " [%.3f, %.3f]%n", row.mean, row.low, row.high);
      }
    }
    assertTrue(scored && randomized && localised, res.rows.size() + " rows");
    int verdicts = 0;
    for (int i = 0; i < res.verdicts.size(); i++) {
      if (res.verdicts.getString("method", i).equals(CompareMethodsRun.COUNTERFACTUAL)) verdicts++;
    }
    // better than a random map for deletion and the 5 localisation metrics; model randomisation (top)
    assertEquals(7, verdicts);
    assertTrue(res.provenance.get("counterfactual").contains("depth 0.3"), res.provenance.get("counterfactual"));
    assertTrue(res.provenance.get("counterfactual").startsWith("map = |counterfactual - unguided reconstruction|"),
        res.provenance.get("counterfactual"));
  }

  /**
   * The guidance-only map (reference unguided) is made by the classifier: re-initialising the network's head changes
   * it more than it changes |counterfactual - image|, whose reconstruction part is the same for both networks.
   */
  @Test
  void theGuidanceOnlyMapChangesWhenTheClassifierIsRandomised() {
    PhantomGenerator g = new PhantomGenerator(64);
    int n = 4;
    float[][] planes = new float[n][];
    for (int i = 0; i < n; i++) planes[i] = g.generate(654, i, i % 2 == 1).pixels;
    FloatStack stack = new FloatStack(64, 64, 1, n, 1, planes, null);
    int[] targets = {1, 0, 1, 0}; // the other class of each phantom
    CompareMethodsRun.Request r = new CompareMethodsRun.Request();
    r.counterfactual_steps = 20;
    r.seed = 3;
    double[] rho = new double[2];
    try (LoadedModel<PrototypeClassifier> m = Models.prototypes("sample-ppnet", DeviceChoice.CPU, 32, false,
        Progress.NONE);
        LoadedModel<Denoiser> d = Models.denoiser("sample", DeviceChoice.CPU, null, false, Progress.NONE);
        PrototypeClassifier rand = RandomizedPrototypeNetwork.of(ClassifierBundle.open("sample-ppnet"),
            org.diffxai.core.Randomization.TOP, 5)) {
      String[] refs = {CounterfactualRun.UNGUIDED, CounterfactualRun.INPUT};
      for (int k = 0; k < 2; k++) {
        r.counterfactual_reference = refs[k];
        float[][] real = CompareMethodsRun.counterfactualMaps(r, d, (DifferentiableClassifier) m.get(), stack,
            targets, Progress.NONE);
        float[][] other = CompareMethodsRun.counterfactualMaps(r, d, (DifferentiableClassifier) rand, stack, targets,
            Progress.NONE);
        for (int i = 0; i < n; i++) rho[k] += org.diffxai.metrics.ModelRandomization.spearman(real[i], other[i]) / n;
      }
    }
    System.out.printf("[compare counterfactual] Spearman real vs randomised head: unguided reference %.3f, input"
        + " reference %.3f%n", rho[0], rho[1]);
    assertTrue(rho[0] < rho[1] - 0.1, "unguided " + rho[0] + " vs input " + rho[1]);
  }

  @Test
  void badMethodsGetOneMessage() {
    CompareMethodsRun.Request r = new CompareMethodsRun.Request();
    r.methods = "own,dime";
    UserException e = assertThrows(UserException.class, r::methodList);
    assertTrue(e.getMessage().contains("'dime'"), e.getMessage());
    r.methods = " , ";
    e = assertThrows(UserException.class, r::methodList);
    assertTrue(e.getMessage().contains("methods= is empty"), e.getMessage());
    r.methods = "counterfactual";
    FloatStack one = new FloatStack(64, 64, 1, 1, 1, new float[][] {new float[64 * 64]}, null);
    e = assertThrows(UserException.class, () -> CompareMethodsRun.run(r, new CompareMethodsRun.Images(one, "x",
        java.util.Map.of()), List.of(), null, null, Env.files(Progress.NONE)));
    assertTrue(e.getMessage().contains("counterfactual_denoiser"), e.getMessage());
  }
}
