package org.diffxai.guidance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.diffxai.core.Confidence;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DiffusionSampler;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.phantom.PhantomGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Guided sampling on the real sample denoiser (TensorFlow through DJL) with a real logistic classifier in Java. */
class GuidedSamplerTest {
  static LoadedModel<Denoiser> sample;
  static RegionLogistic classifier;

  @BeforeAll
  static void open() {
    sample = Models.denoiser("sample", DeviceChoice.parse("cpu"), null, false, Progress.NONE);
    classifier = trained();
  }

  @AfterAll
  static void close() {
    if (sample != null) sample.close();
  }

  /** The test classifier: 60 phantoms per class (seed 11), 2000 gradient steps; about 0.7 accurate on unseen phantoms. */
  static RegionLogistic trained() {
    return RegionLogistic.trained();
  }

  static GuidedSampler sampler(String kind, double scale) {
    return new GuidedSampler(sample.get(), DiffusionScheduler.create(kind, sample.scheduler(), 0), classifier,
        sample.intensity()).scale(scale);
  }

  @Test
  void theTestClassifierSeparatesUnseenPhantomsAndItsGradientIsTheFiniteDifference() {
    double acc = classifier.accuracy(11, 100, 20);
    assertTrue(acc > 0.6, "accuracy on unseen phantoms " + acc);
    float[] x = new PhantomGenerator(64).generate(3, 0, true).pixels;
    DifferentiableClassifier.Gradient g = classifier.gradient(x, 1,
        DifferentiableClassifier.Objective.of(Kind.LOG_PROBABILITY, 0, 1));
    int[] pixels = {0, 1000, 2080, 4095};
    for (int j : pixels) {
      float[] a = x.clone();
      float[] b = x.clone();
      a[j] += 1e-2f;
      b[j] -= 1e-2f;
      double fa = classifier.gradient(a, 1, DifferentiableClassifier.Objective.of(Kind.LOG_PROBABILITY, 0, 1))
          .values[0];
      double fb = classifier.gradient(b, 1, DifferentiableClassifier.Objective.of(Kind.LOG_PROBABILITY, 0, 1))
          .values[0];
      assertEquals((fa - fb) / 2e-2, g.gradient[j], 1e-3 + 1e-2 * Math.abs(g.gradient[j]), "pixel " + j);
    }
  }

  @Test
  void scaleZeroIsTheUnguidedSamplerBitForBit() throws IOException {
    for (String kind : new String[] {"ddim", "ddpm"}) {
      float[][] plain = new DiffusionSampler(sample.get(), DiffusionScheduler.create(kind, sample.scheduler(), 0))
          .steps(8).samples(2).seed(5).labels(new int[] {0, 1}).batchSize(2).run(null, Progress.NONE);
      List<GuidedSampler.Trace> guided = sampler(kind, 0).target(Kind.LOG_PROBABILITY, 1, 1).steps(8).seed(5)
          .labels(new int[] {0, 1}).batchSize(2).synthesize(2, Progress.NONE);
      for (int i = 0; i < 2; i++) {
        float[] img = sample.intensity().toImage(plain[i].clone());
        assertArrayEquals(img, guided.get(i).image, kind + " sample " + i);
        assertEquals(8, guided.get(i).stepsUsed());
      }
    }
  }

  @Test
  void guidanceRaisesTheTargetProbabilityAtTheSameSeedsAndIsReproducible() {
    int n = 4;
    int[] healthy = new int[n];
    List<GuidedSampler.Trace> plain = sampler("ddim", 0).target(Kind.LOG_PROBABILITY, 1, 1).steps(10).seed(2)
        .labels(healthy).batchSize(n).synthesize(n, Progress.NONE);
    List<GuidedSampler.Trace> guided = sampler("ddim", 30).target(Kind.LOG_PROBABILITY, 1, 1).steps(10).seed(2)
        .labels(healthy).batchSize(n).synthesize(n, Progress.NONE);
    double p0 = 0, p1 = 0;
    for (int i = 0; i < n; i++) {
      p0 += probability(plain.get(i).image, 1) / n;
      p1 += probability(guided.get(i).image, 1) / n;
      assertEquals(10, guided.get(i).probability.length);
    }
    System.out.printf("[guidance] mean p(lesion) of label-healthy samples: unguided %.3f, guided %.3f%n", p0, p1);
    assertTrue(p1 > p0, "guided " + p1 + " vs unguided " + p0);
    List<GuidedSampler.Trace> again = sampler("ddim", 30).target(Kind.LOG_PROBABILITY, 1, 1).steps(10).seed(2)
        .labels(healthy).batchSize(n).synthesize(n, Progress.NONE);
    for (int i = 0; i < n; i++) assertArrayEquals(guided.get(i).image, again.get(i).image);
  }

