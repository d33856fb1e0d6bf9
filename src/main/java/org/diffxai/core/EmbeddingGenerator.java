package org.diffxai.core;

/**
 * A class-conditional denoiser run as a deterministic generator x₀ = G(e, x_T): a fixed number of DDIM steps (η = 0)
 * from the initial noise x_T, with the class embedding e (the vector the network adds to its time embedding) as an
 * input instead of a label, and the vector–Jacobian product of G with respect to e. What Optimise Conditioning
 * differentiates through. Images are in model space (the denoiser's intensity mapping turns them into image
 * intensity).
 */
public interface EmbeddingGenerator extends AutoCloseable {

  int height();

  int width();

  int channels();

  /** Length of one class-embedding vector. */
  int embeddingDim();

  /** The learned embedding of class {@code label} (0 ≤ label &lt; {@link #classes()}). */
  float[] embedding(int label);

  /** Number of classes (rows of the embedding table, without a "no class" row). */
  int classes();

  /** The DDIM timesteps the generator runs, first to last. */
  int[] timesteps();

  /**
   * @param e the class embedding, {@link #embeddingDim()} values
   * @param xT initial noise, n·H·W·C values (NHWC)
   * @return the generated images x₀, n·H·W·C values, model space
   */
  float[] generate(float[] e, float[] xT, int n);

  /**
   * ∂(Σ u·G(e, x_T)) / ∂e, {@link #embeddingDim()} values.
   *
   * @param u the cotangent (e.g. ∂objective/∂x₀), n·H·W·C values
   */
  float[] embeddingGradient(float[] e, float[] xT, int n, float[] u);

  @Override
  void close();
}
