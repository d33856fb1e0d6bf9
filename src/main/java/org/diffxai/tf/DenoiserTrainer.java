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
import org.diffxai.Version;
import org.diffxai.core.CancelledException;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.NoiseSchedule;
import org.diffxai.core.Progress;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.Seeds;
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
 * Trains a {@link UNetBuilder} denoiser with the DDPM objective (Ho et al. 2020, Algorithm 1): x0 ~ data,
 * t ~ U{0..T−1}, ε ~ N(0, I), x_t = sqrt(ᾱ_t)·x0 + sqrt(1−ᾱ_t)·ε, loss = mean_batch(w_t · mean((ŷ(x_t, t) − y)²)),
 * where the target y is ε (ε-prediction) or v = sqrt(ᾱ_t)·ε − sqrt(1−ᾱ_t)·x0 (v-prediction, Salimans &amp; Ho 2022,
 * Sec. 4), w_t is 1 or the min-SNR-γ weight (Hang et al. 2023), and ᾱ comes from the configured diffusers schedule
 * ({@link TrainingOptions#schedulerConfig()}). Minimised with Adam (Kingma &amp; Ba 2015) under global-norm gradient
 * clipping, while an exponential moving average (EMA) of the weights is kept for export.
 *
 * <p>Everything random is drawn in Java from {@link TrainingOptions#seed()} through named {@link Seeds} streams:
 * {@code denoiser/init} for the initial weights, {@code denoiser/order}[epoch] for the shuffled order of each pass
 * over the data, {@code denoiser/batch}[iteration] for flips and t, {@code denoiser/noise}[iteration] for ε. Every
 * stream position is therefore a function of the iteration number, which is what makes a {@link DenoiserCheckpoint}
 * complete. The graph contains no random ops, so the same seed gives the same loss curve on the same machine (given
 * the same thread count), and a run resumed from a checkpoint continues exactly as the uninterrupted run would.
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
  private final float[] alphasCumprod;
  private final Graph graph;
  private final Session session;
  private final VariableStore params;
  private final VariableStore ema;
  private final Adam adam;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TFloat32> t;
  private final Placeholder<TInt32> label;
  private final Placeholder<TFloat32> condition;
  private final Placeholder<TFloat32> target;
  private final Placeholder<TFloat32> weight;
  private final Placeholder<TFloat32> emaDecay;
  private final Operand<TFloat32> loss;
  private Operand<TFloat32> emaOut; // built on first use: training does not need it
  private final Operand<TFloat32> out;
  private final Op trainStep;
  private final List<Float> losses = new ArrayList<>();
  private final List<Double> lossSeconds = new ArrayList<>();
  private double seconds;
  private int[] order;
  private long orderEpoch = -1;
  private final List<Object> history = new ArrayList<>();
  private int segmentStart;
  private double segmentStartSeconds;
  private Path checkpointDir;
  private int checkpointEvery;
  private int lastCheckpoint = -1;
  private TrainingData fingerprinted;
  private String fingerprint;

  /** Builds the training graph and initialises the weights from the seed. */
  public DenoiserTrainer(UNetConfig net, TrainingOptions opts) {
    TensorFlowRuntime.ensureLoaded();
    this.net = new UNetConfig(net).validate();
    this.opts = new TrainingOptions(opts).validate();
    if ((this.opts.labelDropout() > 0) != this.net.unconditionalLabel()) {
      throw new IllegalArgumentException("label dropout (" + this.opts.labelDropout() + ") needs a network with an"
          + " unconditional label, and such a network needs label dropout > 0");
    }
    this.builder = new UNetBuilder(this.net);
    this.alphasCumprod = NoiseSchedule.of(this.opts.schedulerConfig()).alphasCumprod();
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
      target = tf.withName("target").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, h, w, net.channels())));
      weight = tf.withName("loss_weight").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      emaDecay = tf.withName("ema_decay").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));

      params = new VariableStore(tf, SCOPE);
      out = builder.build(tf, params, x, t, label, condition);
      // Per-sample mean squared error, weighted per sample (w = 1 without min-SNR), averaged over the batch.
      Operand<TFloat32> perSample = tf.math.mean(tf.math.squaredDifference(out, target), tf.constant(new int[] {1, 2,
          3}));
      loss = tf.withName("loss").math.mean(tf.math.mul(perSample, weight), tf.constant(0));

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
      Random initRandom = Seeds.random(this.opts.seed(), "denoiser/init");
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

  public UNetConfig netConfig() {
    return new UNetConfig(net);
  }

  public TrainingOptions options() {
    return new TrainingOptions(opts);
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

  /** Trains up to {@link TrainingOptions#iterations()} iterations in total. */
  public void train(TrainingData data, Progress progress) {
    train(data, progress, null);
  }

  /**
   * Writes a checkpoint into {@code dir} every {@code every} iterations (0: only at the end), at the end of
   * {@link #train}, and when training is cancelled. Null turns checkpoints off.
   */
  public DenoiserTrainer checkpoints(Path dir, int every) {
    if (every < 0) throw new IllegalArgumentException("checkpoint interval must be >= 0, got " + every);
    checkpointDir = dir == null ? null : dir.toAbsolutePath().normalize();
    checkpointEvery = every;
    return this;
  }

  /**
   * Runs the iterations from {@link #completedIterations()} up to {@link TrainingOptions#iterations()} on
   * {@code data}, reporting every iteration, and writes checkpoints as set by {@link #checkpoints}.
   *
   * @throws org.diffxai.core.CancelledException when the progress reports a cancel (the trainer stays usable; a
   *     checkpoint of the completed iterations is written first when checkpoints are on)
   * @throws UserException when the loss becomes NaN or infinite
   */
  public void train(TrainingData data, Progress progress, Listener listener) {
    checkData(data);
    if (progress == null) progress = Progress.NONE;
    int total = opts.iterations();
    int first = losses.size();
    int b = opts.batch();
    int h = net.height();
    int w = net.width();
    int c = net.channels();
    int k = net.conditionChannels();
    int px = h * w * c;
    float[] xb = new float[b * px];
    float[] yb = new float[b * px];
    float[] tb = new float[b];
    float[] wb = new float[b];
    int[] lb = net.numClasses() > 0 ? new int[b] : null;
    float[] cb = k > 0 ? new float[b * h * w * k] : null;
    try {
      for (int step = first; step < total; step++) { // step: 0-based optimisation step, continues across runs
        progress.checkCancelled();
        long start = System.nanoTime();
        fillBatch(data, step, xb, yb, tb, wb, lb, cb);
        float lrNow = (float) (opts.learningRate()
            * (opts.warmupIterations() > 0 ? Math.min(1.0, (step + 1.0) / opts.warmupIterations()) : 1.0));
        float d = (float) Math.min(opts.emaDecay(), (1.0 + step) / (10.0 + step));
        float l;
        List<Tensor> feeds = new ArrayList<>();
        try {
          Session.Runner r = session.runner();
          r.feed(x, add(feeds, tensor(xb, b, h, w, c)));
          r.feed(target, add(feeds, tensor(yb, b, h, w, c)));
          r.feed(t, add(feeds, TFloat32.tensorOf(Shape.of(b), DataBuffers.of(tb, true, false))));
          r.feed(weight, add(feeds, TFloat32.tensorOf(Shape.of(b), DataBuffers.of(wb, true, false))));
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
        progress.report(String.format(Locale.ROOT, "Training denoiser: iteration %d/%d, loss %.4f", step + 1, total,
            l), (step + 1.0 - first) / (total - first));
        if (checkpointDir != null && checkpointEvery > 0 && (step + 1) % checkpointEvery == 0 && step + 1 < total) {
          progress.report(String.format(Locale.ROOT, "Writing checkpoint at iteration %d", step + 1), Double.NaN);
          writeCheckpoint(checkpointDir, data);
        }
      }
    } catch (CancelledException e) {
      if (checkpointDir != null) writeCheckpoint(checkpointDir, data);
      throw e;
    }
    if (checkpointDir != null) writeCheckpoint(checkpointDir, data);
  }

  // ------------------------------------------------------------------------------------------------ checkpoints

  /**
   * Writes the complete training state (weights, EMA weights, Adam moments, iteration, stream positions, options,
   * network, data fingerprint, loss log, history) to the checkpoint folder {@code dir}, replacing the checkpoint there
   * atomically. Does nothing when the same folder already holds this iteration.
   */
  public void writeCheckpoint(Path folder, TrainingData data) {
    checkData(data);
    Path dir = folder.toAbsolutePath().normalize();
    int done = losses.size();
    if (dir.equals(checkpointDir) && lastCheckpoint == done) return;
    DenoiserCheckpoint.Contents c = new DenoiserCheckpoint.Contents();
    c.iteration = done;
    c.network = net.resumeKeys();
    c.options = opts.resumeKeys();
    c.dataFingerprint = fingerprint(data);
    c.rng = rngState(done, data.count());
    c.history = history();
    c.groups.put(DenoiserCheckpoint.WEIGHTS, params.read(session));
    c.groups.put(DenoiserCheckpoint.EMA, ema.read(session));
    c.groups.put(DenoiserCheckpoint.ADAM_M, adam.firstMoments(session));
    c.groups.put(DenoiserCheckpoint.ADAM_V, adam.secondMoments(session));
    c.losses = losses();
    c.seconds = iterationSeconds();
    DenoiserCheckpoint.write(dir, c);
    if (dir.equals(checkpointDir)) lastCheckpoint = done;
  }

  /**
   * Continues from a checkpoint: this trainer (fresh, with the checkpoint's network and options; only the total
   * iteration count may be larger) takes over its weights, EMA weights, Adam moments, iteration count, loss log and
   * history. The next {@link #train} on the same data then computes exactly what the uninterrupted run computed.
   *
   * @throws UserException naming every setting that differs from the checkpoint, or when the data differ
   */
  public void restore(DenoiserCheckpoint cp, TrainingData data) {
    if (!losses.isEmpty()) throw new IllegalStateException("restore needs a trainer that has not trained yet");
    checkData(data);
    cp.checkCompatible(net.resumeKeys(), opts.resumeKeys(), opts.iterations(), fingerprint(data));
    if (!cp.rngMatches(rngState(cp.iteration(), data.count()))) {
      throw new UserException("The checkpoint " + cp.directory() + " records random-stream positions this version"
          + " of Train Denoiser does not produce for iteration " + cp.iteration() + ". Resume with the version that"
          + " wrote it, or train anew without resume.");
    }
    params.assignAll(session, cp.group(DenoiserCheckpoint.WEIGHTS));
    ema.assignAll(session, cp.group(DenoiserCheckpoint.EMA));
    adam.restore(session, cp.group(DenoiserCheckpoint.ADAM_M), cp.group(DenoiserCheckpoint.ADAM_V));
    float[] l = cp.losses();
    double[] s = cp.seconds();
    for (int i = 0; i < l.length; i++) {
      losses.add(l[i]);
      lossSeconds.add(s[i]);
    }
    seconds = s.length == 0 ? 0 : s[s.length - 1];
    history.addAll(cp.history());
    segmentStart = cp.iteration();
    segmentStartSeconds = seconds;
    if (cp.directory().equals(checkpointDir)) lastCheckpoint = cp.iteration();
  }

  /**
   * The training runs so far, oldest first: {@code from}, {@code to} (iterations), {@code seconds}, {@code software},
   * {@code tensorflow} each; the last entry is this run.
   */
  public List<Object> history() {
    List<Object> h = new ArrayList<>(history);
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("from", segmentStart);
    run.put("to", losses.size());
    run.put("seconds", Math.round((seconds - segmentStartSeconds) * 10) / 10.0);
    run.put("software", "diffusion-xai " + Version.get());
    run.put("tensorflow", org.tensorflow.TensorFlow.version());
    h.add(run);
    return h;
  }

  private String fingerprint(TrainingData data) {
    if (fingerprinted != data) {
      fingerprint = data.fingerprint();
      fingerprinted = data;
    }
    return fingerprint;
  }

  /**
   * Where every random stream stands after {@code iterations} iterations: the streams are indexed by iteration and
   * epoch, so this is all a checkpoint needs to continue them.
   */
  private Map<String, Object> rngState(int iterations, int images) {
    long drawn = (long) iterations * opts.batch();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("scheme", "org.diffxai.core.Seeds(seed): denoiser/init; denoiser/order[epoch]; denoiser/batch[iteration];"
        + " denoiser/noise[iteration]");
    m.put("next_iteration", iterations);
    m.put("images_drawn", drawn);
    m.put("epoch", drawn / images);
    m.put("epoch_position", drawn % images);
    return m;
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

  /**
   * Batch {@code step} of Algorithm 1 samples: shuffled epochs, optional flip, t ~ U{0..T−1}, ε ~ N(0, I), the input
   * x_t, the target (ε or v) and the per-sample loss weight.
   */
  private void fillBatch(TrainingData data, int step, float[] xb, float[] yb, float[] tb, float[] wb, int[] lb,
      float[] cb) {
    int h = net.height();
    int w = net.width();
    int c = net.channels();
    int k = net.conditionChannels();
    int px = h * w * c;
    boolean v = opts.predictionType() == SchedulerConfig.PredictionType.V_PREDICTION;
    Random rnd = Seeds.random(opts.seed(), "denoiser/batch", step);
    GaussianNoise noise = Seeds.gaussian(opts.seed(), "denoiser/noise", step);
    for (int i = 0; i < tb.length; i++) {
      int idx = sampleIndex(data.count(), (long) step * tb.length + i);
      boolean flip = opts.flip() && rnd.nextBoolean();
      int ts = rnd.nextInt(alphasCumprod.length);
      tb[i] = ts;
      wb[i] = lossWeight(alphasCumprod[ts]);
      float sa = (float) Math.sqrt(alphasCumprod[ts]);
      float sb = (float) Math.sqrt(1.0 - alphasCumprod[ts]);
      float[] x0 = data.image(idx);
      int o = i * px;
      for (int p = 0; p < px; p++) {
        float e = (float) noise.nextGaussian();
        float x0p = x0[flip ? mirror(p, w, c) : p];
        xb[o + p] = sa * x0p + sb * e;
        yb[o + p] = v ? sa * e - sb * x0p : e; // v = sqrt(ᾱ)·ε − sqrt(1−ᾱ)·x0 (Salimans & Ho 2022, Sec. 4)
      }
      if (lb != null) {
        // Classifier-free guidance training: the "no class" label (index K) with probability p_uncond.
        boolean drop = opts.labelDropout() > 0 && rnd.nextDouble() < opts.labelDropout();
        lb[i] = drop ? net.numClasses() : data.label(idx);
      }
      if (cb != null) {
        float[] ci = data.condition(idx);
        int cpx = h * w * k;
        for (int p = 0; p < cpx; p++) cb[i * cpx + p] = ci[flip ? mirror(p, w, k) : p];
      }
    }
  }

  /**
   * Min-SNR-γ weight (Hang et al. 2023, Sec. 3.4) of a timestep with cumulative ᾱ, SNR = ᾱ/(1 − ᾱ): min(SNR, γ)/SNR
   * for ε-prediction, min(SNR, γ)/(SNR + 1) for v-prediction; 1 when γ = 0 (off).
   */
  float lossWeight(float alphaCumprod) {
    double gamma = opts.minSnrGamma();
    if (gamma <= 0) return 1f;
    double snr = alphaCumprod / (1.0 - alphaCumprod);
    double clipped = Math.min(snr, gamma);
    return (float) (opts.predictionType() == SchedulerConfig.PredictionType.V_PREDICTION ? clipped / (snr + 1)
        : clipped / snr);
  }

  /** Index of the horizontally mirrored element in an HWC array. */
  private static int mirror(int p, int w, int c) {
    int ch = p % c;
    int col = (p / c) % w;
    int row = p / (c * w);
    return (row * w + (w - 1 - col)) * c + ch;
  }

  /**
   * The image of the {@code drawn}-th draw (0-based over the whole training): epoch e = drawn / n visits all n images
   * in the order of a Fisher–Yates shuffle from stream {@code denoiser/order}[e].
   */
  private int sampleIndex(int n, long drawn) {
    long epoch = drawn / n;
    if (order == null || order.length != n || orderEpoch != epoch) {
      order = new int[n];
      for (int i = 0; i < n; i++) order[i] = i;
      Random r = Seeds.random(opts.seed(), "denoiser/order", epoch);
      for (int i = n - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
      }
      orderEpoch = epoch;
    }
    return order[(int) (drawn % n)];
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
   * {@link #exportSavedModel(UNetConfig, Map, Path, double)}.
   */
  public void exportSavedModel(Path dir) throws IOException {
    exportSavedModel(dir, 0);
  }

  /** As {@link #exportSavedModel(Path)}, with classifier-free guidance of the given scale built in (0: none). */
  public void exportSavedModel(Path dir, double guidanceScale) throws IOException {
    exportSavedModel(net, emaWeights(), dir, guidanceScale);
  }

  /** Name of the single output of the exported {@code serving_default} signature. */
  public static final String OUTPUT_NAME = "sample_output";

  /**
   * Writes a SavedModel of the UNet described by {@code net} with the given weights into {@code dir} (created if
   * missing). Signature {@code serving_default}: inputs {@code x} float32 [-1,H,W,C], {@code t} float32 [-1],
   * {@code label} int32 [-1] (class-conditional only), {@code condition} float32 [-1,H,W,K] (K &gt; 0 only); output
   * {@code sample_output} float32 [-1,H,W,C] (the predicted ε or v).
   *
   * <p>With {@code guidanceScale} w ≠ 0 (networks with an unconditional label only) the graph runs the UNet on the
   * batch twice, with the given labels and with the "no class" label, and outputs classifier-free guidance
   * ŷ = (1 + w)·ŷ(x, t, label) − w·ŷ(x, t, ∅) (Ho &amp; Salimans 2022, Eq. 6; linear in the output, so the same for ε
   * and v). The contract stays the same, so every sampler uses the guided model unchanged, at twice the cost.
   */
  public static void exportSavedModel(UNetConfig net, Map<String, float[]> weights, Path dir, double guidanceScale)
      throws IOException {
    if (guidanceScale != 0 && !net.unconditionalLabel()) {
      throw new IllegalArgumentException("classifier-free guidance needs a network with an unconditional label");
    }
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
      UNetBuilder unet = new UNetBuilder(net);
      Operand<TFloat32> y;
      if (guidanceScale == 0) {
        y = unet.build(tf, store, ex, et, el, ec);
      } else {
        Operand<TInt32> none = tf.fill(tf.shape(el), tf.constant(net.numClasses()));
        Operand<TFloat32> both = unet.build(tf, store, twice(tf, ex), twice(tf, et),
            tf.concat(Arrays.asList(el, none), tf.constant(0)), ec == null ? null : twice(tf, ec));
        List<org.tensorflow.Output<TFloat32>> parts = tf.split(tf.constant(0), both, 2L).output();
        y = tf.math.sub(tf.math.mul(parts.get(0), tf.constant((float) (1 + guidanceScale))),
            tf.math.mul(parts.get(1), tf.constant((float) guidanceScale)));
      }
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

  private static Operand<TFloat32> twice(Ops tf, Operand<TFloat32> a) {
    return tf.concat(Arrays.asList(a, a), tf.constant(0));
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
