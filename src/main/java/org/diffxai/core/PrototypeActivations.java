package org.diffxai.core;

/** What a prototype network computes for a batch of n images. */
public final class PrototypeActivations {

  /** [n][K] */
  public final float[][] logits;
  /** [n][P]: the per-prototype score the last layer weighs (max similarity; ProtoPool: focal similarity). */
  public final float[][] scores;
  /** [n][h*w*P], row-major (h, w, P): similarity of every latent patch to every prototype. */
  public final float[][] similarity;
  /** [n][P]: minimum distance of each prototype to the image's latent patches. */
  public final float[][] minDistances;

  public PrototypeActivations(float[][] logits, float[][] scores, float[][] similarity, float[][] minDistances) {
    this.logits = logits;
    this.scores = scores;
    this.similarity = similarity;
    this.minDistances = minDistances;
  }
}
