package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.diffxai.core.ReferenceSampler.Case;
import org.diffxai.core.ReferenceSampler.Trajectory;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Full sampling loops (production {@link DiffusionSampler} + DDPM/DDIM schedulers, float32) against the independent
 * double-precision {@link ReferenceSampler}: every step's x_t, x̂₀ and ε̂ and the final samples, for each beta
 * schedule, prediction type, timestep spacing (with steps_offset), clipping, thresholding, set_alpha_to_one, DDIM η
 * and DDPM variance type.
 */
class SamplerReferenceTest {
  static final int H = 2;
  static final int W = 3;
  static final int C = 1;
  static final int D = H * W * C;
  static final int SAMPLES = 3;
  static final long SEED = 20260101L;

  /**
   * float32 arithmetic (as diffusers) against double: |got − ref| ≤ TOL·max(1, |ref|). The largest scaled error seen
   * over the well-conditioned cases is about 1.5e-5 (DDPM, where 1 − ᾱ_t/ᾱ_{t'} in float32 has a relative error of
   * u/β).
   */
  static final double TOL = 5e-5;

  /** float32 unit roundoff used for the conditioning term. */
  static final double U = 0x1.0p-24;

  static final boolean VERBOSE = Boolean.getBoolean("diffxai.test.verbose");

  static List<Case> cases() {
    List<Case> cs = new ArrayList<>();
    for (String kind : new String[] {"ddim", "ddpm"}) {
      for (String schedule : new String[] {"linear", "scaled_linear", "squaredcos_cap_v2"}) {
        for (String pred : new String[] {"epsilon", "v_prediction", "sample"}) {
          cs.add(with(kind + " " + schedule + " " + pred, kind, c -> {
            c.schedule = schedule;
            c.prediction = pred;
            if (schedule.equals("scaled_linear")) {
              c.betaStart = 0.00085;
              c.betaEnd = 0.012;
            }
          }));
        }
      }
      for (String spacing : new String[] {"leading", "trailing", "linspace"}) {
        for (int steps : new int[] {10, 7, 13}) {
          cs.add(with(kind + " " + spacing + " steps_offset=1 steps=" + steps, kind, c -> {
            c.spacing = spacing;
            c.offset = 1;
            c.steps = steps;
          }));
        }
      }
      cs.add(with(kind + " clip off", kind, c -> c.clip = false));
      cs.add(with(kind + " clip range 0.5", kind, c -> c.clipRange = 0.5));
      cs.add(with(kind + " clip range 2.5 v_prediction", kind, c -> {
        c.clipRange = 2.5;
        c.prediction = "v_prediction";
      }));
      cs.add(with(kind + " thresholding 0.995 max 1.5", kind, c -> {
        c.thresholding = true;
        c.maxValue = 1.5;
      }));
      cs.add(with(kind + " thresholding 0.6 max 3 over clip", kind, c -> {
        c.thresholding = true;
        c.ratio = 0.6;
        c.maxValue = 3;
        c.clip = true;
        c.clipRange = 0.25; // ignored: thresholding wins, as in diffusers
      }));
      cs.add(with(kind + " thresholding sample prediction", kind, c -> {
        c.thresholding = true;
        c.maxValue = 2;
        c.prediction = "sample";
      }));
      cs.add(with(kind + " 50 steps", kind, c -> c.steps = 50));
      cs.add(with(kind + " 1000 steps", kind, c -> {
        c.steps = 1000;
        // DDPM visiting every timestep: β = 1 − ᾱ_t/ᾱ_{t−1} is formed in float32 (as in diffusers), a relative
        // error of about u/β_t ≈ 6e-4 for β_t ≈ 1e-4 near t = 0.
        if (kind.equals("ddpm")) c.tol = 5e-4;
      }));
    }
    for (boolean one : new boolean[] {true, false}) {
      cs.add(with("ddim set_alpha_to_one=" + one, "ddim", c -> c.alphaToOne = one));
      cs.add(with("ddim set_alpha_to_one=" + one + " steps_offset=1 scaled_linear", "ddim", c -> {
        c.alphaToOne = one;
        c.offset = 1;
        c.schedule = "scaled_linear";
        c.betaStart = 0.00085;
        c.betaEnd = 0.012;
        c.clip = false;
      }));
    }
    for (double eta : new double[] {0, 0.5, 1}) {
      cs.add(with("ddim eta=" + eta, "ddim", c -> c.eta = eta));
      cs.add(with("ddim eta=" + eta + " v_prediction cosine trailing", "ddim", c -> {
        c.eta = eta;
        // At t = 999 of the cosine schedule ᾱ_t ≈ 2e-9, and with η = 1 the float32 argument of √(1 − ᾱ_{t'} − σ²)
        // (≈ 1e-7) is the difference of two numbers close to 1 − ᾱ_{t'}, so its float32 value (as in diffusers)
        // carries an absolute error of order u / √(1e-7) ≈ 2e-4 into x_{t'}.
        if (eta == 1) c.tol = 2.5e-4;
        c.prediction = "v_prediction";
        c.schedule = "squaredcos_cap_v2";
        c.spacing = "trailing";
      }));
    }
    for (String variance : new String[] {"fixed_small", "fixed_large"}) {
      cs.add(with("ddpm " + variance, "ddpm", c -> c.variance = variance));
      cs.add(with("ddpm " + variance + " linspace 13 sample", "ddpm", c -> {
        c.variance = variance;
        c.spacing = "linspace";
        c.steps = 13;
        c.prediction = "sample";
      }));
    }
    cs.add(with("ddpm 100 train timesteps, 25 steps", "ddpm", c -> {
      c.numTrain = 100;
      c.steps = 25;
      c.betaEnd = 0.2;
    }));
    return cs;
  }

