package org.diffxai.core;

/**
 * diffusers' {@code DDPMScheduler} (Ho et al. 2020, "Denoising Diffusion Probabilistic Models"): ancestral sampling
 * from the posterior q(x_{t'} | x_t, x̂₀) between consecutive inference timesteps t &gt; t'.
 *
 * <p>Per step, with t' the next timestep in the list (−1 after the last one, diffusers' {@code previous_timestep}),
 * ᾱ_{t'} = 1 when t' &lt; 0, α = ᾱ_t/ᾱ_{t'} and β = 1 − α (these are β_t and α_t when every timestep is visited):
 *
 * <ol>
 * <li>x̂₀ from the model output (prediction_type), then clip_sample / dynamic thresholding.
 * <li>posterior mean μ = √ᾱ_{t'}·β/(1−ᾱ_t) · x̂₀ + √α·(1−ᾱ_{t'})/(1−ᾱ_t) · x_t (Ho et al. 2020, Eq. 7).
 * <li>if t &gt; 0: x_{t'} = μ + σ·z with σ² = max((1−ᾱ_{t'})/(1−ᾱ_t)·β, 1e−20) for {@code fixed_small} (β̃_t, Eq. 7)
 * or σ² = β for {@code fixed_large} (Sec. 3.2); else x_{t'} = μ.
 * </ol>
 */
public final class DdpmScheduler extends AbstractScheduler {

  public DdpmScheduler(SchedulerConfig config) {
    super(config);
  }

  /** The timestep after t in the list, or −1 after the last one (diffusers' {@code previous_timestep}). */
  public int previousTimestep(int t) {
    int i = indexOf(t);
    return i == timesteps.length - 1 ? -1 : timesteps[i + 1];
  }

  @Override
  public boolean addsNoise(int timestep) {
    return timestep > 0;
  }

  @Override
  public void step(float[] m, int t, float[] x, float[] noise, StepOutput out) {
    checkStep(m, t, x, noise, out);
    int prevT = previousTimestep(t);
    float alphaProdT = schedule.alphaCumprod(t);
    float alphaProdPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : 1f;
    float betaProdT = 1f - alphaProdT;
    float betaProdPrev = 1f - alphaProdPrev;
    float currentAlpha = alphaProdT / alphaProdPrev;
    float currentBeta = 1f - currentAlpha;

    float[] x0 = out.predOriginalSample;
    predict(m, x, alphaProdT, x0, out.predEpsilon);
    clipOrThreshold(x0);

    // Ho et al. 2020, Eq. 7: coefficients of x̂₀ and x_t in the posterior mean
    float x0Coeff = (float) Math.sqrt(alphaProdPrev) * currentBeta / betaProdT;
    float xtCoeff = (float) Math.sqrt(currentAlpha) * betaProdPrev / betaProdT;
    float[] prev = out.prevSample;
    int n = x.length;
    for (int i = 0; i < n; i++) prev[i] = x0Coeff * x0[i] + xtCoeff * x[i];

    if (t > 0) {
      float variance;
      if (config.varianceType() == SchedulerConfig.VarianceType.FIXED_LARGE) {
        variance = currentBeta;
      } else {
        variance = Math.max(betaProdPrev / betaProdT * currentBeta, 1e-20f);
      }
      float sigma = (float) Math.sqrt(variance);
      for (int i = 0; i < n; i++) prev[i] = prev[i] + sigma * noise[i];
    }
  }
}
