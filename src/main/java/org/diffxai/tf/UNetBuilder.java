package org.diffxai.tf;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.math.Mean;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Builds the graph ops of a denoising UNet (epsilon prediction) with TensorFlow Java's graph API.
 *
 * <p>Architecture, following the DDPM UNet (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", appendix B)
 * as diffusers' {@code UNet2DModel} lays it out, itself a UNet (Ronneberger et al. 2015, "U-Net: Convolutional
 * Networks for Biomedical Image Segmentation"):
 *
 * <ul>
 *   <li>time t (training timestep, e.g. 981.0) → sinusoidal embedding of {@code baseChannels} dims (Vaswani et al.
 *       2017, "Attention Is All You Need", §3.5; cos half first, as diffusers' {@code flip_sin_to_cos=True}) →
 *       Linear(4·base) → SiLU → Linear(4·base); optional class embedding table (numClasses × 4·base, one row more
 *       for the "no class" label of classifier-free guidance) added;
 *   <li>input: x, optionally concatenated with the K condition channels, → 3×3 conv to base channels;
 *   <li>per level: {@code layersPerBlock} residual blocks (GroupNorm → SiLU → 3×3 conv, + Linear(SiLU(temb)),
 *       GroupNorm → SiLU → 3×3 conv; 1×1 conv skip when channels change), then a stride-2 3×3 conv (not on the last
 *       level); GroupNorm after Wu &amp; He 2018, "Group Normalization";
 *   <li>middle: residual block, single-head self-attention (Vaswani et al. 2017), residual block;
 *   <li>per level, lowest first: {@code layersPerBlock + 1} residual blocks on the concatenation with the matching
 *       down-path activation, then nearest-neighbour ×2 resize + 3×3 conv (not on the top level);
 *   <li>GroupNorm → SiLU → 3×3 conv to C output channels.
 * </ul>
 *
 * Parameters come from a {@link Weights} provider, so one builder serves the training graph (variables), the EMA
 * forward pass (EMA copies) and the clean export graph. Parameter names are stable, dot-separated paths such as
 * {@code down.1.res.0.conv1.weight}. Tensors are NHWC float32 with a dynamic batch dimension.
 */
public final class UNetBuilder {

  /** Supplies the tensor for a parameter; called once per parameter per {@link #build}, in a fixed order. */
  public interface Weights {
    Operand<TFloat32> get(ParamSpec spec);
  }

  /** Name of the class-embedding table [rows, {@link #classEmbeddingDim()}] among the parameters. */
  public static final String CLASS_EMBEDDING = "class_embedding.weight";

  private static final float GN_EPS = 1e-5f;

  private final UNetConfig cfg;
  private Ops tf;
  private Weights weights;

  public UNetBuilder(UNetConfig cfg) {
    this.cfg = new UNetConfig(cfg).validate();
  }

  public UNetConfig config() {
    return new UNetConfig(cfg);
  }

  /**
   * Adds the network to the graph of {@code tf}.
   *
   * @param x noisy input [N,H,W,C]
   * @param t timesteps [N] (float, not normalised)
   * @param label class indices [N], required iff numClasses &gt; 0
   * @param condition condition channels [N,H,W,K], required iff K &gt; 0
   * @return predicted noise epsilon [N,H,W,C]
   */
  public Operand<TFloat32> build(Ops tf, Weights weights, Operand<TFloat32> x, Operand<TFloat32> t,
      Operand<TInt32> label, Operand<TFloat32> condition) {
    if ((cfg.numClasses() > 0) != (label != null)) {
      throw new IllegalArgumentException("label input must be given iff numClasses > 0");
    }
    if ((cfg.conditionChannels() > 0) != (condition != null)) {
      throw new IllegalArgumentException("condition input must be given iff conditionChannels > 0");
    }
    this.tf = tf;
    this.weights = weights;
    try {
      return network(x, t, label, null, condition);
    } finally {
      this.tf = null;
      this.weights = null;
    }
  }

  /**
   * As {@link #build}, for a class-conditional network, with the class embedding given as a tensor instead of looked
   * up by label: {@code classEmbedding} [N or 1, {@link #classEmbeddingDim()}] replaces the row
   * {@code class_embedding.weight[label]} that is added to the time embedding, so that it can be optimised
   * (Optimise Conditioning). The table parameter is not requested from {@code weights}.
   */
  public Operand<TFloat32> buildWithClassEmbedding(Ops tf, Weights weights, Operand<TFloat32> x, Operand<TFloat32> t,
      Operand<TFloat32> classEmbedding, Operand<TFloat32> condition) {
    if (cfg.numClasses() == 0) throw new IllegalArgumentException("the network is not class-conditional");
    if ((cfg.conditionChannels() > 0) != (condition != null)) {
      throw new IllegalArgumentException("condition input must be given iff conditionChannels > 0");
    }
    this.tf = tf;
    this.weights = weights;
    try {
      return network(x, t, null, classEmbedding, condition);
    } finally {
      this.tf = null;
      this.weights = null;
    }
  }

  /** Length of a class-embedding row: 4 · base channels, the time-embedding width. */
  public int classEmbeddingDim() {
    return 4 * cfg.baseChannels();
  }

  private Operand<TFloat32> network(Operand<TFloat32> x, Operand<TFloat32> t, Operand<TInt32> label,
      Operand<TFloat32> classEmbedding, Operand<TFloat32> condition) {
    int base = cfg.baseChannels();
    int levels = cfg.levels();
    int tembDim = 4 * base;

    // Time embedding (+ class embedding).
    Operand<TFloat32> temb = timestepEmbedding(t, base);
    temb = dense("time_embedding.linear_1", temb, base, tembDim);
    temb = silu(temb);
    temb = dense("time_embedding.linear_2", temb, tembDim, tembDim);
    if (label != null) {
      int rows = cfg.numClasses() + (cfg.unconditionalLabel() ? 1 : 0);
      Operand<TFloat32> table = param(CLASS_EMBEDDING, ParamSpec.Init.NORMAL, 1, rows, tembDim);
      temb = tf.math.add(temb, tf.gather(table, label, tf.constant(0)));
    } else if (classEmbedding != null) {
      temb = tf.math.add(temb, classEmbedding);
    }

    // Input convolution.
    int inCh = cfg.channels();
    Operand<TFloat32> h = x;
    if (condition != null) {
      h = tf.concat(Arrays.asList(x, condition), tf.constant(3));
      inCh += cfg.conditionChannels();
    }
    h = conv("conv_in", h, inCh, base, 3, 1);

    // Down path; every activation pushed here is concatenated back on the way up.
    Deque<Operand<TFloat32>> skips = new ArrayDeque<>();
    Deque<Integer> skipCh = new ArrayDeque<>();
    skips.push(h);
    skipCh.push(base);
    int ch = base;
    int hh = cfg.height();
    int ww = cfg.width();
    for (int level = 0; level < levels; level++) {
      int out = cfg.levelChannels(level);
      for (int j = 0; j < cfg.layersPerBlock(); j++) {
        h = resBlock("down." + level + ".res." + j, h, ch, out, temb, tembDim, hh, ww);
        ch = out;
        skips.push(h);
        skipCh.push(ch);
      }
      if (level < levels - 1) {
        h = conv("down." + level + ".downsample", h, ch, ch, 3, 2);
        hh /= 2;
        ww /= 2;
        skips.push(h);
        skipCh.push(ch);
      }
    }

    // Middle block at the lowest resolution.
    h = resBlock("mid.res.0", h, ch, ch, temb, tembDim, hh, ww);
    if (cfg.attention()) h = attention("mid.attn", h, ch, hh, ww);
    h = resBlock("mid.res.1", h, ch, ch, temb, tembDim, hh, ww);

    // Up path, lowest level first.
    for (int level = levels - 1; level >= 0; level--) {
      int out = cfg.levelChannels(level);
      for (int j = 0; j <= cfg.layersPerBlock(); j++) {
        Operand<TFloat32> s = skips.pop();
        int sc = skipCh.pop();
        h = tf.concat(Arrays.asList(h, s), tf.constant(3));
        h = resBlock("up." + level + ".res." + j, h, ch + sc, out, temb, tembDim, hh, ww);
        ch = out;
      }
      if (level > 0) {
        hh *= 2;
        ww *= 2;
        h = tf.image.resizeNearestNeighbor(h, tf.constant(new int[] {hh, ww}));
        h = conv("up." + level + ".upsample", h, ch, ch, 3, 1);
      }
    }

    h = groupNorm("conv_norm_out", h, ch, hh, ww);
    h = silu(h);
    return conv("conv_out", h, ch, cfg.channels(), 3, 1);
  }

  /** Sinusoidal embedding [N, dim]: [cos(t·f_i), sin(t·f_i)], f_i = 10000^(-i/half) (Vaswani et al. 2017). */
  private Operand<TFloat32> timestepEmbedding(Operand<TFloat32> t, int dim) {
    int half = dim / 2;
    float[][] freqs = new float[1][half];
    for (int i = 0; i < half; i++) freqs[0][i] = (float) Math.exp(-Math.log(10000.0) * i / half);
    Operand<TFloat32> args = tf.math.mul(tf.expandDims(t, tf.constant(1)), tf.constant(freqs));
    Operand<TFloat32> emb = tf.concat(Arrays.asList(tf.math.cos(args), tf.math.sin(args)), tf.constant(1));
    if (dim % 2 == 1) {
      // Pad an odd dimension with a zero column, as diffusers does.
      emb = tf.pad(emb, tf.constant(new int[][] {{0, 0}, {0, 1}}), tf.constant(0f));
    }
    return emb;
  }

  /** Residual block with time-embedding injection (Ho et al. 2020, appendix B; diffusers ResnetBlock2D). */
  private Operand<TFloat32> resBlock(String name, Operand<TFloat32> x, int in, int out, Operand<TFloat32> temb,
      int tembDim, int hh, int ww) {
    Operand<TFloat32> h = silu(groupNorm(name + ".norm1", x, in, hh, ww));
    h = conv(name + ".conv1", h, in, out, 3, 1);
    Operand<TFloat32> e = dense(name + ".time_emb_proj", silu(temb), tembDim, out);
    h = tf.math.add(h, tf.reshape(e, tf.constant(new int[] {-1, 1, 1, out})));
    h = silu(groupNorm(name + ".norm2", h, out, hh, ww));
    h = conv(name + ".conv2", h, out, out, 3, 1);
    Operand<TFloat32> skip = in == out ? x : conv(name + ".conv_shortcut", x, in, out, 1, 1);
    return tf.math.add(skip, h);
  }

  /** Single-head self-attention over the hh·ww positions, with a residual connection. */
  private Operand<TFloat32> attention(String name, Operand<TFloat32> x, int ch, int hh, int ww) {
    Operand<TFloat32> h = groupNorm(name + ".group_norm", x, ch, hh, ww);
    int[] seq = {-1, hh * ww, ch};
    Operand<TFloat32> q = tf.reshape(conv(name + ".to_q", h, ch, ch, 1, 1), tf.constant(seq));
    Operand<TFloat32> k = tf.reshape(conv(name + ".to_k", h, ch, ch, 1, 1), tf.constant(seq));
    Operand<TFloat32> v = tf.reshape(conv(name + ".to_v", h, ch, ch, 1, 1), tf.constant(seq));
    Operand<TFloat32> scores = tf.train.batchMatMul(q, k, TFloat32.class, BatchMatMul.adjY(true));
    scores = tf.math.mul(scores, tf.constant((float) (1.0 / Math.sqrt(ch))));
    Operand<TFloat32> a = tf.nn.softmax(scores);
    Operand<TFloat32> o = tf.train.batchMatMul(a, v, TFloat32.class);
    o = tf.reshape(o, tf.constant(new int[] {-1, hh, ww, ch}));
    o = conv(name + ".to_out", o, ch, ch, 1, 1);
    return tf.math.add(x, o);
  }

  /** Group normalisation over (H, W, C/G) per sample and group (Wu &amp; He 2018), with per-channel affine. */
  private Operand<TFloat32> groupNorm(String name, Operand<TFloat32> x, int ch, int hh, int ww) {
    int g = cfg.groups();
    Operand<TFloat32> gamma = param(name + ".weight", ParamSpec.Init.ONES, 1, ch);
    Operand<TFloat32> beta = param(name + ".bias", ParamSpec.Init.ZEROS, 1, ch);
    Operand<TFloat32> r = tf.reshape(x, tf.constant(new int[] {-1, hh, ww, g, ch / g}));
    Operand<TInt32> axes = tf.constant(new int[] {1, 2, 4});
    Operand<TFloat32> mean = tf.math.mean(r, axes, Mean.keepDims(true));
    Operand<TFloat32> var = tf.math.mean(tf.math.squaredDifference(r, mean), axes, Mean.keepDims(true));
    Operand<TFloat32> n = tf.math.mul(tf.math.sub(r, mean), tf.math.rsqrt(tf.math.add(var, tf.constant(GN_EPS))));
    n = tf.reshape(n, tf.constant(new int[] {-1, hh, ww, ch}));
    return tf.math.add(tf.math.mul(n, gamma), beta);
  }

  private Operand<TFloat32> conv(String name, Operand<TFloat32> x, int in, int out, int k, int stride) {
    int fanIn = in * k * k;
    Operand<TFloat32> w = param(name + ".weight", ParamSpec.Init.FAN_IN_UNIFORM, fanIn, k, k, in, out);
    Operand<TFloat32> b = param(name + ".bias", ParamSpec.Init.FAN_IN_UNIFORM, fanIn, out);
    Operand<TFloat32> y = tf.nn.conv2d(x, w, Arrays.asList(1L, (long) stride, (long) stride, 1L), "SAME");
    return tf.nn.biasAdd(y, b);
  }

  private Operand<TFloat32> dense(String name, Operand<TFloat32> x, int in, int out) {
    Operand<TFloat32> w = param(name + ".weight", ParamSpec.Init.FAN_IN_UNIFORM, in, in, out);
    Operand<TFloat32> b = param(name + ".bias", ParamSpec.Init.FAN_IN_UNIFORM, in, out);
    return tf.nn.biasAdd(tf.linalg.matMul(x, w), b);
  }

  /** SiLU(x) = x·sigmoid(x). */
  private Operand<TFloat32> silu(Operand<TFloat32> x) {
    return tf.math.mul(x, tf.math.sigmoid(x));
  }

  private Operand<TFloat32> param(String name, ParamSpec.Init init, int fanIn, long... shape) {
    return weights.get(new ParamSpec(name, shape, init, fanIn));
  }
}
