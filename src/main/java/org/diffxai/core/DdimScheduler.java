package org.diffxai.core;

/**
 * diffusers' {@code DDIMScheduler} (Song et al. 2021, "Denoising Diffusion Implicit Models").
 *
 * <p>Per step, with t' = t − N // S (diffusers' formula, used for every timestep_spacing — with {@code trailing} or
 * {@code linspace} spacing it need not be the next timestep in the list, exactly as in diffusers) and ᾱ_{t'} =
 * final_alpha_cumprod when t' &lt; 0 (1 if set_alpha_to_one, else ᾱ_0):
 *
 * <ol>
 * <li>x̂₀ and ε̂ from the model output (prediction_type); ε̂ uses x̂₀ before clipping; then clip_sample / dynamic
 * thresholding of x̂₀.
 * <li>σ_t = η·√((1−ᾱ_{t'})/(1−ᾱ_t)·(1 − ᾱ_t/ᾱ_{t'})) (Song et al. 2021, Eq. 16).
 * <li>x_{t'} = √ᾱ_{t'}·x̂₀ + √(1−ᾱ_{t'}−σ_t²)·ε̂ (+ σ_t·z when η &gt; 0) (Song et al. 2021, Eq. 12).
 * </ol>
 */
public final class DdimScheduler extends AbstractScheduler {
  private final double eta;
  private final float finalAlphaCumprod;

  /** Deterministic DDIM (η = 0). */
  public DdimScheduler(SchedulerConfig config) {
    this(config, 0.0);
  }

  /**
   * @param eta η in [0, 1]: 0 is deterministic DDIM, 1 has DDPM-like variance
   */
  public DdimScheduler(SchedulerConfig config, double eta) {
    super(config);
    if (!(eta >= 0 && eta <= 1)) {
      throw new UserException("eta must be between 0 and 1; got " + eta + ". Use eta=0 for deterministic DDIM.");
    }
    this.eta = eta;
    this.finalAlphaCumprod = this.config.setAlphaToOne() ? 1f : schedule.alphaCumprod(0);
  }

  public double eta() {
    return eta;
  }

  /** ᾱ used after the last step: 1 when set_alpha_to_one, else ᾱ_0. */
  public float finalAlphaCumprod() {
    return finalAlphaCumprod;
  }

  /** t − num_train_timesteps // steps (negative after the last step). */
  public int previousTimestep(int t) {
    if (numInferenceSteps == 0) throw new IllegalStateException("Call setTimesteps(steps) before step().");
    return t - numTrain / numInferenceSteps;
  }

  @Override
  public boolean addsNoise(int timestep) {
    return eta > 0;
  }

  @Override
  public void step(float[] m, int t, float[] x, float[] noise, StepOutput out) {
    checkStep(m, t, x, noise, out);
    int prevT = previousTimestep(t);
    float alphaProdT = schedule.alphaCumprod(t);
    float alphaProdPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : finalAlphaCumprod;
    float betaProdT = 1f - alphaProdT;

    float[] x0 = out.predOriginalSample;
    float[] eps = out.predEpsilon;
    predict(m, x, alphaProdT, x0, eps);
    clipOrThreshold(x0);

    // Song et al. 2021, Eq. 16
    float betaProdPrev = 1f - alphaProdPrev;
    float variance = betaProdPrev / betaProdT * (1f - alphaProdT / alphaProdPrev);
    float sigma = (float) eta * (float) Math.sqrt(variance);

    // Song et al. 2021, Eq. 12: "direction pointing to x_t" and the predicted x_{t-1}. diffusers would take the
    // square root of a rounding-negative number (NaN); it is clamped at 0 here.
    float dirCoeff = (float) Math.sqrt(Math.max(1f - alphaProdPrev - sigma * sigma, 0f));
    float sqrtAlphaPrev = (float) Math.sqrt(alphaProdPrev);
    float[] prev = out.prevSample;
    int n = x.length;
    for (int i = 0; i < n; i++) prev[i] = sqrtAlphaPrev * x0[i] + dirCoeff * eps[i];
    if (eta > 0) {
      for (int i = 0; i < n; i++) prev[i] = prev[i] + sigma * noise[i];
    }
  }
}
