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

    /** The objective of images {@code from} to {@code from + n − 1}. */
    public Objective range(int from, int n) {
      return new Objective(kind, java.util.Arrays.copyOfRange(index, from, from + n));
    }

    /**
     * Checks the objective against n images and a model with {@code classes} logits and {@code prototypes}
     * prototypes (0 for a plain classifier).
     *
     * @throws UserException when the model has no such class or prototype, or no prototypes at all
     */
    public void check(int n, int classes, int prototypes, String model) {
      if (index.length != n) throw new IllegalArgumentException(index.length + " indices for " + n + " images");
      if (kind == Kind.PROTOTYPE_SCORE && prototypes <= 0) {
        throw new UserException("Model " + model + " is not a prototype network, so it has no prototype scores to "
            + "differentiate. Use a class logit or log-probability, or a prototype network (e.g. sample-ppnet).");
      }
      int bound = kind == Kind.PROTOTYPE_SCORE ? prototypes : classes;
      boolean proto = kind == Kind.PROTOTYPE_SCORE;
      for (int i : index) {
        if (i < 0 || i >= bound) {
          throw new UserException("Model " + model + " has no " + (proto ? "prototype " : "class ") + i + "; it has "
              + bound + (proto ? " prototypes" : " classes") + " (0 to " + (bound - 1) + ").");
        }
      }
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
   * The activations A of a feature layer (a spatial grid of feature vectors, e.g. a prototype network's latent
   * patches) and the gradient of the objective with respect to them, as Grad-CAM needs (Selvaraju et al. 2017).
   */
  final class LayerGradient {
    /** The scalar per image, n values. */
    public final float[] values;
    /** A, n*h*w*D values (NHWC). */
    public final float[] activations;
    /** d value / d A, n*h*w*D values. */
    public final float[] gradient;
    public final int height;
    public final int width;
    public final int depth;

    public LayerGradient(float[] values, float[] activations, float[] gradient, int height, int width, int depth) {
      this.values = values;
      this.activations = activations;
      this.gradient = gradient;
      this.height = height;
      this.width = width;
      this.depth = depth;
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

  /**
   * The gradient of the objective with respect to the model's feature layer, with the layer's activations.
   *
   * @throws UserException when no feature layer is known for this model (the default), naming the model
   */
  default LayerGradient featureGradient(float[] x, int n, Objective objective) {
    throw new UserException("No feature layer is known for model " + this + ", so Grad-CAM cannot be computed. "
        + "Use another attribution method (saliency, integrated_gradients, smoothgrad, occlusion).");
  }
}
