package org.diffxai.core;

/**
 * What one scheduler step produces for one sample (flattened arrays of equal length). Reusable: pass the same instance
 * to {@link DiffusionScheduler#step(float[], int, float[], float[], StepOutput)} at every step to avoid allocation.
 */
public final class StepOutput {
  /** x_{t−1}: the sample for the next step (the final sample after the last step). */
  public final float[] prevSample;

  /**
   * x̂₀: the predicted clean sample after clipping or dynamic thresholding (diffusers' {@code pred_original_sample}).
   */
  public final float[] predOriginalSample;

  /**
   * ε̂: the predicted noise. The model output for {@code epsilon}; otherwise derived from the model output and x_t
   * before clipping (diffusers' DDIM {@code pred_epsilon}).
   */
  public final float[] predEpsilon;

  public StepOutput(int size) {
    prevSample = new float[size];
    predOriginalSample = new float[size];
    predEpsilon = new float[size];
  }

  public int size() {
    return prevSample.length;
  }
}
