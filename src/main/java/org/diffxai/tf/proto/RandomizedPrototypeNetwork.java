package org.diffxai.tf.proto;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.core.UserException;
import org.diffxai.core.Randomization;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.SavedModels;
import org.diffxai.model.TensorFlowRuntime;
import org.diffxai.tf.DenoiserTrainer;
import org.diffxai.tf.ParamSpec;
import org.diffxai.tf.VariableStore;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The model-randomisation control of Adebayo et al. ("Sanity checks for saliency maps", NeurIPS 2018, §3.1): a
 * prototype network of the same architecture as a trained bundle whose weights are re-initialised, from the top of the
 * network down, exactly as {@link ProtoTrainer} initialises a new network with the given seed:
 *
 * <ul>
 *   <li>{@link Randomization#TOP}: the last layer, the prototypes and the add-on layers are re-initialised; the backbone keeps
 *       its trained weights (read from the bundle's SavedModel);
 *   <li>{@link Randomization#FULL}: every layer is re-initialised (the end of Adebayo et al.'s cascade).
 * </ul>
 *
 * Re-initialised means: convolutions He-uniform, biases zero, prototypes U(0, 1) (the trainer's {@link ParamSpec}s,
 * drawn in creation order from {@code new Random(seed)}, so FULL equals the trainer's starting network at that seed);
 * the last layer 1 from a prototype to its own class and −0.5 to the others (Chen et al. 2019, §2.2), ProtoPool's
 * prototype classes coming from random slot assignments folded as the trainer folds them. The architecture comes from
 * the bundle's prototypes.json ({@code hyperparameters}, {@code input}, {@code latent}), so only bundles written by
 * Train Prototype Network can be randomised.
 *
 * <p>Runs in a TensorFlow Java session of its own (no file is written). Images are in image intensity and mapped to
 * model space as the bundle says. Not thread-safe; close to free the native graph.
 */
public final class RandomizedPrototypeNetwork implements PrototypeClassifier {

  private static final int BATCH = 32;

  private final ClassifierBundle bundle;
  private final ProtoConfig cfg;
  private final List<String> classNames;
  private final Graph graph;
  private final Session session;
  private final Placeholder<TFloat32> x;
  private final ProtoNetBuilder.Net net;
  private final float[][] lastLayer;
  private final float[][] vectors;
  private final int[] prototypeClass;

  private RandomizedPrototypeNetwork(ClassifierBundle bundle, ProtoConfig cfg, List<String> trained, long seed,
      boolean trust) {
    this.bundle = bundle;
    this.cfg = cfg;
    this.classNames = Collections.unmodifiableList(new ArrayList<>(bundle.classNames()));
    graph = new Graph();
    Session s = null;
    try {
      Ops tf = Ops.create(graph);
      x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, cfg.height(), cfg.width(),
          cfg.channels())));
      VariableStore store = new VariableStore(tf, ProtoTrainer.SCOPE);
      net = new ProtoNetBuilder(cfg).build(tf, store, x);
      store.prepareAssign();
      Map<String, float[]> w = initialWeights(store, seed);
      if (!trained.isEmpty()) w.putAll(trainedWeights(bundle, store, trained, trust));
      s = new Session(graph, DenoiserTrainer.sessionConfig(0, false));
      store.assignAll(s, w);
    } catch (RuntimeException | Error e) {
      if (s != null) s.close();
      graph.close();
      throw e;
    }
    session = s;
    Map<String, float[]> w = currentWeights();
    int k = cfg.numClasses(), p = cfg.prototypes(), d = cfg.featureDepth();
    lastLayer = new float[k][];
    for (int c = 0; c < k; c++) lastLayer[c] = Arrays.copyOfRange(w.get("last_layer"), c * p, (c + 1) * p);
    vectors = new float[p][];
    for (int j = 0; j < p; j++) vectors[j] = Arrays.copyOfRange(w.get("prototypes"), j * d, (j + 1) * d);
    prototypeClass = new int[p];
    for (int j = 0; j < p; j++) {
      for (int c = 1; c < k; c++) if (lastLayer[c][j] > lastLayer[prototypeClass[j]][j]) prototypeClass[j] = c;
    }
  }

  /**
   * A randomised copy of the bundle's network.
   *
   * @throws UserException when the bundle is not a prototype network written by Train Prototype Network
   */
  public static RandomizedPrototypeNetwork of(ClassifierBundle bundle, Randomization stage, long seed) {
    return of(bundle, stage, seed, false);
  }

  /**
   * {@link #of(ClassifierBundle, Randomization, long)}; stage {@code top} reads the bundle's SavedModel, trusting it when
   * {@code trust} ({@link org.diffxai.model.ModelTrust}).
   */
  public static RandomizedPrototypeNetwork of(ClassifierBundle bundle, Randomization stage, long seed, boolean trust) {
    return withTrained(bundle, stage == Randomization.TOP ? Collections.singletonList("backbone.")
        : Collections.<String>emptyList(), seed, trust);
  }

  /** The network with the parameters whose names start with one of {@code trained} read from the bundle. */
  static RandomizedPrototypeNetwork withTrained(ClassifierBundle bundle, List<String> trained, long seed,
      boolean trust) {
    ProtoConfig cfg = architecture(bundle);
    TensorFlowRuntime.ensureLoaded();
    return new RandomizedPrototypeNetwork(bundle, cfg, trained, seed, trust);
  }

  /** The architecture a bundle's prototypes.json describes. */
  static ProtoConfig architecture(ClassifierBundle bundle) {
    String text = bundle.prototypesJson();
    String fix = " Model randomisation rebuilds the network from its prototypes.json, which bundles of Train Prototype"
        + " Network have; use randomization=none for other models.";
    if (text == null) {
      throw new UserException("Model " + bundle.name() + " is not a prototype network (no prototypes.json)." + fix);
    }
    try {
      JsonObject o = JsonParser.parseString(text).getAsJsonObject();
      JsonObject hp = o.getAsJsonObject("hyperparameters");
      if (hp == null) throw new IllegalArgumentException("no \"hyperparameters\"");
      ProtoConfig.Method m = ProtoConfig.Method.parse(hp.get("method").getAsString());
      int[] input = ints(o.getAsJsonArray("input"));
      int[] latent = ints(o.getAsJsonArray("latent"));
      ProtoConfig cfg = new ProtoConfig().method(m).size(input[0], input[1]).channels(input[2])
          .numClasses(o.getAsJsonArray("class_names").size()).baseChannels(hp.get("base_channels").getAsInt())
          .featureDepth(hp.get("feature_depth").getAsInt()).maxGrid(Math.max(latent[0], latent[1]));
      if (m == ProtoConfig.Method.PROTOPOOL) {
        cfg.poolSize(hp.get("pool_size").getAsInt()).slotsPerClass(hp.get("slots_per_class").getAsInt());
      } else {
        cfg.prototypesPerClass(hp.get("prototypes_per_class").getAsInt());
      }
      cfg.validate();
      if (cfg.gridHeight() != latent[0] || cfg.gridWidth() != latent[1] || cfg.featureDepth() != latent[2]
          || cfg.prototypes() != o.getAsJsonArray("prototypes").size()) {
        throw new IllegalArgumentException("the hyper-parameters give " + cfg + ", not the latent grid "
            + Arrays.toString(latent) + " with " + o.getAsJsonArray("prototypes").size() + " prototypes");
      }
      return cfg;
    } catch (UserException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new UserException("Model " + bundle.name() + ": its prototypes.json does not describe the architecture ("
          + e.getMessage() + ")." + fix, e);
    }
  }

  private static int[] ints(JsonArray a) {
    int[] v = new int[a.size()];
    for (int i = 0; i < v.length; i++) v[i] = a.get(i).getAsInt();
    return v;
  }

  /** Every parameter as the trainer initialises it with {@code seed}; see the class comment. */
  private Map<String, float[]> initialWeights(VariableStore store, long seed) {
    Random rnd = new Random(seed);
    Map<String, float[]> w = new LinkedHashMap<>();
    for (ParamSpec ps : store.specs()) w.put(ps.name(), ps.initialValues(rnd));
    int k = cfg.numClasses(), p = cfg.prototypes();
    float[] last = new float[k * p];
    if (cfg.method() == ProtoConfig.Method.PROTOPOOL) {
      // The trainer's slot logits come next in its Random; the first push folds the argmax slot choices with the
      // initial slot weights (1 own class, -0.5 others) onto the pool (ProtoTrainer.fold).
      int slots = k * cfg.slotsPerClass();
      float[] q = new ParamSpec("slots.logits", new long[] {slots, p}, ParamSpec.Init.NORMAL, p).initialValues(rnd);
      for (int j = 0; j < slots; j++) {
        int m = ProtoTrainer.argmax(q, j * p, p);
        for (int c = 0; c < k; c++) last[c * p + m] += j / cfg.slotsPerClass() == c ? 1f : -0.5f;
      }
    } else {
      int per = cfg.prototypesPerClass();
      for (int c = 0; c < k; c++) {
        for (int j = 0; j < p; j++) last[c * p + j] = j / per == c ? 1f : -0.5f;
      }
    }
    w.put("last_layer", last);
    return w;
  }

  /** The trained parameters whose names start with one of {@code prefixes}, read from the bundle's SavedModel. */
  private static Map<String, float[]> trainedWeights(ClassifierBundle bundle, VariableStore store,
      List<String> prefixes, boolean trust) {
    List<ParamSpec> wanted = new ArrayList<>();
    for (ParamSpec ps : store.specs()) {
      for (String pre : prefixes) {
        if (ps.name().startsWith(pre)) {
          wanted.add(ps);
          break;
        }
      }
    }
    Map<String, float[]> out = new LinkedHashMap<>();
    try (SavedModelBundle saved = SavedModels.loadTensorFlow(bundle.dir(), bundle.name(), trust)) {
      Session.Runner r = saved.session().runner();
      for (ParamSpec ps : wanted) r.fetch(ProtoTrainer.SCOPE + "/" + ps.name());
      try (Result res = r.run()) {
        for (int i = 0; i < wanted.size(); i++) {
          TFloat32 t = (TFloat32) res.get(i);
          ParamSpec ps = wanted.get(i);
          if (!Arrays.equals(t.shape().asArray(), ps.shape())) {
            throw new IllegalArgumentException(ps.name() + " has shape " + t.shape() + ", expected "
                + Arrays.toString(ps.shape()));
          }
          float[] v = new float[ps.size()];
          t.copyTo(DataBuffers.of(v, false, false));
          out.put(ps.name(), v);
        }
      }
    } catch (UserException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new UserException("Model " + bundle.name() + ": cannot read its trained weights from the SavedModel ("
          + e.getMessage() + "). Randomisation stage 'top' needs a bundle written by Train Prototype Network; use"
          + " randomization=full or none for other models.", e);
    }
    return out;
  }

  private Map<String, float[]> currentWeights() {
    Map<String, float[]> out = new LinkedHashMap<>();
    Session.Runner r = session.runner();
    String[] names = {"last_layer", "prototypes"};
    for (String n : names) r.fetch(ProtoTrainer.SCOPE + "/" + n);
    try (Result res = r.run()) {
      for (int i = 0; i < names.length; i++) {
        TFloat32 t = (TFloat32) res.get(i);
        float[] v = new float[(int) t.shape().size()];
        t.copyTo(DataBuffers.of(v, false, false));
        out.put(names[i], v);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------- inference

  /** Runs n images (image intensity, NHWC) in batches and returns each fetch as [n][per-image values]. */
  @SafeVarargs
  private final float[][][] run(float[] images, int n, Operand<TFloat32>... fetches) {
    int px = cfg.height() * cfg.width() * cfg.channels();
    if (images.length != (long) n * px) {
      throw new IllegalArgumentException(images.length + " values for " + n + " images of " + px);
    }
    float[][][] out = new float[fetches.length][n][];
    for (int from = 0; from < n; from += BATCH) {
      int m = Math.min(BATCH, n - from);
      float[] xb = bundle.toModel(Arrays.copyOfRange(images, from * px, (from + m) * px));
      try (TFloat32 in = TFloat32.tensorOf(Shape.of(m, cfg.height(), cfg.width(), cfg.channels()),
          DataBuffers.of(xb, true, false))) {
        Session.Runner r = session.runner().feed(x, in);
        for (Operand<TFloat32> f : fetches) r.fetch(f);
        try (Result res = r.run()) {
          for (int i = 0; i < fetches.length; i++) {
            TFloat32 t = (TFloat32) res.get(i);
            float[] flat = new float[(int) t.shape().size()];
            t.copyTo(DataBuffers.of(flat, false, false));
            int len = flat.length / m;
            for (int b = 0; b < m; b++) out[i][from + b] = Arrays.copyOfRange(flat, b * len, (b + 1) * len);
          }
        }
      }
    }
    return out;
  }

  @Override
  public float[][] logits(float[] images, int n) {
    return run(images, n, net.logits)[0];
  }

  @Override
  public PrototypeActivations activations(float[] images, int n) {
    float[][][] o = run(images, n, net.logits, net.scores, net.similarity, net.minDistances);
    return new PrototypeActivations(o[0], o[1], o[2], o[3]);
  }

  @Override
  public float[][] features(float[] images, int n) {
    return run(images, n, net.features)[0];
  }

  @Override
  public int height() {
    return cfg.height();
  }

  @Override
  public int width() {
    return cfg.width();
  }

  @Override
  public int channels() {
    return cfg.channels();
  }

  @Override
  public List<String> classNames() {
    return classNames;
  }

  @Override
  public String method() {
    return cfg.method().label();
  }

  @Override
  public int prototypes() {
    return cfg.prototypes();
  }

  @Override
  public int mapHeight() {
    return cfg.gridHeight();
  }

  @Override
  public int mapWidth() {
    return cfg.gridWidth();
  }

  @Override
  public int featureDepth() {
    return cfg.featureDepth();
  }

  @Override
  public float[][] lastLayer() {
    float[][] c = new float[lastLayer.length][];
    for (int i = 0; i < c.length; i++) c[i] = lastLayer[i].clone();
    return c;
  }

  @Override
  public float[][] prototypeVectors() {
    float[][] c = new float[vectors.length][];
    for (int i = 0; i < c.length; i++) c[i] = vectors[i].clone();
    return c;
  }

  /** Random prototypes were never pushed: no source image, empty boxes, no gallery plane. */
  @Override
  public PrototypeInfo prototype(int p) {
    return new PrototypeInfo(p, prototypeClass[p], "", -1, -1, -1, new int[4], new int[4], -1);
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "randomised %s (%s)", bundle.name(), cfg);
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