  private static Case with(String name, String kind, Consumer<Case> f) {
    Case c = new Case(name);
    c.kind = kind;
    f.accept(c);
    return c;
  }

  @TestFactory
  List<DynamicTest> fullLoopsMatchTheDoubleReference() {
    List<DynamicTest> tests = new ArrayList<>();
    for (Case c : cases()) tests.add(DynamicTest.dynamicTest(c.name, () -> compare(c)));
    return tests;
  }

  static void compare(Case c) throws Exception {
    DiffusionScheduler scheduler = c.scheduler();
    scheduler.setTimesteps(c.steps);
    assertArrayEquals(ReferenceSampler.timesteps(c), scheduler.timesteps(), "timesteps");

    List<TrajectoryFrame> frames = new ArrayList<>();
    DiffusionSampler sampler = new DiffusionSampler(new AnalyticDenoiser(H, W, C), scheduler).steps(c.steps)
        .samples(SAMPLES).seed(SEED).batchSize(2).keepEvery(1);
    float[][] out = sampler.run(frames::add, Progress.NONE);
    assertEquals(c.steps, frames.size());

    double maxErr = 0;
    for (int i = 0; i < SAMPLES; i++) {
      Trajectory ref = ReferenceSampler.run(c, D, null, GaussianNoise.forSample(SEED, i), 0, null);
      for (int s = 0; s < c.steps; s++) {
        TrajectoryFrame f = frames.get(s);
        maxErr = Math.max(maxErr, check(c, "x_t", i, s, f.xt[i], ref.xt.get(s), c.tol));
        maxErr = Math.max(maxErr, check(c, "x0", i, s, f.predOriginal[i], ref.x0.get(s), c.tol));
        // For prediction_type "sample", ε̂ = (x_t − √ᾱ_t·x̂₀)/√(1−ᾱ_t): storing ᾱ_t in float32 (as diffusers does)
        // alone changes 1−ᾱ_t by up to u relative to 1, i.e. by u/(1−ᾱ_t) relative (6e-4 at t=0 of the linear
        // schedule), so the allowed error grows accordingly near t = 0.
        double epsTol = c.tol + (c.prediction.equals("sample") ? U / (1 - f.alphaCumprod) : 0);
        maxErr = Math.max(maxErr, check(c, "eps", i, s, f.predEpsilon[i], ref.eps.get(s), epsTol) * c.tol / epsTol);
      }
      maxErr = Math.max(maxErr, check(c, "final", i, c.steps, out[i], ref.last, c.tol));
    }
    if (VERBOSE) {
      System.out.println(String.format(Locale.ROOT, "%-55s max scaled error %.2e (%.3f of tolerance)", c.name, maxErr,
          maxErr / c.tol));
    }
  }

  static double check(Case c, String what, int sample, int step, float[] got, double[] ref, double tol) {
    double max = 0;
    for (int e = 0; e < ref.length; e++) {
      double err = Math.abs(got[e] - ref[e]) / Math.max(1, Math.abs(ref[e]));
      max = Math.max(max, err);
      if (!(err <= tol)) {
        throw new AssertionError(c.name + ": " + what + " of sample " + sample + " at step " + step + " element " + e
            + ": " + got[e] + " vs reference " + ref[e] + " (scaled error " + err + ")");
      }
    }
    assertTrue(max <= tol);
    return max;
  }
}
