package org.diffxai.tf.proto;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.PrototypeMaps;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.core.Seeds;
import org.diffxai.core.UserException;
import org.diffxai.model.TensorFlowRuntime;
import org.diffxai.tf.Adam;
import org.diffxai.tf.DenoiserTrainer;
import org.diffxai.tf.ParamSpec;
import org.diffxai.tf.TrainingData;
import org.diffxai.tf.VariableStore;
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
import org.tensorflow.op.core.Max;
import org.tensorflow.op.core.Sum;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Trains a prototype network ({@link ProtoConfig}: PPNet, EPPNet or ProtoPool) on labelled images in model space with
 * the schedule of {@link ProtoTrainingOptions}, pushes its prototypes onto training patches, and exports it as a
 * SavedModel.
 *
 * <p>Losses (weights in {@link ProtoConfig}):
 *
 * <ul>
 *   <li>PPNet: cross-entropy + 0.8·cluster − 0.08·separation + 1e-4·L1 of the last layer's wrong-class weights, with
 *       cluster = mean over images of the minimum distance to a prototype of the image's class and separation the
 *       same for the other classes' prototypes (Chen et al. 2019, §2.2, Eq. 1);
 *   <li>EPPNet: the same on unit vectors, plus the diversity term
 *       Σ<sub>class</sub> Σ<sub>j&lt;k</sub> max(0, cos(p_j, p_k) − margin)² / #pairs over the prototypes of each class;
 *   <li>ProtoPool: class c has S slots; slot s of class c picks a pool prototype through a Gumbel-softmax over the
 *       logits q<sub>cs</sub> [M] with temperature τ annealed over the joint epochs (Jang et al. 2017; Rymarczyk et al.
 *       2022, §3); logits = W<sub>slot</sub> · (slot scores); loss = cross-entropy + λ·orthogonality with
 *       orthogonality = Σ<sub>c</sub> ‖Â<sub>c</sub>Â<sub>c</sub><sup>T</sup> − I‖²<sub>F</sub>, Â<sub>c</sub> the
 *       row-normalised slot distributions softmax(q<sub>c</sub>) of class c. Before every push the slots are made hard (argmax) and folded
 *       onto the pool: W[k][m] = Σ<sub>slots j choosing m</sub> W<sub>slot</sub>[k][j], which then is the last layer
 *       that is fine-tuned (cross-entropy + L1 on the weights of classes whose slots did not choose the prototype) and
 *       exported.
 * </ul>
 *
 * <p>Reproducible: initial weights, batch order, flips and Gumbel noise come from Java {@code Random}s seeded with the
 * seed; the graph has no random ops. Not thread-safe; close to free the native graph and session.
 */
public final class ProtoTrainer implements AutoCloseable {
  static final String SCOPE = "proto";
  /** Cosine above which the push treats a patch as a duplicate of a placed prototype: the quality metric's limit. */
  private static final double DUPLICATE = PrototypeInfo.DUPLICATE_COSINE;
  /** Percentile of the upsampled similarity map that bounds the activation box (Chen et al. 2019). */
  public static final double ACTIVATION_PERCENTILE = 95;

  /** One finished epoch: phase {@code warm}, {@code joint} or {@code last}, its mean loss and batch accuracy. */
  public static final class Epoch {
    public final int index;
    public final String phase;
    public final float loss;
    public final float accuracy;
    public final double seconds;

    Epoch(int index, String phase, float loss, float accuracy, double seconds) {
      this.index = index;
      this.phase = phase;
      this.loss = loss;
      this.accuracy = accuracy;
      this.seconds = seconds;
    }
  }

  private final ProtoConfig cfg;
  private final ProtoTrainingOptions opts;
  private final boolean pool;
  private final Graph graph;
  private final Session session;
  private final VariableStore params;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TInt32> y;
  private final Placeholder<TFloat32> classIdentity;
  private final Placeholder<TFloat32> gumbel;
  private final Placeholder<TFloat32> tau;
  private final ProtoNetBuilder.Net net;
  private final Operand<TFloat32> trainLogits;
  private final Operand<TFloat32> mainLoss;
  private final Operand<TFloat32> lastLoss;
  /** ProtoPool: [K][P] 1 in the columns of pool prototypes some slot chose, fed to {@link #keepChosen}. */
  private final Placeholder<TFloat32> chosenColumns;
  /** ProtoPool: last layer ← last layer ⊙ chosen columns, run after every last-layer step (unchosen stay at 0). */
  private final Op keepChosen;
  private final Adam warm;
  private final Adam joint;
  private final Adam last;
  private final int[] adamSteps = new int[3];
  private final Random batchRandom;
  private final Random noiseRandom;
  /** Augmentation draws (noise levels, background levels) and their Gaussian noise: named streams of the seed. */
  private final Random augmentRandom;
  private final GaussianNoise augmentNoise;
  /** Per training image, true inside the anatomy; null without background handling. */
  private List<boolean[]> foreground;
  /** [K][P]: 1 where prototype p belongs to class k. */
  private float[][] identity;
  private final List<Epoch> epochs = new ArrayList<>();
  private List<PushRecord> pushed = Collections.emptyList();
  private double seconds;

