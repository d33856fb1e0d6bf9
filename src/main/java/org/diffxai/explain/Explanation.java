package org.diffxai.explain;

import java.util.Collections;
import java.util.List;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.core.PrototypeMapKind;

/** Why a prototype network classified one image (one slice) as it did. */
public final class Explanation {

  /** One of the prototypes that contribute most to the target class's logit. */
  public static final class Contribution {
    /** 1 = largest contribution. */
    public final int rank;
    public final int prototype;
    public final PrototypeInfo info;
    /** The score the last layer weighs (max similarity; ProtoPool: focal similarity). */
    public final double similarity;
    /** Last-layer weight from this prototype to the target class. */
    public final double weight;
    /** similarity × weight: this prototype's share of the target logit. */
    public final double contribution;
    /**
     * The prototype's pixel map in the explained image's pixels, width·height values, row-major: the similarity map
     * upsampled (bicubic, {@code PrototypeMaps}) for {@link PrototypeMapKind#UPSAMPLE}, else the gradient map of the
     * prototype's score of the explanation's {@link Explanation#mapKind}.
     */
    public final float[] map;
    /** {x, y, w, h} in the explained image's pixels around the map's values at or above its 95th percentile. */
    public final int[] box;

    Contribution(int rank, int prototype, PrototypeInfo info, double similarity, double weight, float[] map,
        int[] box) {
      this.rank = rank;
      this.prototype = prototype;
      this.info = info;
      this.similarity = similarity;
      this.weight = weight;
      this.contribution = similarity * weight;
      this.map = map;
      this.box = box;
    }
  }

  /** 0-based plane of the explained stack. */
  public final int slice;
  /** The plane's slice label, or null. */
  public final String label;
  public final float[] logits;
  /** Calibrated class probabilities, softmax(logits / T) with the model's temperature (docs/confidence.md). */
  public final double[] probabilities;
  public final int predicted;
  /** The class explained: the predicted one unless another was asked for. */
  public final int target;
  /**
   * Out of distribution: the network has not seen the like of this image (a statistic of its distances to the
   * prototypes, or of its pixels outside the training range, above the validation maximum; docs/confidence.md).
   */
  public final boolean ood;
  /** Ranked by contribution, largest first. */
  public final List<Contribution> top;
  /** How the prototypes' maps were made. */
  public final PrototypeMapKind mapKind;

  Explanation(int slice, String label, float[] logits, double[] probabilities, int predicted, int target,
      boolean ood, List<Contribution> top, PrototypeMapKind mapKind) {
    this.slice = slice;
    this.label = label;
    this.logits = logits;
    this.probabilities = probabilities;
    this.predicted = predicted;
    this.target = target;
    this.ood = ood;
    this.top = Collections.unmodifiableList(top);
    this.mapKind = mapKind;
  }
}
