package org.diffxai.tf;

/**
 * The DDPM training noise schedule: diffusers' {@code DDPMScheduler} with {@code beta_schedule="linear"}.
 * Kept small on purpose: org.diffxai.core's scheduler can replace it (same numbers).
 */
public final class NoiseSchedule {
  public static final int NUM_TRAIN_TIMESTEPS = 1000;
  public static final float BETA_START = 1e-4f;
  public static final float BETA_END = 0.02f;

  private NoiseSchedule() {}

  /**
   * ᾱ_t = ∏_{s≤t} (1 − β_s) with β linearly spaced from {@code betaStart} to {@code betaEnd} (Ho et al. 2020, §4),
   * as float32 cumulative product like {@code torch.cumprod(1 - betas)} over {@code torch.linspace(..., float32)}.
   */
  public static float[] alphasCumprod(int steps, float betaStart, float betaEnd) {
    if (steps < 2) throw new IllegalArgumentException("steps must be >= 2");
    float[] ac = new float[steps];
    float prod = 1f;
    for (int i = 0; i < steps; i++) {
      float beta = (float) (betaStart + (double) (betaEnd - betaStart) * i / (steps - 1));
      prod *= 1f - beta;
      ac[i] = prod;
    }
    return ac;
  }

  /** The standard schedule: 1000 steps, β from 1e-4 to 0.02. */
  public static float[] alphasCumprod() {
    return alphasCumprod(NUM_TRAIN_TIMESTEPS, BETA_START, BETA_END);
  }
}
