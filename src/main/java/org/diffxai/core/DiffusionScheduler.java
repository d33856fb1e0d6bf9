package org.diffxai.core;

import java.util.Locale;

/**
 * A diffusers-style scheduler: {@link #setTimesteps(int)} then one {@link #step} per timestep, on one sample's
 * flattened array at a time (per-sample operations such as dynamic thresholding therefore see exactly one sample, as
 * diffusers does per batch item).
 */
public interface DiffusionScheduler {

  /** The configuration (a copy; changing it does not change the scheduler). */
  SchedulerConfig config();

  /** The training noise schedule. */
  NoiseSchedule schedule();

  /**
   * Chooses the inference timesteps for a run of {@code steps} steps (diffusers' {@code set_timesteps}).
   *
   * @throws UserException when steps is not between 1 and num_train_timesteps
   */
  void setTimesteps(int steps);

  /** Number of inference steps set by {@link #setTimesteps(int)}, 0 before. */
  int numInferenceSteps();

  /** The inference timesteps, descending (a copy). */
  int[] timesteps();

  /** ᾱ_t (float32) for a training timestep t in [0, N). */
  default float alphaCumprod(int t) {
    return schedule().alphaCumprod(t);
  }

  /**
   * True when the step at this timestep adds noise and therefore needs a non-null {@code noise} array (DDPM: t &gt; 0;
   * DDIM: η &gt; 0). Samplers draw noise only for such steps.
   */
  boolean addsNoise(int timestep);

  /**
   * One reverse step for one sample.
   *
   * @param modelOutput the denoiser's output for this sample (meaning given by prediction_type)
   * @param timestep the current timestep t, one of {@link #timesteps()}
   * @param sample x_t
   * @param noise standard-normal values of the same length when {@link #addsNoise(int)}, else ignored (may be null)
   * @param out receives x_{t−1}, x̂₀ and ε̂ (must not share arrays with the inputs)
   */
  void step(float[] modelOutput, int timestep, float[] sample, float[] noise, StepOutput out);

  /** {@link #step(float[], int, float[], float[], StepOutput)} into a new {@link StepOutput}. */
  default StepOutput step(float[] modelOutput, int timestep, float[] sample, float[] noise) {
    StepOutput out = new StepOutput(sample.length);
    step(modelOutput, timestep, sample, noise, out);
    return out;
  }

  /**
   * A scheduler by name.
   *
   * @param kind "ddpm" or "ddim" (any case), or diffusers' class names "DDPMScheduler" / "DDIMScheduler"
   * @param eta DDIM's η in [0, 1] (0 = deterministic DDIM); must be 0 for DDPM
   */
  static DiffusionScheduler create(String kind, SchedulerConfig config, double eta) {
    String k = kind == null ? "" : kind.trim().toLowerCase(Locale.ROOT);
    if (k.equals("ddpm") || k.equals("ddpmscheduler")) {
      if (eta != 0) {
        throw new UserException("eta=" + eta + " applies to the DDIM sampler only; use sampler=ddim or eta=0.");
      }
      return new DdpmScheduler(config);
    }
    if (k.equals("ddim") || k.equals("ddimscheduler")) return new DdimScheduler(config, eta);
    throw new UserException("Unknown sampler \"" + kind + "\"; use \"ddpm\" or \"ddim\".");
  }
}
