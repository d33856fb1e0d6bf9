package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.model.TorchFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Synthesize with a guidance classifier, on the real sample denoiser and sample-ppnet (both TensorFlow): the same images
 * as Synthesize Explanation's guided run (one code path), scale 0 the unguided run bit for bit, the trajectory and
 * the run record kept, calibrated probabilities in the table.
 */
class SynthesizeGuidanceTest {
  static LoadedModel<Denoiser> denoiser;
  static LoadedModel<DifferentiableClassifier> ppnet;

  @BeforeAll
  static void open() {
    denoiser = Models.denoiser("sample", DeviceChoice.parse("cpu"), null, false, Progress.NONE);
    ppnet = Models.differentiableClassifier("sample-ppnet", DeviceChoice.parse("cpu"), 4, false, Progress.NONE);
  }

  @AfterAll
  static void close() {
    if (ppnet != null) ppnet.close();
    if (denoiser != null) denoiser.close();
  }

  static SynthesizeRun.Request request() {
    SynthesizeRun.Request r = new SynthesizeRun.Request();
    r.model = "sample";
    r.samples = 2;
    r.steps = 8;
    r.seed = 3;
    r.batch = 2;
    r.device = "cpu";
    r.cfg_scale = "0"; // classifier guidance alone, as GuidedSampler (Synthesize Explanation) runs it
    r.guidance = "sample-ppnet";
    r.guidance_class = "lesion";
    return r;
  }

