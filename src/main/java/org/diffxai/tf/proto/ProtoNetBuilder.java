package org.diffxai.tf.proto;

import java.util.Arrays;
import org.diffxai.tf.ParamSpec;
import org.diffxai.tf.UNetBuilder.Weights;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Min;
import org.tensorflow.op.core.Sum;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;

/**
 * Builds the inference graph of a prototype network (NHWC, dynamic batch) with TensorFlow Java's graph API:
 *
 * <ol>
 *   <li>backbone and add-on ({@link ProtoConfig}) → latent patches z [N,h,w,D] in (0, 1); EPPNet: z/‖z‖;
 *   <li>squared L2 distance of every patch to every prototype p_j [P,D] by the convolution identity
 *       ‖z − p‖² = ‖z‖² − 2 z·p + ‖p‖², the middle term a 1×1 convolution with the prototypes as filters (Chen et al.
 *       2019, §2.1); EPPNet: the same on unit vectors, 2 − 2 cos(z, p);
 *   <li>similarity log((d + 1)/(d + ε)), ε = 1e-4 (Chen et al. 2019, Eq. for g_{p_j});
 *   <li>per prototype the minimum distance over the grid; score = act(min d), i.e. the global max of similarity
 *       (PPNet, EPPNet), or ProtoPool's focal similarity act(min d) − act(mean d) (Rymarczyk et al. 2022, §3, as the
 *       issue specifies it);
 *   <li>logits = scores · W<sup>T</sup> with the last layer W [K,P].
 * </ol>
 *
 * Parameter names: {@code backbone.*}, {@code add_on.*}, {@code prototypes} [P,D], {@code last_layer} [K,P].
 */
public final class ProtoNetBuilder {
  /** ε of the similarity log((d + 1)/(d + ε)) (Chen et al. 2019). */
  public static final float SIMILARITY_EPS = 1e-4f;
  /** Added under the square root when normalising (EPPNet). */
  private static final float NORM_EPS = 1e-12f;

  /** The tensors of one built network. */
  public static final class Net {
    /** Latent patches [N,h,w,D] in the space the prototypes live in (EPPNet: unit vectors). */
    public final Operand<TFloat32> features;
    /** The prototypes as the distance sees them [P,D] (EPPNet: unit vectors). */
    public final Operand<TFloat32> prototypes;
    public final Operand<TFloat32> distances;
    public final Operand<TFloat32> similarity;
    public final Operand<TFloat32> minDistances;
    public final Operand<TFloat32> scores;
    public final Operand<TFloat32> lastLayer;
    public final Operand<TFloat32> logits;

    Net(Operand<TFloat32> features, Operand<TFloat32> prototypes, Operand<TFloat32> distances,
        Operand<TFloat32> similarity, Operand<TFloat32> minDistances, Operand<TFloat32> scores,
        Operand<TFloat32> lastLayer, Operand<TFloat32> logits) {
      this.features = features;
      this.prototypes = prototypes;
      this.distances = distances;
      this.similarity = similarity;
      this.minDistances = minDistances;
      this.scores = scores;
      this.lastLayer = lastLayer;
      this.logits = logits;
    }
  }

  private final ProtoConfig cfg;
  private Ops tf;
  private Weights weights;

  public ProtoNetBuilder(ProtoConfig cfg) {
    this.cfg = new ProtoConfig(cfg).validate();
  }

  /** Adds the network to the graph of {@code tf}; x is [N,H,W,C] in model space. */
  public Net build(Ops tf, Weights weights, Operand<TFloat32> x) {
    this.tf = tf;
    this.weights = weights;
    try {
      return network(x);
    } finally {
      this.tf = null;
      this.weights = null;
    }
  }

