package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Single-step properties of the DDPM and DDIM schedulers. */
class SchedulerStepTest {

  private static float[] ramp(int n, float a, float b) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = a + b * i;
    return v;
  }

  @Test
  void ddimLastStepWithAlphaToOneReturnsX0Exactly() {
    DdimScheduler s = new DdimScheduler(new SchedulerConfig().clipSample(false));
    s.setTimesteps(10);
    StepOutput o = s.step(ramp(6, 0.1f, 0.05f), 0, ramp(6, -0.5f, 0.2f), null);
    assertArrayEquals(o.predOriginalSample, o.prevSample);
    assertEquals(-100, s.previousTimestep(0));
    assertEquals(1f, s.finalAlphaCumprod());
  }

  @Test
  void ddimWithoutAlphaToOneUsesAlphaCumprod0() {
    DdimScheduler s = new DdimScheduler(new SchedulerConfig().setAlphaToOne(false));
    assertEquals(s.schedule().alphaCumprod(0), s.finalAlphaCumprod());
  }

  @Test
  void ddimPreviousTimestepIsDiffusersFormulaForEverySpacing() {
    // trailing 1000/7 lists 999, 856, ...; diffusers' DDIM still steps to t - 1000 // 7 = t - 142
    DdimScheduler s = new DdimScheduler(new SchedulerConfig().timestepSpacing("trailing"));
    s.setTimesteps(7);
    assertEquals(856, s.timesteps()[1]);
    assertEquals(857, s.previousTimestep(999));
  }

  @Test
  void ddpmPreviousTimestepComesFromTheList() {
    DdpmScheduler s = new DdpmScheduler(new SchedulerConfig().timestepSpacing("trailing"));
    s.setTimesteps(7);
    assertEquals(856, s.previousTimestep(999));
    assertEquals(-1, s.previousTimestep(142));
    assertThrows(IllegalArgumentException.class, () -> s.previousTimestep(500));
  }

  @Test
  void ddpmAddsNoiseOnlyForPositiveTimesteps() {
    DdpmScheduler s = new DdpmScheduler(new SchedulerConfig());
    s.setTimesteps(10);
    assertTrue(s.addsNoise(100));
    assertFalse(s.addsNoise(0));
    float[] m = ramp(6, 0.1f, 0.05f);
    float[] x = ramp(6, -0.5f, 0.2f);
    // t = 0: no noise needed, the result is the posterior mean (= x̂₀ since ᾱ_prev = 1)
    StepOutput o = s.step(m, 0, x, null);
    assertArrayEquals(o.predOriginalSample, o.prevSample);
    // t > 0: noise changes the result and is required
    assertThrows(IllegalArgumentException.class, () -> s.step(m, 100, x, null));
    StepOutput a = s.step(m, 100, x, new float[6]);
    float[] ones = new float[6];
    java.util.Arrays.fill(ones, 1f);
    StepOutput b = s.step(m, 100, x, ones);
    float sigma = b.prevSample[0] - a.prevSample[0];
    // fixed_small: σ² = (1 − ᾱ_0)/(1 − ᾱ_100)·(1 − ᾱ_100/ᾱ_0)
    NoiseSchedule ns = s.schedule();
    double a100 = ns.alphaCumprod(100);
    double a0 = ns.alphaCumprod(0);
    double expected = Math.sqrt((1 - a0) / (1 - a100) * (1 - a100 / a0));
    assertEquals(expected, sigma, 1e-6);
  }

  @Test
  void ddpmFixedLargeUsesBeta() {
    DdpmScheduler s = new DdpmScheduler(new SchedulerConfig().varianceType("fixed_large"));
    s.setTimesteps(1000);
    float[] x = ramp(4, 0.2f, 0.1f);
    float[] ones = {1, 1, 1, 1};
    float sigma = s.step(x, 500, x, ones).prevSample[0] - s.step(x, 500, x, new float[4]).prevSample[0];
    // every timestep visited: 1 − ᾱ_t/ᾱ_{t−1} = β_t up to float32 rounding
    assertEquals(Math.sqrt(s.schedule().beta(500)), sigma, 2e-5);
  }

  @Test
  void ddimEtaControlsNoise() {
    DdimScheduler det = new DdimScheduler(new SchedulerConfig(), 0);
    det.setTimesteps(10);
    assertFalse(det.addsNoise(500));
    DdimScheduler sto = new DdimScheduler(new SchedulerConfig(), 1);
    sto.setTimesteps(10);
    assertTrue(sto.addsNoise(500));
    UserException e = assertThrows(UserException.class, () -> new DdimScheduler(new SchedulerConfig(), 1.5));
    assertTrue(e.getMessage().startsWith("eta must be between 0 and 1; got 1.5."), e.getMessage());
  }

  @Test
  void thresholdingQuantileIsTorchQuantileLinear() {
    // |x| = 0..5: q = 0.5 -> rank 2.5 -> 2.5 (numpy/torch); clamp to [1, 10] -> s = 2.5
    float[] x = {0, -1, 2, -3, 4, -5};
    AbstractScheduler.threshold(x, 0.5f, 10f);
    assertArrayEquals(new float[] {0, -1 / 2.5f, 2 / 2.5f, -1, 1, -1}, x);
    // q = 0.995 -> rank 4.975 -> 4.975; capped by sample_max_value = 3
    float[] y = {0, -1, 2, -3, 4, -5};
    AbstractScheduler.threshold(y, 0.995f, 3f);
    assertArrayEquals(new float[] {0, -1 / 3f, 2 / 3f, -1, 1, -1}, y);
    // quantile below 1: s = 1, i.e. plain clipping to [-1, 1]
    float[] z = {0.5f, -0.25f, 0.1f, 2f};
    AbstractScheduler.threshold(z, 0.5f, 5f);
    assertArrayEquals(new float[] {0.5f, -0.25f, 0.1f, 1f}, z);
  }

  @Test
  void clippingUsesClipSampleRange() {
    DdimScheduler s = new DdimScheduler(new SchedulerConfig().predictionType("sample").clipSampleRange(0.5));
    s.setTimesteps(10);
    StepOutput o = s.step(new float[] {-2, 0.25f, 3}, 500, new float[] {0, 0, 0}, null);
    assertArrayEquals(new float[] {-0.5f, 0.25f, 0.5f}, o.predOriginalSample);
    // ε̂ is derived from x̂₀ before clipping (diffusers' pred_epsilon)
    float a = s.alphaCumprod(500);
    float expected = (0 - (float) Math.sqrt(a) * -2f) / (float) Math.sqrt(1f - a);
    assertEquals(expected, o.predEpsilon[0]);
  }

  @Test
  void factoryAndMisuse() {
    SchedulerConfig c = new SchedulerConfig();
    assertTrue(DiffusionScheduler.create("DDIM", c, 0.3) instanceof DdimScheduler);
    assertTrue(DiffusionScheduler.create("DDIMScheduler", c, 0) instanceof DdimScheduler);
    assertTrue(DiffusionScheduler.create("ddpm", c, 0) instanceof DdpmScheduler);
    assertThrows(UserException.class, () -> DiffusionScheduler.create("ddpm", c, 0.5));
    UserException e = assertThrows(UserException.class, () -> DiffusionScheduler.create("euler", c, 0));
    assertTrue(e.getMessage().contains("\"euler\""), e.getMessage());
    DdpmScheduler s = new DdpmScheduler(c);
    assertEquals(0, s.numInferenceSteps());
    assertThrows(IllegalStateException.class, () -> s.step(new float[1], 0, new float[1], null));
    s.setTimesteps(5);
    float[] x = new float[2];
    StepOutput shared = new StepOutput(2);
    assertThrows(IllegalArgumentException.class, () -> s.step(new float[3], 0, x, null));
    assertThrows(IllegalArgumentException.class,
        () -> s.step(shared.prevSample, 0, x, null, shared)); // output aliasing an input
  }

  @Test
  void configIsCopied() {
    SchedulerConfig c = new SchedulerConfig();
    DdimScheduler s = new DdimScheduler(c);
    c.predictionType("sample");
    assertEquals(SchedulerConfig.PredictionType.EPSILON, s.config().predictionType());
  }
}