  /** Builds the training graph and initialises the weights from the seed. */
  public ProtoTrainer(ProtoConfig config, ProtoTrainingOptions options) {
    TensorFlowRuntime.ensureLoaded();
    this.cfg = new ProtoConfig(config).validate();
    this.opts = options.copy().validate();
    this.pool = cfg.method() == ProtoConfig.Method.PROTOPOOL;
    this.batchRandom = new Random(opts.seed() * 0x9E3779B97F4A7C15L + 1);
    this.noiseRandom = new Random(opts.seed() * 0x9E3779B97F4A7C15L + 2);
    this.augmentRandom = Seeds.random(opts.seed(), "proto.augment");
    this.augmentNoise = Seeds.gaussian(opts.seed(), "proto.augment.noise", 0);
    int k = cfg.numClasses();
    int p = cfg.prototypes();
    graph = new Graph();
    Session s = null;
    try {
      Ops tf = Ops.create(graph);
      x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, cfg.height(), cfg.width(),
          cfg.channels())));
      y = tf.withName("label").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      classIdentity = tf.withName("class_identity").placeholder(TFloat32.class, Placeholder.shape(Shape.of(k, p)));
      params = new VariableStore(tf, SCOPE);
      net = new ProtoNetBuilder(cfg).build(tf, params, x);
      Operand<TFloat32> onehot = tf.oneHot(y, tf.constant(k), tf.constant(1f), tf.constant(0f));
      Operand<TFloat32> wrongClass = tf.math.sub(tf.constant(1f), classIdentity);
      Operand<TFloat32> l1 = tf.sum(tf.math.abs(tf.math.mul(net.lastLayer, wrongClass)), tf.constant(new int[] {0, 1}));
      lastLoss = tf.withName("last_loss").math.add(crossEntropy(tf, net.logits, onehot),
          tf.math.mul(tf.constant((float) cfg.l1Weight()), l1));
      if (pool) {
        int slots = k * cfg.slotsPerClass();
        gumbel = tf.withName("gumbel").placeholder(TFloat32.class, Placeholder.shape(Shape.of(slots, p)));
        tau = tf.withName("tau").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
        Operand<TFloat32> q = params.get(new ParamSpec("slots.logits", new long[] {slots, p}, ParamSpec.Init.NORMAL,
            p));
        Operand<TFloat32> wSlot = params.get(new ParamSpec("slots.last_layer", new long[] {k, slots},
            ParamSpec.Init.ZEROS, slots));
        Operand<TFloat32> assign = tf.nn.softmax(tf.math.div(tf.math.add(q, gumbel), tau));
        Operand<TFloat32> slotScores = tf.linalg.matMul(net.scores, assign, MatMul.transposeB(true));
        trainLogits = tf.linalg.matMul(slotScores, wSlot, MatMul.transposeB(true));
        // Class membership of the pool prototypes: 1 where a slot of the class currently prefers it (argmax q).
        Operand<TFloat32> chosen = tf.oneHot(tf.math.argMax(tf.stopGradient(q), tf.constant(1)), tf.constant(p),
            tf.constant(1f), tf.constant(0f));
        Operand<TFloat32> membership = tf.max(tf.reshape(chosen, tf.constant(new int[] {k, cfg.slotsPerClass(), p})),
            tf.constant(1), Max.keepDims(false));
        Operand<TFloat32> own = tf.linalg.matMul(onehot, membership);
        mainLoss = tf.withName("main_loss").math.add(tf.math.add(tf.math.add(crossEntropy(tf, trainLogits, onehot),
            clusterSeparation(tf, own, cfg.featureDepth())),
            tf.math.mul(tf.constant((float) cfg.orthogonalityWeight()), orthogonality(tf, tf.nn.softmax(q)))),
            tf.math.mul(tf.constant((float) cfg.diversityWeight()), diversity(tf)));
        chosenColumns = tf.withName("chosen_columns").placeholder(TFloat32.class, Placeholder.shape(Shape.of(k, p)));
        keepChosen = tf.assign(params.variable("last_layer"), tf.math.mul(net.lastLayer, chosenColumns));
      } else {
        gumbel = null;
        tau = null;
        chosenColumns = null;
        keepChosen = null;
        trainLogits = net.logits;
        float maxD = cfg.method() == ProtoConfig.Method.EPPNET ? 4f : cfg.featureDepth();
        Operand<TFloat32> own = tf.linalg.matMul(onehot, classIdentity);
        Operand<TFloat32> loss = tf.math.add(tf.math.add(crossEntropy(tf, net.logits, onehot),
            clusterSeparation(tf, own, maxD)), tf.math.mul(tf.constant((float) cfg.l1Weight()), l1));
        loss = tf.math.add(loss, tf.math.mul(tf.constant((float) cfg.diversityWeight()), diversity(tf)));
        mainLoss = tf.withName("main_loss").identity(loss);
      }

      List<String> warmNames = new ArrayList<>();
      List<String> jointNames = new ArrayList<>();
      for (ParamSpec ps : params.specs()) {
        String n = ps.name();
        if (n.equals("last_layer")) continue;
        jointNames.add(n);
        if (!n.startsWith("backbone.")) warmNames.add(n);
      }
      warm = new Adam(tf, "adam_warm", mainLoss, params, warmNames, opts.gradientClip());
      joint = new Adam(tf, "adam_joint", mainLoss, params, jointNames, opts.gradientClip());
      last = new Adam(tf, "adam_last", lastLoss, params, Collections.singletonList("last_layer"),
          opts.gradientClip());
      params.prepareAssign();
      ConfigProto session = DenoiserTrainer.sessionConfig(opts.threads(), false);
      if (!TensorFlowRuntime.device(opts.device()).isGpu()) {
        session = session.toBuilder().putDeviceCount("GPU", 0).build(); // cpu: never place kernels on a GPU
      }
      s = new Session(graph, session);
      initialise(s);
    } catch (RuntimeException | Error e) {
      if (s != null) s.close();
      graph.close();
      throw e;
    }
    session = s;
  }

  /**
   * λ_c·cluster − λ_s·separation (Chen et al. 2019, §2.2): cluster = mean over images of the smallest distance to a
   * prototype of the image's class, separation the same over the other prototypes; {@code own} [N,P] weighs how much
   * each prototype belongs to each image's class (1/0, ProtoPool soft). Written with ProtoPNet's max-distance trick:
   * min over own = maxD − max((maxD − d)·own).
   */
  private Operand<TFloat32> clusterSeparation(Ops tf, Operand<TFloat32> own, float maxD) {
    Operand<TFloat32> closeness = tf.math.sub(tf.constant(maxD), net.minDistances);
    Operand<TFloat32> cluster = tf.math.mean(tf.math.sub(tf.constant(maxD), tf.max(tf.math.mul(closeness, own),
        tf.constant(1), Max.keepDims(false))), tf.constant(0));
    Operand<TFloat32> separation = tf.math.mean(tf.math.sub(tf.constant(maxD), tf.max(tf.math.mul(closeness,
        tf.math.sub(tf.constant(1f), own)), tf.constant(1), Max.keepDims(false))), tf.constant(0));
    return tf.math.sub(tf.math.mul(tf.constant((float) cfg.clusterWeight()), cluster),
        tf.math.mul(tf.constant((float) cfg.separationWeight()), separation));
  }

  /** −mean Σ_k onehot·log softmax(logits). */
  private static Operand<TFloat32> crossEntropy(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> onehot) {
    Operand<TFloat32> ll = tf.sum(tf.math.mul(onehot, tf.nn.logSoftmax(logits)), tf.constant(1));
    return tf.math.neg(tf.math.mean(ll, tf.constant(0)));
  }

  /**
   * Σ_c ‖Â_c Â_cᵀ − I‖²_F over the row-normalised slot distributions softmax(q) of each class (without the Gumbel
   * noise, so the term is deterministic): the slots of one class are pushed towards different pool prototypes.
   */
  private Operand<TFloat32> orthogonality(Ops tf, Operand<TFloat32> assign) {
    int slots = cfg.slotsPerClass();
    Operand<TFloat32> a = tf.reshape(assign, tf.constant(new int[] {cfg.numClasses(), slots, cfg.prototypes()}));
    Operand<TFloat32> norm = tf.math.rsqrt(tf.math.add(tf.sum(ProtoNetBuilder.square(tf, a), tf.constant(2),
        Sum.keepDims(true)), tf.constant(1e-12f)));
    Operand<TFloat32> an = tf.math.mul(a, norm);
    Operand<TFloat32> gram = tf.train.batchMatMul(an, an, TFloat32.class, BatchMatMul.adjY(true));
    float[][] eye = new float[slots][slots];
    for (int i = 0; i < slots; i++) eye[i][i] = 1;
    return tf.sum(ProtoNetBuilder.square(tf, tf.math.sub(gram, tf.constant(eye))), tf.constant(new int[] {0, 1, 2}));
  }

  /**
   * Diversity of the prototype vectors: Σ over pairs j &lt; k of max(0, cos(p_j, p_k) − margin)², divided by the
   * number of pairs; EPPNet over pairs of the same class (its formulation), PPNet and ProtoPool over all pairs (their
   * vectors are positive, so the margin is high). A separation of prototype vectors as in the orthogonality terms of
   * TesNet (Wang et al., ICCV 2021) and Deformable ProtoPNet (Donnelly et al., CVPR 2022), written as a hinge on the
   * cosine so that prototypes pay only when nearly parallel.
   */
  private Operand<TFloat32> diversity(Ops tf) {
    int p = cfg.prototypes();
    int m = cfg.prototypesPerClass();
    float[][] pairs = new float[p][p];
    int count = 0;
    for (int i = 0; i < p; i++) {
      for (int j = i + 1; j < p; j++) {
        if (!cfg.diversitySameClassOnly() || i / m == j / m) {
          pairs[i][j] = 1;
          count++;
        }
      }
    }
    if (count == 0) return tf.constant(0f);
    Operand<TFloat32> unit = tf.math.mul(net.prototypes, tf.math.rsqrt(tf.math.add(tf.sum(ProtoNetBuilder.square(tf,
        net.prototypes), tf.constant(1), Sum.keepDims(true)), tf.constant(1e-12f))));
    Operand<TFloat32> cos = tf.linalg.matMul(unit, unit, MatMul.transposeB(true));
    Operand<TFloat32> hinge = tf.nn.relu(tf.math.sub(cos, tf.constant((float) cfg.diversityMargin())));
    return tf.math.div(tf.sum(tf.math.mul(ProtoNetBuilder.square(tf, hinge), tf.constant(pairs)),
        tf.constant(new int[] {0, 1})), tf.constant((float) count));
  }

  /**
   * Seeded initial weights; the last layer is 1 for a prototype's own class and −0.5 otherwise (Chen et al. 2019,
   * §2.2), ProtoPool's slot layer likewise for each class's slots; Adam moments at zero.
   */
  private void initialise(Session s) {
    Random rnd = new Random(opts.seed());
    Map<String, float[]> init = new LinkedHashMap<>();
    for (ParamSpec ps : params.specs()) init.put(ps.name(), ps.initialValues(rnd));
    int k = cfg.numClasses();
    int p = cfg.prototypes();
    identity = new float[k][p];
    if (pool) {
      int slots = cfg.slotsPerClass();
      float[] w = init.get("slots.last_layer");
      for (int c = 0; c < k; c++) {
        for (int j = 0; j < k * slots; j++) w[c * k * slots + j] = j / slots == c ? 1f : -0.5f;
      }
    } else {
      int m = cfg.prototypesPerClass();
      for (int j = 0; j < p; j++) identity[j / m][j] = 1;
      init.put("last_layer", initialLastLayer(identity));
    }
    params.assignAll(s, init);
    warm.reset(s);
    joint.reset(s);
    last.reset(s);
  }

  private static float[] initialLastLayer(float[][] identity) {
    int k = identity.length;
    int p = identity[0].length;
    float[] w = new float[k * p];
    for (int c = 0; c < k; c++) {
      for (int j = 0; j < p; j++) w[c * p + j] = identity[c][j] > 0 ? 1f : -0.5f;
    }
    return w;
  }

  // ---------------------------------------------------------------------------------------------- training

  /**
   * Runs the whole schedule on {@code data} (labels required; classes as configured).
   *
   * @throws org.diffxai.core.CancelledException when the progress reports a cancel
   * @throws UserException when the loss becomes NaN or infinite
   */
  public void train(TrainingData data, Progress progress) {
    train(data, null, progress);
  }

  /**
   * Runs the whole schedule; {@code foreground} (per training image, H·W flags true inside the anatomy) is needed
   * when the options' background is not {@code keep}: training batches then randomise or mask the pixels outside, and
   * the push considers only latent patches whose receptive-field centre lies inside.
   */
  public void train(TrainingData data, List<boolean[]> foreground, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    checkData(data);
    if (opts.background() != ProtoTrainingOptions.Background.KEEP) {
      if (foreground == null || foreground.size() != data.count()) {
        throw new IllegalArgumentException("background=" + opts.background().key() + " needs one foreground mask per "
            + "training image");
      }
      for (boolean[] f : foreground) {
        if (f.length != cfg.height() * cfg.width()) throw new IllegalArgumentException("foreground mask size");
      }
      this.foreground = foreground;
    }
    int[] labels = data.labels();
    int e = opts.epochs();
    int w = opts.warmupEpochs();
    int pushes = 0;
    for (int i = 0; i < e; i++) {
      if (pushAfter(i)) pushes++;
    }
    double total = e + pushes * (1.0 + opts.lastLayerEpochs());
    double done = 0;
    for (int i = 0; i < e; i++) {
      boolean warmUp = i < w;
      float t = warmUp ? (float) opts.tauStart() : tauAt(i - w, e - w);
      runEpoch(warmUp ? "warm" : "joint", data, labels, t, progress, done / total, 1 / total);
      done++;
      if (pushAfter(i)) {
        if (pool) fold();
        push(data, labels, progress, done / total);
        done++;
        for (int l = 0; l < opts.lastLayerEpochs(); l++) {
          runEpoch("last", data, labels, 0, progress, done / total, 1 / total);
          done++;
        }
      }
    }
  }

  private boolean pushAfter(int epoch) {
    int w = opts.warmupEpochs();
    return epoch == opts.epochs() - 1 || (epoch >= w && (epoch + 1 - w) % opts.pushEvery() == 0);
  }

  /** ProtoPool's temperature after {@code j} of {@code n} joint epochs: geometric from τ_start to τ_end. */
  private float tauAt(int j, int n) {
    double f = n <= 1 ? 1 : j / (double) (n - 1);
    return (float) (opts.tauStart() * Math.pow(opts.tauEnd() / opts.tauStart(), f));
  }

  private void checkData(TrainingData data) {
    if (data.height() != cfg.height() || data.width() != cfg.width() || data.channels() != cfg.channels()) {
      throw new IllegalArgumentException("Data are " + data.height() + "x" + data.width() + "x" + data.channels()
          + " but the network expects " + cfg.height() + "x" + cfg.width() + "x" + cfg.channels());
    }
    if (data.numClasses() != cfg.numClasses()) {
      throw new IllegalArgumentException("Data have " + data.numClasses() + " classes, the network "
          + cfg.numClasses());
    }
  }

  private void runEpoch(String phase, TrainingData data, int[] labels, float tauNow, Progress progress, double start,
      double span) {
    int n = data.count();
    int b = Math.min(opts.batch(), n);
    int px = cfg.height() * cfg.width() * cfg.channels();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
      int j = batchRandom.nextInt(i + 1);
      int tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    int which = phase.equals("warm") ? 0 : phase.equals("joint") ? 1 : 2;
    Adam adam = which == 0 ? warm : which == 1 ? joint : last;
    double lr = which == 0 ? opts.warmupLearningRate() : which == 1 ? opts.learningRate()
        : opts.lastLayerLearningRate();
    Operand<TFloat32> loss = which == 2 ? lastLoss : mainLoss;
    Operand<TFloat32> logits = which == 2 ? net.logits : trainLogits;
    long t0 = System.nanoTime();
    double lossSum = 0;
    int correct = 0;
    int batches = (n + b - 1) / b;
    for (int bi = 0; bi < batches; bi++) {
      progress.checkCancelled();
      int from = bi * b;
      int m = Math.min(b, n - from);
      float[] xb = new float[m * px];
      int[] yb = new int[m];
      for (int i = 0; i < m; i++) {
        int idx = order[from + i];
        boolean flip = opts.flip() && batchRandom.nextBoolean();
        copyImage(data.image(idx), xb, i * px, flip);
        augment(xb, i * px, idx, flip);
        yb[i] = labels[idx];
      }
      List<Tensor> feeds = new ArrayList<>();
      float l;
      float[] lg = new float[m * cfg.numClasses()];
      try {
        Session.Runner r = session.runner();
        r.feed(x, add(feeds, TFloat32.tensorOf(Shape.of(m, cfg.height(), cfg.width(), cfg.channels()),
            DataBuffers.of(xb, true, false))));
        r.feed(y, add(feeds, TInt32.tensorOf(Shape.of(m), DataBuffers.of(yb, true, false))));
        r.feed(classIdentity, add(feeds, matrix(identity)));
        if (pool) {
          r.feed(gumbel, add(feeds, gumbelNoise()));
          r.feed(tau, add(feeds, TFloat32.scalarOf(which == 2 ? 1f : tauNow)));
        }
        adam.feed(r, (float) lr, adamSteps[which]++, feeds);
        r.fetch(loss).fetch(logits);
        for (Op op : adam.updates()) r.addTarget(op);
        try (Result res = r.run()) {
          l = ((TFloat32) res.get(0)).getFloat();
          ((TFloat32) res.get(1)).copyTo(DataBuffers.of(lg, false, false));
        }
      } finally {
        for (Tensor t : feeds) t.close();
      }
      if (pool && which == 2) keepChosenColumns();
      if (!Float.isFinite(l)) {
        throw new UserException("Training diverged (loss " + l + ") in a " + phase + " epoch. Lower learning_rate "
            + "(e.g. by a factor of 10) and train again.");
      }
      lossSum += l * m;
      for (int i = 0; i < m; i++) {
        if (argmax(lg, i * cfg.numClasses(), cfg.numClasses()) == yb[i]) correct++;
      }
      progress.report(String.format(Locale.ROOT, "Training %s: %s epoch %d, batch %d/%d, loss %.4f", cfg.method(),
          phase, epochs.size() + 1, bi + 1, batches, l), start + span * (bi + 1.0) / batches);
    }
    seconds += (System.nanoTime() - t0) / 1e9;
    epochs.add(new Epoch(epochs.size() + 1, phase, (float) (lossSum / n), correct / (float) n, seconds));
  }

  /**
   * Training-time changes to one copied image (model space, 1 channel handled per value): the background option on
   * the pixels outside its foreground (randomize: N(μ, s²) with μ ~ U(−1, 1), s ~ U(0, 0.5) per image; mask: −1, the
   * darkest value inputs are clipped to), then intensity augmentation (a·x + b, a ~ U(1 − j, 1 + j), b ~ U(−j, j)),
   * then noise augmentation (N(0, σ²), σ ~ U(0, noise) per image), then clipping to [−1, 1]: the augmentations of
   * nnU-Net's set that model scanner differences (Isensee et al., Nature Methods 2021: brightness, contrast,
   * Gaussian noise).
   */
  private void augment(float[] xb, int off, int image, boolean flipped) {
    ProtoTrainingOptions.Background bg = opts.background();
    int w = cfg.width();
    int c = cfg.channels();
    int px = cfg.height() * w * c;
    boolean changed = false;
    if (bg != ProtoTrainingOptions.Background.KEEP) {
      boolean[] f = foreground.get(image);
      double mu = augmentRandom.nextDouble() * 2 - 1;
      double sd = augmentRandom.nextDouble() * 0.5;
      for (int q = 0; q < px; q++) {
        int pixel = q / c;
        int row = pixel / w;
        int col = flipped ? w - 1 - pixel % w : pixel % w;
        if (f[row * w + col]) continue;
        xb[off + q] = bg == ProtoTrainingOptions.Background.MASK ? -1f
            : (float) (mu + sd * augmentNoise.nextGaussian());
      }
      changed = true;
    }
    if (opts.intensity() > 0) {
      double a = 1 + (augmentRandom.nextDouble() * 2 - 1) * opts.intensity();
      double shift = (augmentRandom.nextDouble() * 2 - 1) * opts.intensity();
      for (int q = 0; q < px; q++) xb[off + q] = (float) (a * xb[off + q] + shift);
      changed = true;
    }
    if (opts.noise() > 0) {
      double sigma = augmentRandom.nextDouble() * opts.noise();
      for (int q = 0; q < px; q++) xb[off + q] += (float) (sigma * augmentNoise.nextGaussian());
      changed = true;
    }
    if (changed) {
      for (int q = 0; q < px; q++) xb[off + q] = Math.max(-1f, Math.min(1f, xb[off + q]));
    }
  }

  /** Copies an HWC image, mirrored left-right when asked. */
  private void copyImage(float[] src, float[] dst, int off, boolean flip) {
    int w = cfg.width();
    int c = cfg.channels();
    if (!flip) {
      System.arraycopy(src, 0, dst, off, src.length);
      return;
    }
    for (int row = 0; row < cfg.height(); row++) {
      for (int col = 0; col < w; col++) {
        System.arraycopy(src, (row * w + (w - 1 - col)) * c, dst, off + (row * w + col) * c, c);
      }
    }
  }

  private TFloat32 gumbelNoise() {
    int slots = cfg.numClasses() * cfg.slotsPerClass();
    float[] g = new float[slots * cfg.prototypes()];
    for (int i = 0; i < g.length; i++) {
      double u = Math.max(1e-12, Math.min(1 - 1e-12, noiseRandom.nextDouble()));
      g[i] = (float) -Math.log(-Math.log(u));
    }
    return TFloat32.tensorOf(Shape.of(slots, cfg.prototypes()), DataBuffers.of(g, true, false));
  }

  private static TFloat32 matrix(float[][] a) {
    float[] flat = new float[a.length * a[0].length];
    for (int i = 0; i < a.length; i++) System.arraycopy(a[i], 0, flat, i * a[0].length, a[0].length);
    return TFloat32.tensorOf(Shape.of(a.length, a[0].length), DataBuffers.of(flat, true, false));
  }

  private static <T extends Tensor> T add(List<Tensor> l, T t) {
    l.add(t);
    return t;
  }

  static int argmax(float[] a, int off, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (a[off + i] > a[off + best]) best = i;
    }
    return best;
  }

  // ---------------------------------------------------------------------------------------------- ProtoPool folding

  /**
   * ProtoPool: makes every slot's choice hard (the pool prototype with the largest slot logit) and folds the slot
   * layer onto the pool, W[k][m] = Σ_{slots j choosing m} W_slot[k][j], so that logits = W · focal scores exactly
   * reproduces the hard-assigned slot network. A prototype belongs to every class one of whose slots chose it.
   */
  private void fold() {
    Map<String, float[]> w = params.read(session);
    int k = cfg.numClasses();
    int p = cfg.prototypes();
    int slots = k * cfg.slotsPerClass();
    float[] q = w.get("slots.logits");
    float[] wSlot = w.get("slots.last_layer");
    float[] folded = new float[k * p];
    identity = new float[k][p];
    for (int j = 0; j < slots; j++) {
      int m = argmax(q, j * p, p);
      identity[j / cfg.slotsPerClass()][m] = 1;
      for (int c = 0; c < k; c++) folded[c * p + m] += wSlot[c * slots + j];
    }
    w.put("last_layer", folded);
    params.assignAll(session, w);
  }

  /** True when a slot of some class chose pool prototype {@code j} at the last fold. */
  private boolean chosen(int j) {
    for (float[] row : identity) {
      if (row[j] > 0) return true;
    }
    return false;
  }

  /**
   * ProtoPool's last-layer epochs train W only on the columns of chosen prototypes: after every step the other
   * columns are set back to the 0 the fold gave them, so the unchosen prototypes never enter the logits.
   */
  private void keepChosenColumns() {
    float[][] keep = new float[cfg.numClasses()][cfg.prototypes()];
    for (int j = 0; j < cfg.prototypes(); j++) {
      if (!chosen(j)) continue;
      for (float[] row : keep) row[j] = 1;
    }
    try (TFloat32 t = matrix(keep)) {
      session.runner().feed(chosenColumns, t).addTarget(keepChosen).run();
    }
  }

  /**
   * ProtoPool after {@link #train}: a trainer holding the same network without the pool prototypes no slot chose
   * (their last-layer columns are 0, so the logits are unchanged; they take part in no explanation, and their
   * vectors, pushed by the separation term away from every patch and then onto the nearest free one, are copies of
   * one another and of chosen prototypes). Prototypes keep their order; push records are renumbered. The pool size of
   * the returned configuration is the number kept ({@link ProtoConfig#removedFromPool()} the number removed); its
   * slot parameters are unused. PPNet/EPPNet, a network never pushed, or a pool all of whose prototypes were chosen:
   * this trainer. The caller closes both.
   */
  public ProtoTrainer withoutUnchosen() {
    if (!pool || pushed.isEmpty()) return this;
    int p = cfg.prototypes();
    int d = cfg.featureDepth();
    int k = cfg.numClasses();
    int[] newIndex = new int[p];
    int n = 0;
    for (int j = 0; j < p; j++) newIndex[j] = chosen(j) ? n++ : -1;
    if (n == p) return this;
    ProtoConfig small = new ProtoConfig(cfg).poolSize(n).slotsPerClass(Math.min(cfg.slotsPerClass(), n))
        .removedFromPool(cfg.removedFromPool() + p - n);
    ProtoTrainer t = new ProtoTrainer(small, opts);
    try {
      Map<String, float[]> from = params.read(session);
      Map<String, float[]> to = t.params.read(t.session);
      float[] protos = new float[n * d];
      float[] last = new float[k * n];
      float[] oldLast = from.get("last_layer");
      t.identity = new float[k][n];
      for (int j = 0; j < p; j++) {
        int m = newIndex[j];
        if (m < 0) continue;
        System.arraycopy(from.get("prototypes"), j * d, protos, m * d, d);
        for (int c = 0; c < k; c++) {
          last[c * n + m] = oldLast[c * p + j];
          t.identity[c][m] = identity[c][j];
        }
      }
      for (Map.Entry<String, float[]> e : to.entrySet()) {
        if (!e.getKey().startsWith("slots.")) e.setValue(from.get(e.getKey()));
      }
      to.put("prototypes", protos);
      to.put("last_layer", last);
      t.params.assignAll(t.session, to);
      List<PushRecord> records = new ArrayList<>();
      for (PushRecord r : pushed) {
        if (newIndex[r.prototype] < 0) continue;
        records.add(new PushRecord(newIndex[r.prototype], r.sourceIndex, r.patchRow, r.patchCol, r.distance,
            r.receptiveBox, r.activationBox));
      }
      t.pushed = Collections.unmodifiableList(records);
      t.epochs.addAll(epochs);
      t.seconds = seconds;
      return t;
    } catch (RuntimeException | Error e) {
      t.close();
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------- push

  /**
   * Replaces every prototype by a latent patch of a training image it may represent (an image of its class; ProtoPool:
   * of a class one of whose slots chose it, any image if none did) and records where it came from. Images are not
   * flipped. With a background option other than keep, only patches whose receptive-field centre lies in the
   * image's foreground are candidates.
   *
   * <p>The assignment is unique (docs/prototype-networks.md, "Push"): no two prototypes take the same training patch,
   * and none takes a patch whose latent vector has a cosine similarity above
   * {@value PrototypeInfo#DUPLICATE_COSINE} with a prototype already placed (a duplicate in the sense of
   * {@code metrics.PrototypeQuality}). Greedy by distance, in rounds: each round scans the training images once and
   * finds, for every prototype not yet placed, its nearest admissible patch (not taken, not a duplicate of a placed
   * prototype); these pairs are accepted in order of increasing distance (ties: lower prototype index) unless they
   * collide with a pair accepted earlier in the same round (same patch, or cosine above the limit), in which case the
   * prototype waits for the next round. A prototype for which no admissible patch is left takes its nearest patch no
   * other prototype took (so a class with fewer distinct patches than prototypes still gets all of them pushed; the
   * bundle then has duplicates). ProtoPool: the pool prototypes some slot chose are placed first, those no slot chose
   * after them (with their own fallback), so that prototypes without a say in the decision cannot use up the patches.
   */
  private void push(TrainingData data, int[] labels, Progress progress, double at) {
    progress.report("Pushing " + cfg.prototypes() + " prototypes onto training patches", at);
    int p = cfg.prototypes();
    int h = cfg.gridHeight();
    int w = cfg.gridWidth();
    boolean[] anyClass = new boolean[p];
    for (int j = 0; j < p; j++) {
      boolean used = false;
      for (float[] row : identity) used |= row[j] > 0;
      anyClass[j] = !used;
    }
    boolean[] allowed = allowedCells(data.count());
    Candidate[] chosen = new Candidate[p];
    java.util.Set<Long> taken = new java.util.HashSet<>();
    // Prototypes that belong to a class first; ProtoPool's pool prototypes no slot chose (no part in the decision)
    // after them, so that they cannot use up the distinct patches the chosen ones need.
    for (boolean tier : new boolean[] {false, true}) {
      boolean strict = true;
      while (true) {
        List<Integer> open = new ArrayList<>();
        for (int j = 0; j < p; j++) if (chosen[j] == null && anyClass[j] == tier) open.add(j);
        if (open.isEmpty()) break;
        Candidate[] best = nearestAdmissible(data, labels, open, anyClass, allowed, chosen, taken, strict);
        List<Candidate> round = new ArrayList<>();
        for (Candidate c : best) if (c != null) round.add(c);
        if (round.isEmpty()) {
          if (!strict) {
            throw new UserException("Cannot push prototype " + open.get(0) + ": its class has fewer training "
                + "patches than prototypes. Use fewer prototypes or more training images.");
          }
          strict = false; // no admissible patch left: allow duplicates by cosine, never the same patch
          continue;
        }
        Collections.sort(round);
        List<Candidate> accepted = new ArrayList<>();
        for (Candidate c : round) {
          boolean clash = false;
          for (Candidate a : accepted) {
            clash |= a.patchKey(h * w) == c.patchKey(h * w)
                || (strict && PrototypeInfo.cosine(a.vector, c.vector) > DUPLICATE);
          }
          if (clash) continue;
          accepted.add(c);
          chosen[c.prototype] = c;
          taken.add(c.patchKey(h * w));
        }
      }
    }
    int d = cfg.featureDepth();
    float[] best = new float[p];
    int[] src = new int[p];
    int[] pos = new int[p];
    float[][] vectors = new float[p][];
    for (int j = 0; j < p; j++) {
      best[j] = chosen[j].distance;
      src[j] = chosen[j].image;
      pos[j] = chosen[j].cell;
      vectors[j] = chosen[j].vector;
    }
    Map<String, float[]> weights = params.read(session);
    float[] flat = new float[p * d];
    for (int j = 0; j < p; j++) System.arraycopy(vectors[j], 0, flat, j * d, d);
    weights.put("prototypes", flat);
    params.assignAll(session, weights);

    // Provenance: receptive field of the patch, and the 95th-percentile box of the prototype's upsampled similarity
    // map on its source image (Chen et al. 2019), both in the source image's pixels.
    PrototypeMaps.ReceptiveField rf = cfg.receptiveField();
    List<PushRecord> records = new ArrayList<>();
    for (int j = 0; j < p; j++) {
      float[] sim = run(data, src[j], 1, net.similarity)[0];
      float[] map = new float[h * w];
      for (int q = 0; q < h * w; q++) map[q] = sim[q * p + j];
      float[] up = PrototypeMaps.upsampleBicubic(map, h, w, cfg.height(), cfg.width());
      int row = pos[j] / w;
      int col = pos[j] % w;
      records.add(new PushRecord(j, src[j], row, col, best[j], rf.box(row, col, cfg.height(), cfg.width()),
          PrototypeMaps.percentileBox(up, cfg.height(), cfg.width(), ACTIVATION_PERCENTILE)));
    }
    pushed = Collections.unmodifiableList(records);
  }

  /**
   * One scan of the training images: for each prototype in {@code open}, its nearest patch that it may represent, that
   * no placed prototype took and (when {@code strict}) whose vector has cosine at most
   * {@value PrototypeInfo#DUPLICATE_COSINE} with every placed prototype; null where there is none. Ties: the lower
   * image and cell index.
   */
  private Candidate[] nearestAdmissible(TrainingData data, int[] labels, List<Integer> open, boolean[] anyClass,
      boolean[] allowed, Candidate[] chosen, java.util.Set<Long> taken, boolean strict) {
    int p = cfg.prototypes();
    int d = cfg.featureDepth();
    int cells = cfg.gridHeight() * cfg.gridWidth();
    Candidate[] best = new Candidate[p];
    int n = data.count();
    int b = Math.max(1, opts.batch());
    for (int from = 0; from < n; from += b) {
      int m = Math.min(b, n - from);
      float[][] out = run(data, from, m, net.features, net.distances);
      float[] z = out[0];
      float[] dist = out[1];
      for (int i = 0; i < m; i++) {
        int image = from + i;
        for (int q = 0; q < cells; q++) {
          if (allowed != null && !allowed[image * cells + q]) continue;
          if (taken.contains((long) image * cells + q)) continue;
          int at = (i * cells + q) * d;
          boolean duplicate = false;
          for (int j = 0; strict && j < p && !duplicate; j++) {
            duplicate = chosen[j] != null && PrototypeInfo.cosine(chosen[j].vector, z, at, d) > DUPLICATE;
          }
          if (duplicate) continue;
          for (int j : open) {
            if (!anyClass[j] && identity[labels[image]][j] == 0) continue;
            float v = dist[(i * cells + q) * p + j];
            if (best[j] == null || v < best[j].distance) {
              best[j] = new Candidate(v, j, image, q, Arrays.copyOfRange(z, at, at + d));
            }
          }
        }
      }
    }
    return best;
  }

  /**
   * With a background option: [image·h·w + cell] true when the receptive-field centre of the latent cell lies in the
   * image's foreground; null otherwise (every patch is allowed).
   */
  private boolean[] allowedCells(int n) {
    if (foreground == null) return null;
    int h = cfg.gridHeight();
    int w = cfg.gridWidth();
    PrototypeMaps.ReceptiveField rf = cfg.receptiveField();
    boolean[] ok = new boolean[n * h * w];
    for (int i = 0; i < n; i++) {
      boolean[] f = foreground.get(i);
      for (int row = 0; row < h; row++) {
        int y = (int) Math.min(cfg.height() - 1, Math.max(0, Math.round(rf.start + row * (double) rf.jump)));
        for (int col = 0; col < w; col++) {
          int x = (int) Math.min(cfg.width() - 1, Math.max(0, Math.round(rf.start + col * (double) rf.jump)));
          ok[(i * h + row) * w + col] = f[y * cfg.width() + x];
        }
      }
    }
    return ok;
  }

  /** A push candidate: a prototype, a training patch and their distance; ordered by distance, then indices. */
  private static final class Candidate implements Comparable<Candidate> {
    final float distance;
    final int prototype;
    final int image;
    final int cell;
    final float[] vector;

    Candidate(float distance, int prototype, int image, int cell, float[] vector) {
      this.distance = distance;
      this.prototype = prototype;
      this.image = image;
      this.cell = cell;
      this.vector = vector;
    }

    long patchKey(int cells) {
      return (long) image * cells + cell;
    }

    @Override
    public int compareTo(Candidate o) {
      int c = Float.compare(distance, o.distance);
      if (c != 0) return c;
      c = Integer.compare(prototype, o.prototype);
      if (c != 0) return c;
      c = Integer.compare(image, o.image);
      return c != 0 ? c : Integer.compare(cell, o.cell);
    }
  }

  /** Runs the graph on images [from, from+m) of {@code data} (not flipped) and returns the fetched outputs flat. */
  @SafeVarargs
  private final float[][] run(TrainingData data, int from, int m, Operand<TFloat32>... fetches) {
    int px = cfg.height() * cfg.width() * cfg.channels();
    float[] xb = new float[m * px];
    for (int i = 0; i < m; i++) System.arraycopy(data.image(from + i), 0, xb, i * px, px);
    return run(xb, m, fetches);
  }

  @SafeVarargs
  private final float[][] run(float[] xb, int m, Operand<TFloat32>... fetches) {
    try (TFloat32 in = TFloat32.tensorOf(Shape.of(m, cfg.height(), cfg.width(), cfg.channels()),
        DataBuffers.of(xb, true, false))) {
      Session.Runner r = session.runner().feed(x, in);
      for (Operand<TFloat32> f : fetches) r.fetch(f);
      try (Result res = r.run()) {
        float[][] out = new float[fetches.length][];
        for (int i = 0; i < fetches.length; i++) {
          TFloat32 t = (TFloat32) res.get(i);
          out[i] = new float[(int) t.shape().size()];
          t.copyTo(DataBuffers.of(out[i], false, false));
        }
        return out;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------- results

  /** Logits [n][K] of the exported network (ProtoPool: folded; meaningful after {@link #train}). */
  public float[][] logits(TrainingData data) {
    return perImage(data, net.logits, cfg.numClasses());
  }

  /**
   * Latent patches [n][h·w·D] (row-major h, w, D) in the prototypes' space, computed in the batches the push uses, so
   * a pushed prototype equals its source patch here bit for bit.
   */
  public float[][] features(TrainingData data) {
    return perImage(data, net.features, cfg.gridHeight() * cfg.gridWidth() * cfg.featureDepth());
  }

  /** Per-prototype minimum distances [n][P] of the exported network (the {@code min_distances} output). */
  public float[][] minDistances(TrainingData data) {
    return perImage(data, net.minDistances, cfg.prototypes());
  }

  /** One output of {@code len} values per image, computed in batches of the training batch size. */
  private float[][] perImage(TrainingData data, Operand<TFloat32> fetch, int len) {
    float[][] out = new float[data.count()][len];
    int b = Math.max(1, opts.batch());
    for (int from = 0; from < data.count(); from += b) {
      int m = Math.min(b, data.count() - from);
      float[] v = run(data, from, m, fetch)[0];
      for (int i = 0; i < m; i++) System.arraycopy(v, i * len, out[from + i], 0, len);
    }
    return out;
  }

  /** Fraction of {@code data} whose largest logit is its label. */
  public double accuracy(TrainingData data) {
    if (data.count() == 0) return Double.NaN;
    float[][] lg = logits(data);
    int[] labels = data.labels();
    int ok = 0;
    for (int i = 0; i < lg.length; i++) {
      if (argmax(lg[i], 0, lg[i].length) == labels[i]) ok++;
    }
    return ok / (double) lg.length;
  }

  public ProtoConfig config() {
    return new ProtoConfig(cfg);
  }

  public ProtoTrainingOptions options() {
    return opts.copy();
  }

  /** Every finished epoch, in order. */
  public List<Epoch> epochs() {
    return Collections.unmodifiableList(new ArrayList<>(epochs));
  }

  /** The last push (empty before the first). */
  public List<PushRecord> pushRecords() {
    return pushed;
  }

  /** Seconds spent in epochs (graph building and pushes excluded). */
  public double seconds() {
    return seconds;
  }

  /** Current weights by parameter name. */
  public Map<String, float[]> weights() {
    return params.read(session);
  }

  /** [K][P]: 1 where prototype p belongs to class k (ProtoPool: where a slot of class k chose p). */
  public float[][] classIdentity() {
    float[][] c = new float[identity.length][];
    for (int i = 0; i < c.length; i++) c[i] = identity[i].clone();
    return c;
  }

  /** Number of scalars the exported network has. */
  public long exportedParameterCount() {
    long n = 0;
    for (ParamSpec s : params.specs()) {
      if (!s.name().startsWith("slots.")) n += s.size();
    }
    return n;
  }

  /** Names of the outputs of the exported signatures. */
  public static final String LOGITS = "logits";
  public static final String SCORES = "scores";
  public static final String SIMILARITY = "similarity";
  public static final String MIN_DISTANCES = "min_distances";
  public static final String FEATURES = "features";
  /** Keys of the extra signatures. */
  public static final String PROTOTYPES_SIGNATURE = "prototypes";
  public static final String FEATURES_SIGNATURE = "features";

  /**
   * Writes the current weights as a SavedModel (tag {@code serve}) into {@code dir}: a clean inference graph with
   * signatures {@code serving_default} (x → logits), {@code prototypes} (x → logits, scores, similarity,
   * min_distances) and {@code features} (x → features); see docs/classifiers.md.
   */
  public void exportSavedModel(Path dir) throws IOException {
    Map<String, float[]> weights = params.read(session);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> ex = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1,
          cfg.height(), cfg.width(), cfg.channels())));
      VariableStore store = new VariableStore(tf, SCOPE);
      ProtoNetBuilder.Net n = new ProtoNetBuilder(cfg).build(tf, store, ex);
      store.prepareAssign();
      Operand<TFloat32> logits = tf.withName(LOGITS).identity(n.logits);
      Signature serving = Signature.builder().key(Signature.DEFAULT_KEY).input("x", ex).output(LOGITS, logits)
          .build();
      Signature protos = Signature.builder().key(PROTOTYPES_SIGNATURE).input("x", ex).output(LOGITS, logits)
          .output(SCORES, tf.withName(SCORES).identity(n.scores))
          .output(SIMILARITY, tf.withName(SIMILARITY).identity(n.similarity))
          .output(MIN_DISTANCES, tf.withName(MIN_DISTANCES).identity(n.minDistances)).build();
      Signature feats = Signature.builder().key(FEATURES_SIGNATURE).input("x", ex)
          .output(FEATURES, tf.withName(FEATURES).identity(n.features)).build();
      try (Session s = new Session(g, DenoiserTrainer.sessionConfig(0, false))) {
        store.assignAll(s, weights);
        SavedModelBundle.exporter(dir.toString()).withTags(SavedModelBundle.DEFAULT_TAG)
            .withFunctions(SessionFunction.create(serving, s), SessionFunction.create(protos, s),
                SessionFunction.create(feats, s)).export();
      }
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
