package org.diffxai.core;

import java.util.List;

/**
 * An image classifier called in batches. Images are flattened NHWC float32 in <em>image</em> intensity (what the user
 * sees); an implementation applies its own intensity mapping to model space. The contract of classifier bundles
 * (SavedModel {@code serving_default}: {@code x} [N,H,W,C] to {@code logits} [N,K]) is in docs/classifiers.md.
 */
public interface Classifier extends AutoCloseable {

  int height();

  int width();

  int channels();

  /** Class names, K entries, in logit order. */
  List<String> classNames();

  /**
   * @param x n*H*W*C values, image intensity
   * @param n batch size (any n &gt;= 1; implementations split into their own batches)
   * @return logits [n][K]
   */
  float[][] logits(float[] x, int n);

  /**
   * The classifier's calibration temperature and OOD threshold (docs/confidence.md); {@link Confidence#NONE} (T = 1,
   * no threshold) unless the model stores them.
   */
  default Confidence confidence() {
    return Confidence.NONE;
  }

  /**
   * Calibrated class probabilities softmax(logits / T) [n][K], T = {@link #confidence()}'s temperature: the
   * probabilities every table and decision should show.
   */
  default double[][] probabilities(float[] x, int n) {
    return confidence().probabilities(logits(x, n));
  }

  @Override
  default void close() {}
}
