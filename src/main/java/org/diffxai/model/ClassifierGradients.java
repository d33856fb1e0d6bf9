package org.diffxai.model;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.diffxai.core.DifferentiableClassifier.Gradient;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.LayerGradient;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * The per-image objectives of {@link org.diffxai.core.DifferentiableClassifier} on a classifier's TensorFlow graph, in
 * batches: for each batch the images are mapped to model space ({@link ClassifierBundle#toModel}), a one-hot cotangent
 * selects each image's class or prototype ({@link GraphGradients}), one session call returns the values and the
 * gradients, and input gradients are mapped back to image intensity ({@link ClassifierBundle#toImageGradient}). Shared
 * by {@link DjlClassifier} and the randomised networks of the model-randomisation check.
 */
public final class ClassifierGradients {
  private final GraphGradients graph;
  private final Session session;
  private final ClassifierBundle bundle;
  private final Output<TFloat32> input;
  private final int height;
  private final int width;
  private final int channels;
  private final Output<TFloat32> logits;
  private final int classes;
  private final Output<TFloat32> scores;
  private final int prototypes;
  private final Output<TFloat32> features;
  private final int[] featureDims;

  /**
   * @param input the model-space input x [N,H,W,C]
   * @param logits [N,K]
   * @param scores [N,P] prototype scores, or null for a plain classifier
   * @param features the feature layer [N,h,w,D], or null when none is known
   * @param featureDims {h, w, D} of the feature layer (null without one)
   */
  public ClassifierGradients(GraphGradients graph, Session session, ClassifierBundle bundle, Output<TFloat32> input,
      int height, int width, int channels, Output<TFloat32> logits, int classes, Output<TFloat32> scores,
      int prototypes, Output<TFloat32> features, int[] featureDims) {
    this.graph = graph;
    this.session = session;
    this.bundle = bundle;
    this.input = input;
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.logits = logits;
    this.classes = classes;
    this.scores = scores;
    this.prototypes = scores == null ? 0 : prototypes;
    this.features = features;
    this.featureDims = features == null ? null : featureDims.clone();
  }

  /** See {@link org.diffxai.core.DifferentiableClassifier#gradient}; {@code batch} images per session call. */
  public Gradient gradient(float[] x, int n, Objective objective, int batch) {
    float[][] r = run(x, n, objective, false, batch);
    return new Gradient(r[0], r[1]);
  }

  /** See {@link org.diffxai.core.DifferentiableClassifier#featureGradient}; needs a feature layer. */
  public LayerGradient featureGradient(float[] x, int n, Objective objective, int batch) {
    if (features == null) throw new IllegalStateException("no feature layer");
    float[][] r = run(x, n, objective, true, batch);
    return new LayerGradient(r[0], r[2], r[1], featureDims[0], featureDims[1], featureDims[2]);
  }

  /** [values, gradient, layer activations (layer only)] over all n images. */
  private float[][] run(float[] x, int n, Objective objective, boolean layer, int batch) {
    int px = height * width * channels;
    if (n < 1 || x == null || x.length != (long) n * px) {
      throw new IllegalArgumentException("x must have n*H*W*C = " + n + "*" + px + " values, got "
          + (x == null ? "null" : x.length));
    }
    objective.check(n, classes, prototypes, bundle.name());
    boolean proto = objective.kind == Kind.PROTOTYPE_SCORE;
    Output<TFloat32> wrt = layer ? features : input;
    String what = proto ? "its prototype scores" : objective.kind == Kind.LOG_PROBABILITY
        ? "its class log-probabilities" : "its logits";
    GraphGradients.Vjp v = graph.vjp(objective.kind + (layer ? "/features" : "/x"), proto ? scores : logits,
        objective.kind == Kind.LOG_PROBABILITY ? GraphGradients.Transform.LOG_SOFTMAX
            : GraphGradients.Transform.IDENTITY, what, Collections.singletonList(wrt));
    int k = proto ? prototypes : classes;
    int per = layer ? featureDims[0] * featureDims[1] * featureDims[2] : px;
    List<Output<TFloat32>> extra = layer ? Collections.singletonList(wrt) : Collections.emptyList();
    float[][] out = {new float[n], new float[n * per], layer ? new float[n * per] : null};
    for (int from = 0; from < n; from += batch) {
      int m = Math.min(batch, n - from);
      float[] image = Arrays.copyOfRange(x, from * px, (from + m) * px);
      float[] u = new float[m * k];
      for (int i = 0; i < m; i++) u[i * k + objective.index[from + i]] = 1;
      float[][] r;
      try (TFloat32 xt = TFloat32.tensorOf(Shape.of(m, height, width, channels), DataBuffers.of(bundle.toModel(
          image.clone()), true, false)); TFloat32 ut = TFloat32.tensorOf(Shape.of(m, k), DataBuffers.of(u, true,
              false))) {
        Map<Output<?>, Tensor> feeds = Collections.singletonMap(input, xt);
        r = TensorFlowRuntime.withPluginClassLoader(() -> graph.run(session, v, feeds, ut, extra));
      }
      System.arraycopy(r[0], 0, out[0], from, m);
      System.arraycopy(layer ? r[1] : bundle.toImageGradient(image, r[1]), 0, out[1], from * per, m * per);
      if (layer) System.arraycopy(r[2], 0, out[2], from * per, m * per);
    }
    return out;
  }
}