  @Test
  void counterfactualStopsAtTheFlipAndRecordsIt() {
    PhantomGenerator g = new PhantomGenerator(64);
    float[][] in = {g.generate(77, 0, true).pixels, g.generate(77, 1, true).pixels};
    List<GuidedSampler.Trace> cf = sampler("ddim", 30).target(Kind.LOG_PROBABILITY, 0, 0).closeness(0.001).steps(20)
        .seed(1).labels(new int[] {0, 0}).stopOnFlip(true).counterfactual(in, 0.5, Progress.NONE);
    for (GuidedSampler.Trace t : cf) {
      assertTrue(t.stepsUsed() >= 1 && t.stepsUsed() <= 10, "steps " + t.stepsUsed());
      assertTrue(t.timesteps[0] <= 500, "first timestep " + t.timesteps[0]);
      if (t.flipStep >= 0) {
        assertEquals(t.stepsUsed() - 1, t.flipStep);
        assertTrue(t.finalProbability() >= 0.5);
        assertEquals(t.finalProbability(), probability(t.image, 0), 1e-5);
      } else {
        assertEquals(10, t.stepsUsed());
      }
    }
  }

  @Test
  void theUnguidedReconstructionIsTheScaleZeroCounterfactualBitForBit() {
    PhantomGenerator g = new PhantomGenerator(64);
    float[][] in = new float[4][];
    for (int i = 0; i < in.length; i++) in[i] = g.generate(78, i, i % 2 == 1).pixels;
    int[] labels = new int[in.length];
    int[] streams = {3, 0, 7, 1};
    for (boolean stop : new boolean[] {true, false}) {
      // the scale-0 counterfactual run towards healthy (the weak test classifier flips some images, not all)
      List<GuidedSampler.Trace> plain = sampler("ddim", 0).target(Kind.LOG_PROBABILITY, 0, 0).closeness(0.05)
          .steps(20).seed(4).labels(labels).batchSize(3).stopOnFlip(stop).counterfactual(in, 0.5, streams,
              Progress.NONE);
      int[] stops = new int[in.length];
      int early = 0;
      for (int i = 0; i < in.length; i++) {
        stops[i] = stop ? plain.get(i).flipStep : -1;
        if (stops[i] >= 0 && stops[i] < 9) early++;
      }
      if (stop) assertTrue(early >= 1 && early < in.length, "flip steps " + java.util.Arrays.toString(stops));
      // the reconstruction of a guided sampler (its scale is not used) at those steps
      float[][] rec = sampler("ddim", 30).target(Kind.LOG_PROBABILITY, 0, 0).closeness(0.05).steps(20).seed(4)
          .labels(labels).batchSize(3).reconstruction(in, 0.5, streams, stops, Progress.NONE);
      for (int i = 0; i < in.length; i++) {
        assertArrayEquals(plain.get(i).image, rec[i], "stop on flip " + stop + ", image " + i);
      }
    }
  }

  @Test
  void badInputsGetOneMessage() {
    GuidedSampler s = sampler("ddim", 1).target(Kind.LOG_PROBABILITY, 0, 0).labels(new int[] {0});
    float[][] in = {new float[64 * 64]};
    UserException e = assertThrows(UserException.class, () -> s.counterfactual(in, 0, Progress.NONE));
    assertTrue(e.getMessage().contains("depth"), e.getMessage());
    e = assertThrows(UserException.class, () -> s.counterfactual(new float[][] {new float[10]}, 0.5, Progress.NONE));
    assertTrue(e.getMessage().contains("values"), e.getMessage());
    RegionLogistic small = new RegionLogistic(32);
    e = assertThrows(UserException.class, () -> new GuidedSampler(sample.get(),
        DiffusionScheduler.create("ddim", sample.scheduler(), 0), small, sample.intensity()));
    assertTrue(e.getMessage().contains("32x32"), e.getMessage());
    e = assertThrows(UserException.class, () -> sampler("ddim", 1).target(Kind.PROTOTYPE_SCORE, 0, 0)
        .labels(new int[] {0}).synthesize(1, Progress.NONE));
    assertTrue(e.getMessage().contains("prototype"), e.getMessage());
  }

  static double probability(float[] image, int c) {
    return Confidence.softmax(classifier.logits(image, 1)[0], 1)[c];
  }
}
