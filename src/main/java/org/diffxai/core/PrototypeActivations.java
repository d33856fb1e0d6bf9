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
  /** [n][K]: calibrated class probabilities softmax(logits / T) (docs/confidence.md). */
  public final double[][] probabilities;
  /** [n]: the nearest-part OOD statistic ({@link Confidence#nearestPart}). */
  public final double[] nearestPart;
  /** [n]: the class-coverage OOD statistic ({@link Confidence#classCoverage}); NaN without class prototype sets. */
  public final double[] classCoverage;
  /** [n]: the share of pixels outside the input range ({@link Confidence#outOfRange}); NaN when unknown. */
  public final double[] outOfRange;
  /** [n]: true when the image is out of distribution for this network ({@link Confidence#isOod}). */
  public final boolean[] ood;

  /** Activations with probabilities at temperature 1 and no OOD flags ({@link Confidence#NONE}). */
  public PrototypeActivations(float[][] logits, float[][] scores, float[][] similarity, float[][] minDistances) {
    this(logits, scores, similarity, minDistances, Confidence.NONE, null);
  }

  /**
   * Activations whose probabilities and OOD flags follow {@code confidence}.
   *
   * @param x the n images (image intensity, NHWC) for the out-of-range share, or null to leave it out
   */
  public PrototypeActivations(float[][] logits, float[][] scores, float[][] similarity, float[][] minDistances,
      Confidence confidence, float[] x) {
    int n = minDistances.length;
    this.logits = logits;
    this.scores = scores;
    this.similarity = similarity;
    this.minDistances = minDistances;
    this.probabilities = confidence.probabilities(logits);
    this.nearestPart = new double[n];
    this.classCoverage = new double[n];
    this.outOfRange = new double[n];
    this.ood = new boolean[n];
    int px = x == null ? 0 : x.length / n;
    for (int i = 0; i < n; i++) {
      nearestPart[i] = Confidence.nearestPart(minDistances[i]);
      classCoverage[i] = confidence.classCoverage(minDistances[i]);
      outOfRange[i] = x == null ? Double.NaN : confidence.outOfRange(x, i * px, px);
      ood[i] = confidence.isOod(minDistances[i], outOfRange[i]);
    }
  }
}
