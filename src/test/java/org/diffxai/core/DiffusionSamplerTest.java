package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiffusionSamplerTest {
  static final int H = 2;
  static final int W = 3;
  static final int C = 1;
  static final int D = H * W * C;

  private static DiffusionSampler sampler(String kind, double eta, int steps, int n, int batch) {
    DiffusionScheduler s = DiffusionScheduler.create(kind, new SchedulerConfig(), eta);
    return new DiffusionSampler(new AnalyticDenoiser(H, W, C), s).steps(steps).samples(n).seed(7).batchSize(batch);
  }

  private static float[][] run(DiffusionSampler s) throws IOException {
    return s.run(null, Progress.NONE);
  }

  @Test
  void seededRunsAreBitIdenticalAndIndependentOfBatchSize() throws IOException {
    for (String kind : new String[] {"ddpm", "ddim"}) {
      double eta = kind.equals("ddim") ? 0.5 : 0;
      float[][] ref = run(sampler(kind, eta, 20, 5, 1));
      assertArrayEquals(ref, run(sampler(kind, eta, 20, 5, 1)), kind + " rerun");
      for (int batch : new int[] {2, 3, 5, 8}) {
        assertArrayEquals(ref, run(sampler(kind, eta, 20, 5, batch)), kind + " batch " + batch);
      }
      // a sample's result depends on (seed, index) only, not on how many samples are drawn
      float[][] two = run(sampler(kind, eta, 20, 2, 2));
      assertArrayEquals(ref[0], two[0]);
      assertArrayEquals(ref[1], two[1]);
      assertFalse(Arrays.equals(ref[0], ref[1]));
      // another seed gives another result
      assertFalse(Arrays.equals(ref[0], run(sampler(kind, eta, 20, 5, 1).seed(8))[0]));
    }
  }

  @Test
  void denoiserIsCalledInChunksOfAtMostBatchSamples() throws IOException {
    AnalyticDenoiser d = new AnalyticDenoiser(H, W, C);
    new DiffusionSampler(d, new DdimScheduler(new SchedulerConfig())).steps(10).samples(5).batchSize(2)
        .run(null, Progress.NONE);
    assertEquals(30, d.calls); // 10 steps × (2 + 2 + 1)
    assertEquals(50, d.samplesSeen);
  }

  @Test
  void supplyingTheRunsOwnXtReproducesIt() throws IOException {
    List<TrajectoryFrame> frames = new ArrayList<>();
    DiffusionSampler s = sampler("ddpm", 0, 10, 3, 2).keepEvery(5);
    float[][] out = s.run(frames::add, Progress.NONE);
    float[][] xT = frames.get(0).xt;
    // the drawn x_T is the first D values of each sample's stream
    for (int i = 0; i < 3; i++) assertArrayEquals(GaussianNoise.forSample(7, i).fill(new float[D]), xT[i]);
    assertArrayEquals(out, run(sampler("ddpm", 0, 10, 3, 1).init(xT)));
  }

  @Test
  void sharedInitStartsEverySampleAtTheSameXt() throws IOException {
    float[] x = {0.5f, -0.25f, 1f, 0f, -1f, 0.75f};
    float[][] det = run(sampler("ddim", 0, 10, 3, 2).init(x));
    assertArrayEquals(det[0], det[1]); // deterministic DDIM: identical
    assertArrayEquals(det[0], det[2]);
    float[][] sto = run(sampler("ddpm", 0, 10, 3, 2).init(x));
    assertFalse(Arrays.equals(sto[0], sto[1])); // DDPM: each sample has its own noise
  }

  @Test
  void keptStepSelection() {
    assertArrayEquals(new int[] {0, 3, 6, 9}, DiffusionSampler.keptStepIndices(10, 3));
    assertArrayEquals(new int[] {0, 4, 8, 9}, DiffusionSampler.keptStepIndices(10, 4));
    assertArrayEquals(new int[] {0, 9}, DiffusionSampler.keptStepIndices(10, 100));
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, DiffusionSampler.keptStepIndices(5, 1));
    assertArrayEquals(new int[] {0}, DiffusionSampler.keptStepIndices(1, 5));
    assertArrayEquals(new int[0], DiffusionSampler.keptStepIndices(10, 0));
    assertEquals(201, DiffusionSampler.keptStepIndices(1000, 5).length);
  }

  @Test
  void framesFollowThePlanAndCarryTheState() throws IOException {
    DiffusionSampler s = sampler("ddim", 0, 10, 2, 2).keepEvery(5);
    List<KeptStep> plan = s.keptSteps();
    assertEquals(3, plan.size());
    int[] steps = {0, 5, 9};
    int[] ts = {900, 400, 0};
    NoiseSchedule ns = NoiseSchedule.of(new SchedulerConfig());
    for (int k = 0; k < 3; k++) {
      assertEquals(k, plan.get(k).keptIndex);
      assertEquals(steps[k], plan.get(k).stepIndex);
      assertEquals(ts[k], plan.get(k).timestep);
      assertEquals(ns.alphaCumprod(ts[k]), plan.get(k).alphaCumprod);
    }
    List<TrajectoryFrame> frames = new ArrayList<>();
    float[][] out = s.run(frames::add, Progress.NONE);
    assertEquals(3, frames.size());
    for (int k = 0; k < 3; k++) {
      TrajectoryFrame f = frames.get(k);
      assertEquals(plan.get(k).keptIndex, f.keptIndex);
      assertEquals(plan.get(k).stepIndex, f.stepIndex);
      assertEquals(plan.get(k).timestep, f.timestep);
      assertEquals(plan.get(k).alphaCumprod, f.alphaCumprod);
      assertEquals(2, f.samples());
      // ε̂ is the model output at x_t (epsilon prediction)
      for (int e = 0; e < D; e++) {
        assertEquals((float) AnalyticDenoiser.f(f.xt[1][e], f.timestep, e, 0, 0), f.predEpsilon[1][e]);
      }
    }
    // DDIM with set_alpha_to_one: the last step returns its x̂₀
    assertArrayEquals(frames.get(2).predOriginal, out);
    // frames own their arrays
    assertNotEquals(frames.get(0).xt[0][0], frames.get(1).xt[0][0]);
    // without keep_every (or without a sink) nothing is streamed
    List<TrajectoryFrame> none = new ArrayList<>();
    sampler("ddim", 0, 10, 2, 2).run(none::add, Progress.NONE);
    assertTrue(none.isEmpty());
  }

  @Test
  void thousandStepsAreStreamedNotKept() throws IOException {
    int[] count = {0};
    int[] lastStep = {-1};
    TrajectorySink sink = f -> {
      assertEquals(count[0], f.keptIndex);
      assertTrue(f.stepIndex > lastStep[0]);
      lastStep[0] = f.stepIndex;
      count[0]++;
    };
    sampler("ddpm", 0, 1000, 2, 2).keepEvery(1).run(sink, Progress.NONE);
    assertEquals(1000, count[0]);
    assertEquals(999, lastStep[0]);
  }

  /** Records reports; can cancel. */
  static final class RecordingProgress implements Progress {
    final List<String> messages = new ArrayList<>();
    final List<Double> fractions = new ArrayList<>();
    volatile boolean cancelled;
    String cancelAt;

    @Override
    public void report(String message, double fraction) {
      messages.add(message);
      fractions.add(fraction);
      if (message.equals(cancelAt)) cancelled = true;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }
  }

  @Test
  void progressIsReportedOncePerStep() throws IOException {
    RecordingProgress p = new RecordingProgress();
    sampler("ddim", 0, 10, 3, 2).run(null, p);
    assertEquals(10, p.messages.size());
    assertEquals("Step 1/10 (t=900)", p.messages.get(0));
    assertEquals("Step 10/10 (t=0)", p.messages.get(9));
    assertEquals(0.0, p.fractions.get(0));
    assertEquals(0.9, p.fractions.get(9), 1e-12);
  }

  @Test
  void cancelInsideAStepStopsBeforeTheNextDenoiserCall() {
    AnalyticDenoiser d = new AnalyticDenoiser(H, W, C);
    RecordingProgress p = new RecordingProgress();
    d.onCall = () -> {
      if (d.calls == 10) p.cancelled = true; // during the 2nd of 4 calls of step 3
    };
    DiffusionSampler s = new DiffusionSampler(d, new DdpmScheduler(new SchedulerConfig())).steps(50).samples(4)
        .batchSize(1);
    assertThrows(CancelledException.class, () -> s.run(null, p));
    assertEquals(10, d.calls);
    assertEquals(3, p.messages.size());
  }

  @Test
  void cancelAtAStepStartStopsThatStep() {
    AnalyticDenoiser d = new AnalyticDenoiser(H, W, C);
    RecordingProgress p = new RecordingProgress();
    p.cancelAt = "Step 3/50 (t=940)";
    DiffusionSampler s = new DiffusionSampler(d, new DdimScheduler(new SchedulerConfig())).steps(50).samples(4)
        .batchSize(4);
    assertThrows(CancelledException.class, () -> s.run(null, p));
    assertEquals(2, d.calls);
  }

  @Test
  void interruptCancels() {
    DiffusionSampler s = sampler("ddim", 0, 10, 1, 1);
    Thread.currentThread().interrupt();
    try {
      assertThrows(CancelledException.class, () -> s.run(null, Progress.NONE));
    } finally {
      Thread.interrupted(); // clear
    }
  }

  @Test
  void labelsAndConditionReachTheModelPerSample() throws Exception {
    int n = 3;
    int[] labels = {2, 0, 1};
    float[][] cond = new float[n][D];
    for (int i = 0; i < n; i++) for (int e = 0; e < D; e++) cond[i][e] = 0.3f * i - 0.1f * e;
    float[][] ref = null;
    for (int batch : new int[] {1, 2, 3}) {
      DiffusionScheduler s = new DdimScheduler(new SchedulerConfig().clipSample(false), 0.5);
      float[][] out = new DiffusionSampler(new AnalyticDenoiser(H, W, C, 1, true), s).steps(15).samples(n).seed(3)
          .labels(labels).condition(cond).batchSize(batch).run(null, Progress.NONE);
      if (ref == null) ref = out;
      else assertArrayEquals(ref, out, "batch " + batch);
    }
    // and against the double reference
    ReferenceSampler.Case c = new ReferenceSampler.Case("ddim labels+condition");
    c.clip = false;
    c.eta = 0.5;
    c.steps = 15;
    for (int i = 0; i < n; i++) {
      double[] cd = new double[D];
      for (int e = 0; e < D; e++) cd[e] = cond[i][e];
      double[] r = ReferenceSampler.run(c, D, null, GaussianNoise.forSample(3, i), labels[i], cd).last;
      for (int e = 0; e < D; e++) assertEquals(r[e], ref[i][e], SamplerReferenceTest.TOL * Math.max(1, Math.abs(r[e])));
    }
  }

  @Test
  void userErrors() {
    AnalyticDenoiser plain = new AnalyticDenoiser(H, W, C);
    DdimScheduler s = new DdimScheduler(new SchedulerConfig());
    UserException e = assertThrows(UserException.class, () -> new DiffusionSampler(plain, s).steps(0));
    assertEquals("steps must be between 1 and 1000; got 0. Use e.g. steps=50.", e.getMessage());
    assertThrows(UserException.class, () -> new DiffusionSampler(plain, s).batchSize(0));
    assertThrows(UserException.class, () -> new DiffusionSampler(plain, s).keepEvery(-1));
    assertThrows(UserException.class, () -> new DiffusionSampler(plain, s).samples(0));

    float[] bad = {0, 0, Float.NaN, 0, 0, 0};
    e = assertThrows(UserException.class, () -> new DiffusionSampler(plain, s).steps(5).init(bad)
        .run(null, Progress.NONE));
    assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("finite"), e.getMessage());
    float[] inf = {0, 0, 0, Float.POSITIVE_INFINITY, 0, 0};
    assertThrows(UserException.class, () -> new DiffusionSampler(plain, s).steps(5).init(new float[][] {inf})
        .run(null, Progress.NONE));
    e = assertThrows(UserException.class, () -> new DiffusionSampler(plain, s).steps(5).init(new float[4])
        .run(null, Progress.NONE));
    assertTrue(e.getMessage().contains("2x3x1 = 6"), e.getMessage());
    e = assertThrows(UserException.class, () -> new DiffusionSampler(plain, s).steps(5).samples(2)
        .init(new float[][] {new float[D]}).run(null, Progress.NONE));
    assertTrue(e.getMessage().contains("samples=2"), e.getMessage());
    assertThrows(UserException.class, () -> new DiffusionSampler(plain, s).steps(5).label(1)
        .run(null, Progress.NONE));
    assertThrows(UserException.class, () -> new DiffusionSampler(plain, s).steps(5).condition(new float[D])
        .run(null, Progress.NONE));

    AnalyticDenoiser cond = new AnalyticDenoiser(H, W, C, 1, true);
    e = assertThrows(UserException.class, () -> new DiffusionSampler(cond, s).steps(5).condition(new float[D])
        .run(null, Progress.NONE));
    assertTrue(e.getMessage().contains("label"), e.getMessage());
    e = assertThrows(UserException.class, () -> new DiffusionSampler(cond, s).steps(5).label(0)
        .run(null, Progress.NONE));
    assertTrue(e.getMessage().contains("condition"), e.getMessage());
    assertThrows(UserException.class, () -> new DiffusionSampler(cond, s).steps(5).label(0).condition(new float[5])
        .run(null, Progress.NONE));
    assertThrows(UserException.class, () -> new DiffusionSampler(cond, s).steps(5).samples(2)
        .labels(new int[] {1}).condition(new float[D]).run(null, Progress.NONE));
  }

  @Test
  void modelOutputOfTheWrongSizeIsReported() {
    Denoiser broken = new AnalyticDenoiser(H, W, C) {
      @Override
      public float[] predict(float[] x, float[] t, int[] labels, float[] condition, int n) {
        return new float[n * D - 1];
      }
    };
    UserException e = assertThrows(UserException.class,
        () -> new DiffusionSampler(broken, new DdimScheduler(new SchedulerConfig())).steps(5)
            .run(null, Progress.NONE));
    assertTrue(e.getMessage().contains("expected 6"), e.getMessage());
  }

  @Test
  void sinkErrorsPropagate() {
    IOException boom = new IOException("disk full");
    IOException e = assertThrows(IOException.class, () -> sampler("ddim", 0, 5, 1, 1).keepEvery(1).run(f -> {
      throw boom;
    }, Progress.NONE));
    assertSame(boom, e);
  }
}
