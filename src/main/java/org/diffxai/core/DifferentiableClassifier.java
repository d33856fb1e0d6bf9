package org.diffxai.core;

/**
 * A classifier that also gives the gradient of one scalar of its outputs per image with respect to its input pixels,
 * in image intensity units (what the user sees; an implementation applies the chain rule through its own intensity
 * mapping). Attribution maps, gradient-based prototype maps, metrics and guided sampling share this interface;
 * engines implement it where they can build a gradient (TensorFlow graphs, PyTorch autograd).
 */
public interface DifferentiableClassifier extends Classifier {

  /** What to differentiate, per image. */
  enum Kind {
    /** The logit of class {@code index}. */
    LOGIT,
    /** log softmax of the logits at class {@code index}. */
    LOG_PROBABILITY,
    /** The score (similarity) of prototype {@code index}; prototype networks only. */
    PROTOTYPE_SCORE
  }

  /** One scalar per image: its kind and, per image, the class or prototype index. */
  final class Objective {
    public final Kind kind;
    public final int[] index;

    public Objective(Kind kind, int[] index) {
      this.kind = kind;
      this.index = index.clone();
    }

    /** The same index for all n images. */
    public static Objective of(Kind kind, int index, int n) {
      int[] a = new int[n];
      java.util.Arrays.fill(a, index);
      return new Objective(kind, a);
    }
  }

  /** Values of the scalar and its input gradients. */
  final class Gradient {
    /** The scalar per image, n values. */
    public final float[] values;
    /** d value / d pixel, n*H*W*C values (NHWC), per unit of image intensity. */
    public final float[] gradient;

    public Gradient(float[] values, float[] gradient) {
      this.values = values;
      this.gradient = gradient;
    }
  }

  /**
   * @param x n*H*W*C values, image intensity
   * @param n number of images (any n &gt;= 1; implementations split into their own batches)
   * @param objective the scalar per image (objective.index.length == n)
   * @throws UserException when the objective does not apply to this model (e.g. prototype scores of a plain
   *     classifier) or the engine cannot build the gradient
   */
  Gradient gradient(float[] x, int n, Objective objective);
}
