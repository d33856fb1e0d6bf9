package org.diffxai.core;

/**
 * The state of all samples at one kept step: x_t as fed to the model, and the model's x̂₀ and ε̂ at that step. Arrays
 * are indexed [sample][flattened H·W·C] in model space.
 */
public final class TrajectoryFrame {
  /** 0-based position among the kept steps. */
  public final int keptIndex;
  /** 0-based inference step index. */
  public final int stepIndex;
  /** Training timestep t of this step. */
  public final int timestep;
  /** ᾱ_t (float32 value, widened). */
  public final double alphaCumprod;
  /** x_t per sample: the sample fed to the model at this step. */
  public final float[][] xt;
  /** x̂₀ per sample, after clipping / dynamic thresholding (diffusers' pred_original_sample). */
  public final float[][] predOriginal;
  /**
   * ε̂ per sample: the model output for prediction_type epsilon, otherwise derived from the model output and x_t
   * (before clipping of x̂₀).
   */
  public final float[][] predEpsilon;

  public TrajectoryFrame(KeptStep step, float[][] xt, float[][] predOriginal, float[][] predEpsilon) {
    this.keptIndex = step.keptIndex;
    this.stepIndex = step.stepIndex;
    this.timestep = step.timestep;
    this.alphaCumprod = step.alphaCumprod;
    this.xt = xt;
    this.predOriginal = predOriginal;
    this.predEpsilon = predEpsilon;
  }

  /** Number of samples. */
  public int samples() {
    return xt.length;
  }
}
