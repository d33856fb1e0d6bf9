package org.diffxai.core;

/**
 * A diffusion denoiser: maps a batch of noisy samples at training timesteps to the model output whose meaning is given
 * by the scheduler's {@code prediction_type} (epsilon, v_prediction or sample). All arrays are flattened NHWC float32
 * in model space.
 */
public interface Denoiser extends AutoCloseable {

  int height();

  int width();

  int channels();

  /** Number of condition channels K (0 when the model takes no {@code condition} input). */
  int conditionChannels();

  /** True when the model takes a {@code label} input (class-conditional). */
  boolean classConditional();

  /**
   * The label value that stands for "no class" (the unconditional model a network trained with label dropout also
   * learned; classifier-free guidance needs it), or -1 when the model has none.
   */
  default int unconditionalLabel() {
    return -1;
  }

  /**
   * @param x noisy samples, n*H*W*C values
   * @param t training timesteps (e.g. 981.0), n values
   * @param labels class indices, n values, or null when not class-conditional
   * @param condition condition channels, n*H*W*K values, or null when K = 0
   * @param n batch size
   * @return model output, n*H*W*C values
   */
  float[] predict(float[] x, float[] t, int[] labels, float[] condition, int n);

  @Override
  void close();
}
