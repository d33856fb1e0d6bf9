package org.diffxai.tf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.model.TensorFlowRuntime;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Trains a {@link UNetBuilder} denoiser with the DDPM ε-prediction objective (Ho et al. 2020, Algorithm 1):
 * x0 ~ data, t ~ U{0..T−1}, ε ~ N(0, I), x_t = sqrt(ᾱ_t)·x0 + sqrt(1−ᾱ_t)·ε, loss = mean((ε̂(x_t, t) − ε)²),
 * minimised with Adam (Kingma &amp; Ba 2015) under global-norm gradient clipping, while an exponential moving average
 * (EMA) of the weights is kept for export.
 *
 * <p>Everything random is drawn in Java from {@link TrainingOptions#seed()}: initial weights, batch order, flips, t
 * and ε. The graph contains no random ops, so the same seed gives the same loss curve on the same machine (given the
 * same thread count). Timesteps, noise and x_t are computed in Java; the graph sees x_t, t and ε.
 *
 * <p>Not thread-safe. Close to free the native graph and session.
 */
public final class DenoiserTrainer implements AutoCloseable {

  /** Called after every iteration (1-based) with its loss and the seconds spent training so far. */
  public interface Listener {
    void iteration(int iteration, float loss, double seconds);
  }

  static final String SCOPE = "unet";

  private final UNetConfig net;
  private final TrainingOptions opts;
  private final UNetBuilder builder;
  private final float[] alphasCumprod =
      org.diffxai.core.NoiseSchedule.of(BundleWriter.trainingSchedule()).alphasCumprod();
  private final Graph graph;
  private final Session session;
  private final VariableStore params;
  private final VariableStore ema;
  private final Adam adam;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TFloat32> t;
  private final Placeholder<TInt32> label;
  private final Placeholder<TFloat32> condition;
  private final Placeholder<TFloat32> eps;
  private final Placeholder<TFloat32> emaDecay;
  private final Operand<TFloat32> loss;
  private Operand<TFloat32> emaOut; // built on first use: training does not need it
  private final Operand<TFloat32> out;
  private final Op trainStep;
  private final Random batchRandom;
  private final List<Float> losses = new ArrayList<>();
  private final List<Double> lossSeconds = new ArrayList<>();
  private double seconds;
  private int[] order;
  private int orderPos;

  /** Builds the training graph and initialises the weights from the seed. */
  public DenoiserTrainer(UNetConfig net, TrainingOptions opts) {
    TensorFlowRuntime.ensureLoaded();
    this.net = new UNetConfig(net).validate();
    this.opts = copy(opts).validate();
    this.builder = new UNetBuilder(this.net);
    this.batchRandom = new Random(opts.seed() * 0x9E3779B97F4A7C15L + 1);
    graph = new Graph();
    Session s = null;
    try {
      Ops tf = Ops.create(graph);
      int h = net.height();
      int w = net.width();
      x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, h, w, net.channels())));
      t = tf.withName("t").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      label = net.numClasses() > 0
          ? tf.withName("label").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))) : null;
      condition = net.conditionChannels() > 0 ? tf.withName("condition").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, h, w, net.conditionChannels()))) : null;
      eps = tf.withName("epsilon").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, h, w, net.channels())));
      emaDecay = tf.withName("ema_decay").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));

      params = new VariableStore(tf, SCOPE);
      out = builder.build(tf, params, x, t, label, condition);
      loss = tf.withName("loss").math.mean(tf.math.squaredDifference(out, eps), tf.constant(new int[] {0, 1, 2, 3}));

      List<Variable<TFloat32>> vars = params.variables();
      List<ParamSpec> specs = params.specs();
      ema = new VariableStore(tf, "ema");
      for (ParamSpec p : specs) ema.get(p);
      adam = new Adam(tf, "adam", loss, params, null, opts.gradientClip());
      List<Op> updates = adam.updates();
      // EMA after the Adam step: ema ← ema − (1 − d)(ema − w).
      Ops etf = tf.withSubScope("ema_update").withControlDependencies(updates);
      List<Op> emaUpdates = new ArrayList<>();
      Operand<TFloat32> oneMinusD = etf.math.sub(etf.constant(1f), emaDecay);
      for (int i = 0; i < vars.size(); i++) {
        Variable<TFloat32> e = ema.variable(specs.get(i).name());
        emaUpdates.add(etf.assignSub(e, etf.math.mul(etf.math.sub(e, vars.get(i)), oneMinusD)));
      }
      trainStep = tf.withControlDependencies(emaUpdates).withName("train_step").noOp();

      params.prepareAssign();
      ema.prepareAssign();
      s = new Session(graph, sessionConfig(opts.threads(), opts.graphOptimizer()));

      // Seeded initial weights; EMA starts equal to them, Adam moments at zero.
      Random initRandom = new Random(opts.seed());
      Map<String, float[]> init = new LinkedHashMap<>();
      for (ParamSpec p : specs) init.put(p.name(), p.initialValues(initRandom));
      params.assignAll(s, init);
      ema.assignAll(s, init);
      adam.reset(s);
    } catch (RuntimeException | Error e) {
      if (s != null) s.close();
      graph.close();
      throw e;
    }
    session = s;
  }

  /**
   * Session settings. Grappler (TF's graph optimiser) is off unless asked for: on CPU it did not speed up training
   * iterations here (oneDNN kernels on, 64×64 UNet: 1.4–1.7 s/iteration either way) but costs 3 s of CPU before the
   * first iteration even for tiny graphs. GPU runs may want it (layout optimisation).
   */
  public static ConfigProto sessionConfig(int threads, boolean graphOptimizer) {
    ConfigProto.Builder b = ConfigProto.newBuilder();
    if (threads > 0) b.setIntraOpParallelismThreads(threads).setInterOpParallelismThreads(1);
    if (!graphOptimizer) {
      b.setGraphOptions(GraphOptions.newBuilder().setRewriteOptions(RewriterConfig.newBuilder()
          .setDisableMetaOptimizer(true)));
    }
    return b.build();
  }

  private static TrainingOptions copy(TrainingOptions o) {
    return new TrainingOptions().iterations(o.iterations()).batch(o.batch()).learningRate(o.learningRate())
        .warmupIterations(o.warmupIterations()).seed(o.seed()).emaDecay(o.emaDecay()).flip(o.flip())
        .gradientClip(o.gradientClip()).threads(o.threads()).graphOptimizer(o.graphOptimizer());
  }

  public UNetConfig netConfig() {
    return new UNetConfig(net);
  }

  public TrainingOptions options() {
    return copy(opts);
  }

  /** Number of trainable scalars. */
  public long parameterCount() {
    long n = 0;
    for (ParamSpec s : params.specs()) n += s.size();
    return n;
  }

  /** Trainable parameters in a fixed order. */
  public List<ParamSpec> parameters() {
    return params.specs();
  }

  /** Runs {@link TrainingOptions#iterations()} iterations. */
  public void train(TrainingData data, Progress progress) {
    train(data, progress, null);
  }

  /**
   * Runs {@link TrainingOptions#iterations()} more iterations on {@code data}, reporting every iteration.
   *
   * @throws org.diffxai.core.CancelledException when the progress reports a cancel (the trainer stays usable)
   * @throws UserException when the loss becomes NaN or infinite
   */
  public void train(TrainingData data, Progress progress, Listener listener) {
    checkData(data);
    if (progress == null) progress = Progress.NONE;
    int n = opts.iterations();
    int b = opts.batch();
    int h = net.height();
    int w = net.width();
    int c = net.channels();
    int k = net.conditionChannels();
    int px = h * w * c;
    float[] xb = new float[b * px];
    float[] eb = new float[b * px];
    float[] tb = new float[b];
    int[] lb = net.numClasses() > 0 ? new int[b] : null;
    float[] cb = k > 0 ? new float[b * h * w * k] : null;
    for (int it = 0; it < n; it++) {
      progress.checkCancelled();
      long start = System.nanoTime();
      fillBatch(data, xb, eb, tb, lb, cb);
      int step = losses.size(); // 0-based optimisation step, continues across train() calls
      float lrNow = (float) (opts.learningRate()
          * (opts.warmupIterations() > 0 ? Math.min(1.0, (step + 1.0) / opts.warmupIterations()) : 1.0));
      float d = (float) Math.min(opts.emaDecay(), (1.0 + step) / (10.0 + step));
      float l;
      List<Tensor> feeds = new ArrayList<>();
      try {
        Session.Runner r = session.runner();
        r.feed(x, add(feeds, tensor(xb, b, h, w, c)));
        r.feed(eps, add(feeds, tensor(eb, b, h, w, c)));
        r.feed(t, add(feeds, TFloat32.tensorOf(Shape.of(b), DataBuffers.of(tb, true, false))));
        if (lb != null) r.feed(label, add(feeds, TInt32.tensorOf(Shape.of(b), DataBuffers.of(lb, true, false))));
        if (cb != null) r.feed(condition, add(feeds, tensor(cb, b, h, w, k)));
        adam.feed(r, lrNow, step, feeds);
        r.feed(emaDecay, add(feeds, TFloat32.scalarOf(d)));
        r.fetch(loss).addTarget(trainStep);
        try (Result res = r.run()) {
          l = ((TFloat32) res.get(0)).getFloat();
        }
      } finally {
        for (Tensor f : feeds) f.close();
      }
      seconds += (System.nanoTime() - start) / 1e9;
      if (!Float.isFinite(l)) {
        throw new UserException("Training diverged (loss " + l + ") at iteration " + (step + 1)
            + ". Lower learning_rate (e.g. by a factor of 10) and train again.");
      }
      losses.add(l);
      lossSeconds.add(seconds);
      if (listener != null) listener.iteration(step + 1, l, seconds);
      progress.report(String.format(Locale.ROOT, "Training denoiser: iteration %d/%d, loss %.4f", it + 1, n, l),
          (it + 1.0) / n);
    }
  }

  private static <T extends Tensor> T add(List<Tensor> l, T t) {
    l.add(t);
    return t;
  }

  private static TFloat32 tensor(float[] a, int n, int h, int w, int c) {
    return TFloat32.tensorOf(Shape.of(n, h, w, c), DataBuffers.of(a, true, false));
  }

  private void checkData(TrainingData data) {
    if (data.height() != net.height() || data.width() != net.width() || data.channels() != net.channels()) {
      throw new IllegalArgumentException("Data are " + data.height() + "x" + data.width() + "x" + data.channels()
          + " but the network expects " + net.height() + "x" + net.width() + "x" + net.channels());
    }
    if (data.numClasses() != net.numClasses()) {
      throw new IllegalArgumentException("Data have " + data.numClasses() + " classes, the network "
          + net.numClasses());
    }
    if (data.conditionChannels() != net.conditionChannels()) {
      throw new IllegalArgumentException("Data have " + data.conditionChannels() + " condition channels, the network "
          + net.conditionChannels());
    }
  }

  /** One batch of Algorithm 1 samples: shuffled epochs, optional flip, t ~ U{0..T−1}, ε ~ N(0, I). */
  private void fillBatch(TrainingData data, float[] xb, float[] eb, float[] tb, int[] lb, float[] cb) {
    int h = net.height();
    int w = net.width();
    int c = net.channels();
    int k = net.conditionChannels();
    int px = h * w * c;
    Random rnd = batchRandom;
    for (int i = 0; i < tb.length; i++) {
      int idx = nextIndex(data.count());
      boolean flip = opts.flip() && rnd.nextBoolean();
      int step = rnd.nextInt(alphasCumprod.length);
      tb[i] = step;
      float sa = (float) Math.sqrt(alphasCumprod[step]);
      float sb = (float) Math.sqrt(1.0 - alphasCumprod[step]);
      float[] x0 = data.image(idx);
      int o = i * px;
      for (int p = 0; p < px; p++) {
        float e = (float) rnd.nextGaussian();
        eb[o + p] = e;
        xb[o + p] = sa * x0[flip ? mirror(p, w, c) : p] + sb * e;
      }
      if (lb != null) lb[i] = data.label(idx);
      if (cb != null) {
        float[] ci = data.condition(idx);
        int cpx = h * w * k;
        for (int p = 0; p < cpx; p++) cb[i * cpx + p] = ci[flip ? mirror(p, w, k) : p];
      }
    }
  }

  /** Index of the horizontally mirrored element in an HWC array. */
  private static int mirror(int p, int w, int c) {
    int ch = p % c;
    int col = (p / c) % w;
    int row = p / (c * w);
    return (row * w + (w - 1 - col)) * c + ch;
  }

  private int nextIndex(int n) {
    if (order == null || order.length != n || orderPos >= n) {
      if (order == null || order.length != n) {
        order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
      }
      for (int i = n - 1; i > 0; i--) {
        int j = batchRandom.nextInt(i + 1);
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
      }
      orderPos = 0;
    }
    return order[orderPos++];
  }

  /** Loss of every iteration so far. */
  public float[] losses() {
    float[] a = new float[losses.size()];
    for (int i = 0; i < a.length; i++) a[i] = losses.get(i);
    return a;
  }

  /** Training seconds elapsed at the end of every iteration so far. */
  public double[] iterationSeconds() {
    double[] a = new double[lossSeconds.size()];
    for (int i = 0; i < a.length; i++) a[i] = lossSeconds.get(i);
    return a;
  }

  public int completedIterations() {
    return losses.size();
  }

  /** Seconds spent in training iterations (batch preparation included, graph building excluded). */
  public double seconds() {
    return seconds;
  }

  /** Forward pass with the EMA weights: the function that {@link #exportSavedModel} writes. */
  public float[] predictEma(float[] xs, float[] ts, int[] labels, float[] conds, int n) {
    if (emaOut == null) {
      Ops tf = Ops.create(graph);
      emaOut = tf.withName("ema_output").identity(builder.build(tf, ema, x, t, label, condition));
    }
    return forward(emaOut, xs, ts, labels, conds, n);
  }

  /** Forward pass with the current (non-averaged) weights. */
  public float[] predict(float[] xs, float[] ts, int[] labels, float[] conds, int n) {
    return forward(out, xs, ts, labels, conds, n);
  }

  private float[] forward(Operand<TFloat32> output, float[] xs, float[] ts, int[] labels, float[] conds, int n) {
    int h = net.height();
    int w = net.width();
    List<Tensor> feeds = new ArrayList<>();
    try {
      Session.Runner r = session.runner();
      r.feed(x, add(feeds, tensor(xs, n, h, w, net.channels())));
      r.feed(t, add(feeds, TFloat32.tensorOf(Shape.of(n), DataBuffers.of(ts, true, false))));
      if (label != null) r.feed(label, add(feeds, TInt32.tensorOf(Shape.of(n), DataBuffers.of(labels, true, false))));
      if (condition != null) r.feed(condition, add(feeds, tensor(conds, n, h, w, net.conditionChannels())));
      try (Result res = r.fetch(output).run()) {
        float[] a = new float[n * h * w * net.channels()];
        ((TFloat32) res.get(0)).copyTo(DataBuffers.of(a, false, false));
        return a;
      }
    } finally {
      for (Tensor f : feeds) f.close();
    }
  }

  /** Current EMA weights by parameter name. */
  public Map<String, float[]> emaWeights() {
    return ema.read(session);
  }

  /** Current raw weights by parameter name. */
  public Map<String, float[]> weights() {
    return params.read(session);
  }

  /**
   * Writes the EMA weights as a SavedModel (tag {@code serve}, signature {@code serving_default}) into {@code dir}: a
   * clean inference graph holding only the network's variables, so no optimiser state is saved. See
   * {@link #exportSavedModel(UNetConfig, Map, Path)}.
   */
  public void exportSavedModel(Path dir) throws IOException {
    exportSavedModel(net, emaWeights(), dir);
  }

  /** Name of the single output of the exported {@code serving_default} signature. */
  public static final String OUTPUT_NAME = "sample_output";

  /**
   * Writes a SavedModel of the UNet described by {@code net} with the given weights into {@code dir} (created if
   * missing). Signature {@code serving_default}: inputs {@code x} float32 [-1,H,W,C], {@code t} float32 [-1],
   * {@code label} int32 [-1] (class-conditional only), {@code condition} float32 [-1,H,W,K] (K &gt; 0 only); output
   * {@code sample_output} float32 [-1,H,W,C] (predicted ε).
   */
  public static void exportSavedModel(UNetConfig net, Map<String, float[]> weights, Path dir) throws IOException {
    TensorFlowRuntime.ensureLoaded();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      int h = net.height();
      int w = net.width();
      Placeholder<TFloat32> ex = tf.withName("x").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, h, w, net.channels())));
      Placeholder<TFloat32> et = tf.withName("t").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Placeholder<TInt32> el = net.numClasses() > 0
          ? tf.withName("label").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))) : null;
      Placeholder<TFloat32> ec = net.conditionChannels() > 0 ? tf.withName("condition").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, h, w, net.conditionChannels()))) : null;
      VariableStore store = new VariableStore(tf, SCOPE);
      Operand<TFloat32> y = new UNetBuilder(net).build(tf, store, ex, et, el, ec);
      Operand<TFloat32> o = tf.withName(OUTPUT_NAME).identity(y);
      store.prepareAssign();
      Signature.Builder sb = Signature.builder().key(Signature.DEFAULT_KEY).input("x", ex).input("t", et);
      if (el != null) sb.input("label", el);
      if (ec != null) sb.input("condition", ec);
      Signature sig = sb.output(OUTPUT_NAME, o).build();
      try (Session s = new Session(g, sessionConfig(0, false))) {
        store.assignAll(s, weights);
        SavedModelBundle.exporter(dir.toString()).withTags(SavedModelBundle.DEFAULT_TAG)
            .withFunction(SessionFunction.create(sig, s)).export();
      }
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }

  @Override
  public String toString() {
    return net + ", " + parameterCount() + " parameters, " + Arrays.toString(new int[] {opts.iterations(),
        opts.batch()});
  }
}
