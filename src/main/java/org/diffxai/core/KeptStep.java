package org.diffxai.core;

/** One kept step of a sampling run, known before the run (so writers can size their output). */
public final class KeptStep {
  /** 0-based position among the kept steps. */
  public final int keptIndex;
  /** 0-based inference step index i (step i of S). */
  public final int stepIndex;
  /** The training timestep t fed to the model at this step. */
  public final int timestep;
  /** ᾱ_t (float32 value, widened). */
  public final double alphaCumprod;

  public KeptStep(int keptIndex, int stepIndex, int timestep, double alphaCumprod) {
    this.keptIndex = keptIndex;
    this.stepIndex = stepIndex;
    this.timestep = timestep;
    this.alphaCumprod = alphaCumprod;
  }

  @Override
  public String toString() {
    return "KeptStep[kept=" + keptIndex + ", step=" + stepIndex + ", t=" + timestep + ", alphaCumprod=" + alphaCumprod
        + "]";
  }
}