  private Net network(Operand<TFloat32> x) {
    int ch = cfg.baseChannels();
    Operand<TFloat32> h = tf.nn.relu(conv("backbone.conv_in", x, cfg.channels(), ch, 3, 1));
    for (int l = 0; l < cfg.levels(); l++) {
      int out = cfg.levelChannels(l);
      h = tf.nn.relu(conv("backbone.down." + l, h, ch, out, 3, 2));
      h = tf.nn.relu(conv("backbone.conv." + l, h, out, out, 3, 1));
      ch = out;
    }
    int d = cfg.featureDepth();
    h = tf.nn.relu(conv("add_on.0", h, ch, d, 1, 1));
    Operand<TFloat32> z = tf.math.sigmoid(conv("add_on.1", h, d, d, 1, 1));

    int p = cfg.prototypes();
    Operand<TFloat32> protos = weights.get(new ParamSpec("prototypes", new long[] {p, d}, ParamSpec.Init.UNIT_UNIFORM,
        d));
    boolean cosine = cfg.method() == ProtoConfig.Method.EPPNET;
    if (cosine) {
      z = unit(z, 3);
      protos = unit(protos, 1);
    }
    Operand<TFloat32> filters = tf.reshape(tf.linalg.transpose(protos, tf.constant(new int[] {1, 0})),
        tf.constant(new int[] {1, 1, d, p}));
    Operand<TFloat32> zp = tf.nn.conv2d(z, filters, Arrays.asList(1L, 1L, 1L, 1L), "VALID");
    Operand<TFloat32> dist;
    if (cosine) {
      dist = tf.nn.relu(tf.math.sub(tf.constant(2f), tf.math.mul(tf.constant(2f), zp)));
    } else {
      Operand<TFloat32> z2 = tf.sum(square(tf, z), tf.constant(3), Sum.keepDims(true));
      Operand<TFloat32> p2 = tf.sum(square(tf, protos), tf.constant(1));
      dist = tf.nn.relu(tf.math.add(tf.math.sub(z2, tf.math.mul(tf.constant(2f), zp)), p2));
    }
    Operand<TFloat32> sim = activation(dist);
    Operand<TFloat32> minD = tf.min(dist, tf.constant(new int[] {1, 2}), Min.keepDims(false));
    Operand<TFloat32> scores = activation(minD);
    if (cfg.method() == ProtoConfig.Method.PROTOPOOL) {
      Operand<TFloat32> meanD = tf.math.mean(dist, tf.constant(new int[] {1, 2}), Mean.keepDims(false));
      scores = tf.math.sub(scores, activation(meanD));
    }
    Operand<TFloat32> w = weights.get(new ParamSpec("last_layer", new long[] {cfg.numClasses(), p},
        ParamSpec.Init.ZEROS, p));
    Operand<TFloat32> logits = tf.linalg.matMul(scores, w, MatMul.transposeB(true));
    return new Net(z, protos, dist, sim, minD, scores, w, logits);
  }

  /** log((d + 1)/(d + ε)). */
  private Operand<TFloat32> activation(Operand<TFloat32> d) {
    return tf.math.log(tf.math.div(tf.math.add(d, tf.constant(1f)), tf.math.add(d, tf.constant(SIMILARITY_EPS))));
  }

  /**
   * v², as v·v: the gradient of TensorFlow's Square op crashes TF 2.16's C++ gradient builder (SIGSEGV in SquareGrad,
   * reproduced with a plain sum(square(v))), Mul's does not.
   */
  static Operand<TFloat32> square(Ops tf, Operand<TFloat32> v) {
    return tf.math.mul(v, v);
  }

  /** v/‖v‖ along an axis. */
  private Operand<TFloat32> unit(Operand<TFloat32> v, int axis) {
    Operand<TFloat32> n2 = tf.sum(square(tf, v), tf.constant(axis), Sum.keepDims(true));
    return tf.math.mul(v, tf.math.rsqrt(tf.math.add(n2, tf.constant(NORM_EPS))));
  }

  private Operand<TFloat32> conv(String name, Operand<TFloat32> x, int in, int out, int k, int stride) {
    int fanIn = in * k * k;
    Operand<TFloat32> w = weights.get(new ParamSpec(name + ".weight", new long[] {k, k, in, out},
        ParamSpec.Init.HE_UNIFORM, fanIn));
    Operand<TFloat32> b = weights.get(new ParamSpec(name + ".bias", new long[] {out}, ParamSpec.Init.ZEROS, fanIn));
    return tf.nn.biasAdd(tf.nn.conv2d(x, w, Arrays.asList(1L, (long) stride, (long) stride, 1L), "SAME"), b);
  }
}
