package org.diffxai.core;

import java.util.Arrays;

/**
 * What DDPM and DDIM share: configuration, schedule, timesteps, the x̂₀/ε̂ parameterisations, and clipping or dynamic
 * thresholding of x̂₀.
 *
 * <p>Numerics: every element-wise operation is done in float32 in the order of diffusers' torch expressions (each
 * +, −, ×, ÷ and √ rounded to float once, no fused multiply-add), and the per-step scalars (ᾱ_t, 1 − ᾱ_t, √…) are
 * float32 like diffusers' 0-dim tensors. Java's float arithmetic is IEEE 754 single precision with round-to-nearest,
 * so results are identical on every JVM.
 */
abstract class AbstractScheduler implements DiffusionScheduler {
  protected final SchedulerConfig config;
  protected final NoiseSchedule schedule;
  protected final int numTrain;
  protected int[] timesteps = new int[0];
  protected int numInferenceSteps;

  AbstractScheduler(SchedulerConfig config) {
    this.config = new SchedulerConfig(config);
    this.schedule = NoiseSchedule.of(this.config); // validates trained_betas and 0 < ᾱ_t < 1
    this.numTrain = this.config.numTrainTimesteps();
  }

  @Override
  public SchedulerConfig config() {
    return new SchedulerConfig(config);
  }

  @Override
  public NoiseSchedule schedule() {
    return schedule;
  }

  @Override
  public void setTimesteps(int steps) {
    timesteps = Timesteps.of(config, steps);
    numInferenceSteps = steps;
  }

  @Override
  public int numInferenceSteps() {
    return numInferenceSteps;
  }

  @Override
  public int[] timesteps() {
    return timesteps.clone();
  }

  /** Index of t in the timestep list (the first occurrence, like {@code (timesteps == t).nonzero()[0]}). */
  protected int indexOf(int t) {
    for (int i = 0; i < timesteps.length; i++) {
      if (timesteps[i] == t) return i;
    }
    if (numInferenceSteps == 0) throw new IllegalStateException("Call setTimesteps(steps) before step().");
    throw new IllegalArgumentException("Timestep " + t + " is not one of " + Arrays.toString(timesteps));
  }

  protected void checkStep(float[] modelOutput, int t, float[] sample, float[] noise, StepOutput out) {
    if (numInferenceSteps == 0) throw new IllegalStateException("Call setTimesteps(steps) before step().");
    if (t < 0 || t >= numTrain) throw new IllegalArgumentException("Timestep " + t + " outside [0, " + numTrain + ")");
    int n = sample.length;
    if (modelOutput.length != n || out.size() != n) {
      throw new IllegalArgumentException("Model output (" + modelOutput.length + "), sample (" + n + ") and output ("
          + out.size() + ") lengths differ");
    }
    if (addsNoise(t) && (noise == null || noise.length != n)) {
      throw new IllegalArgumentException("This step adds noise: give " + n + " noise values");
    }
    if (out.prevSample == sample || out.predOriginalSample == sample || out.predEpsilon == sample
        || out.prevSample == modelOutput || out.predOriginalSample == modelOutput || out.predEpsilon == modelOutput) {
      throw new IllegalArgumentException("The step output must not share arrays with the inputs");
    }
  }

  /**
   * x̂₀ and ε̂ from the model output at ᾱ_t, before clipping.
   *
   * <ul>
   * <li>epsilon: x̂₀ = (x_t − √(1−ᾱ_t)·ε̂) / √ᾱ_t (Ho et al. 2020, Eq. 15; Song et al. 2021, Eq. 12 "predicted x₀").
   * <li>sample: x̂₀ = output; ε̂ = (x_t − √ᾱ_t·x̂₀) / √(1−ᾱ_t) (inverting Ho et al. 2020, Eq. 4).
   * <li>v_prediction: x̂₀ = √ᾱ_t·x_t − √(1−ᾱ_t)·v̂; ε̂ = √ᾱ_t·v̂ + √(1−ᾱ_t)·x_t (Salimans &amp; Ho 2022, Sec. 4 and
   * Appendix D).
   * </ul>
   */
  protected void predict(float[] m, float[] x, float alphaProdT, float[] x0, float[] eps) {
    float sqrtA = (float) Math.sqrt(alphaProdT);
    float sqrtB = (float) Math.sqrt(1f - alphaProdT);
    int n = x.length;
    switch (config.predictionType()) {
      case EPSILON:
        for (int i = 0; i < n; i++) {
          x0[i] = (x[i] - sqrtB * m[i]) / sqrtA;
          eps[i] = m[i];
        }
        break;
      case SAMPLE:
        for (int i = 0; i < n; i++) {
          x0[i] = m[i];
          eps[i] = (x[i] - sqrtA * m[i]) / sqrtB;
        }
        break;
      case V_PREDICTION:
        for (int i = 0; i < n; i++) {
          x0[i] = sqrtA * x[i] - sqrtB * m[i];
          eps[i] = sqrtA * m[i] + sqrtB * x[i];
        }
        break;
      default:
        throw new AssertionError(config.predictionType());
    }
  }

  /**
   * diffusers: {@code if thresholding: _threshold_sample(x0) elif clip_sample: x0.clamp(-range, range)}, in place.
   */
  protected void clipOrThreshold(float[] x0) {
    if (config.thresholding()) {
      threshold(x0, (float) config.dynamicThresholdingRatio(), (float) config.sampleMaxValue());
    } else if (config.clipSample()) {
      float r = (float) config.clipSampleRange();
      for (int i = 0; i < x0.length; i++) x0[i] = clamp(x0[i], -r, r);
    }
  }

  /**
   * Dynamic thresholding (Saharia et al. 2022, Sec. 2.3 "Imagen"): s = the {@code ratio}-quantile of |x̂₀| over all
   * elements of this one sample, clamped to [1, sampleMaxValue]; then x̂₀ ← clamp(x̂₀, −s, s) / s. The quantile is
   * {@code torch.quantile} with linear interpolation in float32: rank = q·(n−1), lower = ⌊rank⌋, upper = ⌈rank⌉,
   * w = rank − lower, value = torch's lerp (w &lt; 0.5 ? a + w·(b−a) : b − (b−a)·(1−w)). A NaN anywhere gives s = NaN,
   * as in torch. Package-visible for tests.
   */
  static void threshold(float[] x0, float ratio, float sampleMaxValue) {
    int n = x0.length;
    float[] sorted = new float[n];
    for (int i = 0; i < n; i++) sorted[i] = Math.abs(x0[i]);
    Arrays.sort(sorted); // NaN sorts last, so a NaN makes the quantile NaN as in torch.quantile
    float rank = ratio * (float) (n - 1);
    int lo = (int) rank;
    int hi = (int) Math.ceil(rank);
    float w = rank - (float) lo;
    float a = sorted[lo];
    float b = sorted[hi];
    float q = Math.abs(w) < 0.5f ? a + w * (b - a) : b - (b - a) * (1f - w);
    if (Float.isNaN(sorted[n - 1])) q = Float.NaN;
    float s = Math.min(Math.max(q, 1f), sampleMaxValue); // torch.clamp(s, min=1, max=sample_max_value)
    for (int i = 0; i < n; i++) x0[i] = clamp(x0[i], -s, s) / s;
  }

  /** torch.clamp: min(max(v, lo), hi); NaN stays NaN. */
  static float clamp(float v, float lo, float hi) {
    return Math.min(Math.max(v, lo), hi);
  }
}
