package org.diffxai.core;

/**
 * A prototype network (PPNet, EPPNet, ProtoPool): logits are a linear function of one score per prototype,
 * {@code logits[k] = sum_p lastLayer()[k][p] * scores[p]}, and each prototype is tied by the push step to a patch of a
 * training image ({@link PrototypeInfo}).
 */
public interface PrototypeClassifier extends Classifier {

  /** Method name as in the bundle: PPNet, EPPNet or ProtoPool. */
  String method();

  /** Number of prototypes P. */
  int prototypes();

  /** Height h of the latent grid (and of the similarity maps). */
  int mapHeight();

  /** Width w of the latent grid. */
  int mapWidth();

  /** Depth D of a latent patch and of a prototype vector. */
  int featureDepth();

  /** The effective last layer [K][P] (for ProtoPool: slot weights folded onto the pool prototypes). */
  float[][] lastLayer();

  /** The pushed prototype vectors [P][D]. */
  float[][] prototypeVectors();

  /** Provenance of prototype p (0 &lt;= p &lt; P). */
  PrototypeInfo prototype(int p);

  /** Logits, per-prototype scores, similarity maps and minimum distances of n images (image intensity, NHWC). */
  PrototypeActivations activations(float[] x, int n);

  /** Latent features [n][h*w*D] (row-major h, w, D) of n images. */
  float[][] features(float[] x, int n);
}