  @Test
  void guidedSynthesisIsSynthesizeExplanationsGuidedRunWithTrajectoryAndRecord(@TempDir Path tmp) throws Exception {
    SynthesizeRun.Request r = request();
    r.keep_every = 4;
    r.output = tmp.resolve("out").toString();
    SynthesizeRun.Result g = SynthesizeRun.run(r, denoiser, ppnet, Env.files(Progress.NONE));

    SynthesizeExplanationRun.Request e = new SynthesizeExplanationRun.Request();
    e.model = "sample-ppnet";
    e.target = "lesion";
    e.scale = r.guidance_scale;
    e.samples = 2;
    e.steps = 8;
    e.seed = 3;
    e.batch = 2;
    SynthesizeExplanationRun.Result x = SynthesizeExplanationRun.run(e, denoiser, ppnet, Env.files(Progress.NONE));
    for (int i = 0; i < 2; i++) {
      assertArrayEquals(x.guided.get(i).image, g.samples.plane(i), "sample " + i);
      assertEquals("lesion", g.table.getString("label", i)); // a class-conditional denoiser gets the guided class
    }
    // calibrated: sample-ppnet's bundle has a temperature, and the column says so
    double t = ppnet.get().confidence().temperature();
    assertTrue(t != 1, "temperature " + t);
    for (int i = 0; i < 2; i++) {
      double p = ppnet.get().probabilities(g.samples.plane(i), 1)[0][1];
      assertEquals(p, g.table.getValue("p_lesion_calibrated", i), 1e-6);
      assertEquals(p, x.table.getValue("p_lesion_calibrated", 2 * i + 1), 1e-6);
    }
    Path out = tmp.resolve("out");
    for (String f : new String[] {SynthesizeRun.SAMPLES_FILE, SynthesizeRun.TRAJECTORY_FILE,
        SynthesizeRun.TRAJECTORY_OME_FILE, SynthesizeRun.TABLE_FILE, SynthesizeRun.PROVENANCE_FILE}) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f);
    }
    // the trajectory's last x0_pred is the guided x̂₀' of the last step: the final sample for DDIM at t → 0 is close
    FloatStack tr = ImageReaders.readFloatStack(out.resolve(SynthesizeRun.TRAJECTORY_FILE));
    assertEquals(2 * 2 * 3, tr.planeCount()); // channels x_t, x0_pred; 2 samples; kept steps 0, 4, 7
    Map<String, String> prov = g.provenance;
    assertTrue(Files.readString(out.resolve(SynthesizeRun.PROVENANCE_FILE)).contains("guidance.objective"));
    assertEquals("log p(lesion | x0_pred)", prov.get("guidance.objective"));
    assertTrue(String.valueOf(prov.get("guidance.probability")).startsWith("calibrated"), prov.toString());
    assertTrue(prov.containsKey("guidance.model.checksum"), prov.keySet().toString());
    assertEquals("sample-ppnet", prov.get("guidance"));
  }

  @Test
  void scaleZeroIsTheUnguidedRunAndGuidanceRaisesTheTarget() {
    SynthesizeRun.Request plain = request();
    plain.guidance = "";
    plain.guidance_class = "";
    plain.label = "healthy";
    SynthesizeRun.Result u = SynthesizeRun.run(plain, denoiser, null, Env.files(Progress.NONE));
    SynthesizeRun.Request zero = request();
    zero.label = "healthy";
    zero.guidance_scale = 0;
    SynthesizeRun.Result z = SynthesizeRun.run(zero, denoiser, ppnet, Env.files(Progress.NONE));
    for (int i = 0; i < 2; i++) assertArrayEquals(u.samples.plane(i), z.samples.plane(i), "sample " + i);
    // a healthy-labelled sample guided towards lesion: the lesion probability rises at the same seeds
    SynthesizeRun.Request up = request();
    up.label = "healthy";
    SynthesizeRun.Result g = SynthesizeRun.run(up, denoiser, ppnet, Env.files(Progress.NONE));
    double p0 = 0, p1 = 0;
    for (int i = 0; i < 2; i++) {
      p0 += z.table.getValue("p_lesion_calibrated", i) / 2;
      p1 += g.table.getValue("p_lesion_calibrated", i) / 2;
    }
    System.out.printf("[synthesize guidance] p(lesion) of label-healthy samples: scale 0 %.3f, scale 10 %.3f%n", p0,
        p1);
    assertTrue(p1 > p0 + 0.1, "guided " + p1 + " vs unguided " + p0);
  }

  /**
   * guidance_prototype steers by that prototype's score: the images are GuidedSampler's with the prototype objective
   * (whether the score then exceeds its 95th percentile on real phantoms is measured in docs/guidance.md), and the
   * table's objective is the prototype's score at the last step's x̂₀, close to its score on the final sample.
   */
  @Test
  void prototypeGuidanceUsesThePrototypesScore() {
    int proto = 7;
    SynthesizeRun.Request up = request();
    up.guidance_prototype = proto;
    up.guidance_scale = 3;
    SynthesizeRun.Result g = SynthesizeRun.run(up, denoiser, ppnet, Env.files(Progress.NONE));
    java.util.List<org.diffxai.guidance.GuidedSampler.Trace> direct = new org.diffxai.guidance.GuidedSampler(
        denoiser.get(), org.diffxai.core.DiffusionScheduler.create("ddim", denoiser.scheduler(), 0), ppnet.get(),
        denoiser.intensity()).target(Kind.PROTOTYPE_SCORE, proto, 1).scale(3).steps(8).seed(3).batchSize(2)
        .labels(CounterfactualRun.labels(denoiser, "lesion", 2)).synthesize(2, Progress.NONE);
    float[] s1 = ppnet.get().gradient(g.samples.toNHWC(), 2, Objective.of(Kind.PROTOTYPE_SCORE, proto, 2)).values;
    for (int i = 0; i < 2; i++) {
      assertArrayEquals(direct.get(i).image, g.samples.plane(i), "sample " + i);
      double last = direct.get(i).objective[direct.get(i).objective.length - 1];
      assertEquals(last, g.table.getValue("objective_last_step", i), 1e-5);
      assertEquals(s1[i], last, 0.1 * Math.abs(s1[i]) + 0.2, "sample " + i);
    }
  }

  @Test
  void badGuidanceKeysGetOneMessage() {
    SynthesizeRun.Request r = request();
    r.guidance_class = "";
    UserException e = assertThrows(UserException.class, () -> SynthesizeRun.run(r, denoiser, ppnet,
        Env.files(Progress.NONE)));
    assertTrue(e.getMessage().contains("guidance_class="), e.getMessage());
    r.guidance_class = "tumour";
    e = assertThrows(UserException.class, () -> SynthesizeRun.run(r, denoiser, ppnet, Env.files(Progress.NONE)));
    assertTrue(e.getMessage().contains("tumour"), e.getMessage());
    r.guidance_class = "lesion";
    r.guidance_prototype = 999;
    e = assertThrows(UserException.class, () -> SynthesizeRun.run(r, denoiser, ppnet, Env.files(Progress.NONE)));
    assertTrue(e.getMessage().contains("prototype 999"), e.getMessage());
    // a prototype without a class guides towards the prototype's class (prototypes 5-9 of sample-ppnet are lesion's)
    SynthesizeRun.Request proto = request();
    proto.guidance_class = "";
    proto.guidance_prototype = 7;
    assertEquals(((org.diffxai.core.PrototypeClassifier) ppnet.get()).prototype(7).classIndex,
        SynthesizeRun.Guidance.of(proto, ppnet).classIndex);
    assertEquals("lesion", SynthesizeRun.Guidance.of(proto, ppnet).className);
    SynthesizeRun.Request unguided = request();
    unguided.guidance = "";
    e = assertThrows(UserException.class, () -> SynthesizeRun.run(unguided, denoiser, null,
        Env.files(Progress.NONE)));
    assertTrue(e.getMessage().contains("no guidance= is given"), e.getMessage());
    SynthesizeRun.Request onnx = request();
    onnx.guidance = TorchFixtures.classifier().resolve("onnx").toString(); // ONNX Runtime gives no gradients
    e = assertThrows(UserException.class, () -> SynthesizeRun.run(onnx, Env.files(Progress.NONE)));
    assertTrue(e.getMessage().contains("cannot give gradients"), e.getMessage());
  }
}
