package org.diffxai.tf;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.DdimScheduler;
import org.diffxai.core.EmbeddingGenerator;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.UserException;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.ModelFormat;
import org.diffxai.model.Models;
import org.diffxai.model.SavedModels;
import org.diffxai.model.TensorFlowRuntime;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * A denoiser bundle written by Train Denoiser, rebuilt as a TensorFlow Java graph from its model.json (the
 * {@code training} block: architecture, base channels, channel multipliers, layers per block, norm groups, attention,
 * unconditional label) and the trained weights of its SavedModel, with the class embedding as an input: the
 * {@link EmbeddingGenerator} Optimise Conditioning differentiates through (as
 * {@link org.diffxai.tf.proto.RandomizedPrototypeNetwork} rebuilds a prototype network).
 *
 * <p>The graph chains the bundle's UNet ({@link UNetBuilder#buildWithClassEmbedding}) through the K deterministic DDIM
 * steps of {@link DdimScheduler} (η = 0; Song et al. 2021, Eq. 12), with that class's numerics: per step
 * x̂₀ and ε̂ from the output (ε, sample or v prediction, Salimans &amp; Ho 2022 §4), x̂₀ clipped when clip_sample,
 * x_{t'} = √ᾱ_{t'}·x̂₀ + √(1−ᾱ_{t'})·ε̂; the per-step scalars are computed in Java exactly as the scheduler computes
 * them (any beta schedule), so the rebuilt chain reproduces Synthesize's DDIM samples. Its gradient with respect to
 * the embedding comes from TensorFlow's gradient registry ({@code Graph.addGradients} with a fed cotangent).
 *
 * <p>Bundles that cannot be rebuilt (no model.json training block of the built-in UNet, ONNX or TorchScript models,
 * SavedModels from elsewhere, classifier-free guidance built into the graph, condition channels, dynamic thresholding)
 * are refused with a {@link UserException}. Runs on the CPU in a session of its own; not thread-safe; close it.
 */
public final class RebuiltDenoiser implements EmbeddingGenerator {

  private final UNetConfig cfg;
  private final int embDim;
  private final float[][] table;
  private final int[] timesteps;
  private final Graph graph;
  private final Session session;
  private final Placeholder<TFloat32> xT;
  private final Placeholder<TFloat32> emb;
  private final Placeholder<TFloat32> cotangent;
  private final Output<TFloat32> x0;
  private final Output<TFloat32> grad;
  // one UNet call, for the check against the SavedModel
  private final Placeholder<TFloat32> x1;
  private final Placeholder<TFloat32> t1;
  private final Placeholder<TFloat32> e1;
  private final Output<TFloat32> y1;

  private RebuiltDenoiser(UNetConfig cfg, SavedModelBundle saved, SchedulerConfig sched, int steps) {
    this.cfg = cfg;
    UNetBuilder unet = new UNetBuilder(cfg);
    embDim = unet.classEmbeddingDim();
    DdimScheduler ddim = new DdimScheduler(sched);
    ddim.setTimesteps(steps);
    timesteps = ddim.timesteps();
    graph = new Graph();
    Session s = null;
    try {
      Ops tf = Ops.create(graph);
      Session src = saved.session();
      int rows = cfg.numClasses() + (cfg.unconditionalLabel() ? 1 : 0);
      float[] flat = fetch(src, new ParamSpec(UNetBuilder.CLASS_EMBEDDING, new long[] {rows, embDim},
          ParamSpec.Init.NORMAL, 1));
      table = new float[rows][];
      for (int r = 0; r < rows; r++) table[r] = Arrays.copyOfRange(flat, r * embDim, (r + 1) * embDim);
      Map<String, Operand<TFloat32>> consts = new HashMap<>();
      UNetBuilder.Weights w = spec -> consts.computeIfAbsent(spec.name(),
          k -> tf.constant(Shape.of(spec.shape()), DataBuffers.of(fetch(src, spec), true, false)));
      Shape img = Shape.of(-1, cfg.height(), cfg.width(), cfg.channels());
      xT = tf.withName("x_T").placeholder(TFloat32.class, Placeholder.shape(img));
      emb = tf.withName("embedding").placeholder(TFloat32.class, Placeholder.shape(Shape.of(embDim)));
      cotangent = tf.withName("cotangent").placeholder(TFloat32.class, Placeholder.shape(img));
      Operand<TFloat32> e = tf.reshape(emb, tf.constant(new int[] {1, embDim}));
      Operand<TFloat32> x = xT;
      SchedulerConfig c = ddim.config();
      if (c.thresholding()) {
        throw new UserException("The denoiser's scheduler uses dynamic thresholding, which Optimise Conditioning does "
            + "not rebuild. Use a bundle with clip_sample or no clipping.");
      }
      for (int t : timesteps) {
        Operand<TFloat32> m = unet.buildWithClassEmbedding(tf, w, x, tf.constant(new float[] {t}), e, null);
        x = step(tf, ddim, c, t, m, x);
      }
      x0 = tf.withName("x0").identity(x).asOutput();
      grad = (Output<TFloat32>) graph.addGradients("embedding_gradient", new Output<?>[] {x0},
          new Output<?>[] {emb.asOutput()}, new Output<?>[] {cotangent.asOutput()})[0];
      x1 = tf.withName("x1").placeholder(TFloat32.class, Placeholder.shape(img));
      t1 = tf.withName("t1").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      e1 = tf.withName("e1").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, embDim)));
      y1 = unet.buildWithClassEmbedding(tf, w, x1, t1, e1, null).asOutput();
      s = new Session(graph, DenoiserTrainer.sessionConfig(0, false));
    } catch (RuntimeException | Error ex) {
      if (s != null) s.close();
      graph.close();
      throw ex;
    }
    session = s;
  }

  /** One deterministic DDIM step (η = 0) in graph ops, in {@link DdimScheduler#step}'s order of operations. */
  private static Operand<TFloat32> step(Ops tf, DdimScheduler ddim, SchedulerConfig c, int t, Operand<TFloat32> m,
      Operand<TFloat32> x) {
    int prevT = ddim.previousTimestep(t);
    float ab = ddim.schedule().alphaCumprod(t);
    float abPrev = prevT >= 0 ? ddim.schedule().alphaCumprod(prevT) : ddim.finalAlphaCumprod();
    Operand<TFloat32> sqrtA = tf.constant((float) Math.sqrt(ab));
    Operand<TFloat32> sqrtB = tf.constant((float) Math.sqrt(1f - ab));
    Operand<TFloat32> x0;
    Operand<TFloat32> eps;
    switch (c.predictionType()) {
      case EPSILON:
        x0 = tf.math.div(tf.math.sub(x, tf.math.mul(sqrtB, m)), sqrtA);
        eps = m;
        break;
      case SAMPLE:
        x0 = m;
        eps = tf.math.div(tf.math.sub(x, tf.math.mul(sqrtA, m)), sqrtB);
        break;
      case V_PREDICTION:
        x0 = tf.math.sub(tf.math.mul(sqrtA, x), tf.math.mul(sqrtB, m));
        eps = tf.math.add(tf.math.mul(sqrtA, m), tf.math.mul(sqrtB, x));
        break;
      default:
        throw new AssertionError(c.predictionType());
    }
    if (c.clipSample()) {
      float r = (float) c.clipSampleRange();
      x0 = tf.math.minimum(tf.math.maximum(x0, tf.constant(-r)), tf.constant(r));
    }
    float dir = (float) Math.sqrt(Math.max(1f - abPrev - 0f, 0f));
    return tf.math.add(tf.math.mul(tf.constant((float) Math.sqrt(abPrev)), x0), tf.math.mul(tf.constant(dir), eps));
  }

  /**
   * Rebuilds {@code bundle}'s denoiser for {@code steps} DDIM steps of its scheduler configuration.
   *
   * @param trust skip the SavedModel op allow-list ({@link org.diffxai.model.ModelTrust})
   * @throws UserException when the bundle cannot be rebuilt (see the class comment), naming why and what works
   */
  public static RebuiltDenoiser open(DenoiserBundle bundle, int steps, boolean trust) {
    UNetConfig cfg = architecture(bundle);
    SchedulerConfig sched = SchedulerConfig.fromJson(bundle.schedulerConfigJson());
    org.diffxai.core.Timesteps.checkSteps(steps, sched.numTrainTimesteps());
    TensorFlowRuntime.ensureLoaded();
    try (SavedModelBundle saved = SavedModels.loadTensorFlow(bundle.directory(), bundle.name(), trust)) {
      return new RebuiltDenoiser(cfg, saved, sched, steps);
    }
  }

  /**
   * The UNet a bundle's model.json describes.
   *
   * @throws UserException when the bundle was not written by Train Denoiser or uses what the rebuild lacks
   */
  static UNetConfig architecture(DenoiserBundle bundle) {
    String why = "Optimise Conditioning rebuilds the denoiser from the model.json of a bundle written by Train"
        + " Denoiser (TensorFlow SavedModel, built-in UNet); use such a bundle (e.g. denoiser=sample)";
    ModelFormat format = Models.format(bundle.directory());
    if (format != ModelFormat.TENSORFLOW) {
      throw new UserException("Denoiser " + bundle.name() + " is a " + format + " model, which cannot be rebuilt for"
          + " gradients. " + why + ".");
    }
    if (bundle.trainingJson() == null) {
      throw new UserException("Denoiser " + bundle.name() + " has no model.json training block describing its"
          + " network. " + why + ".");
    }
    JsonObject root;
    try {
      root = JsonParser.parseString(new String(Files.readAllBytes(bundle.directory().resolve(
          DenoiserBundle.MODEL_JSON)), StandardCharsets.UTF_8)).getAsJsonObject();
    } catch (IOException | RuntimeException e) {
      throw new UserException("Denoiser " + bundle.name() + ": cannot read its model.json (" + e.getMessage() + "). "
          + why + ".", e);
    }
    if (root.has("guidance")) {
      throw new UserException("Denoiser " + bundle.name() + " has classifier-free guidance built into its graph,"
          + " which the rebuild does not repeat. Export it without guidance (Train Denoiser guidance=0).");
    }
    if (bundle.conditionChannels() > 0) {
      throw new UserException("Denoiser " + bundle.name() + " takes " + bundle.conditionChannels() + " condition"
          + " channels; Optimise Conditioning needs a class-conditional denoiser without them.");
    }
    if (bundle.classNames().size() < 2) {
      throw new UserException("Denoiser " + bundle.name() + " is not class-conditional, so it has no class embedding"
          + " to optimise. Use a class-conditional bundle (e.g. denoiser=sample).");
    }
    try {
      JsonObject tr = root.getAsJsonObject("training");
      String arch = tr.has("architecture") ? tr.get("architecture").getAsString() : "";
      if (!"unet".equals(arch)) {
        throw new UserException("Denoiser " + bundle.name() + " has the architecture '" + arch + "' in model.json,"
            + " not the built-in 'unet'. " + why + ".");
      }
      JsonArray mult = tr.getAsJsonArray("channel_multipliers");
      int[] m = new int[mult.size()];
      for (int i = 0; i < m.length; i++) m[i] = mult.get(i).getAsInt();
      JsonElement unc = tr.get("unconditional_label");
      UNetConfig cfg = new UNetConfig().size(bundle.height(), bundle.width()).channels(bundle.channels())
          .numClasses(bundle.classNames().size()).baseChannels(tr.get("base_channels").getAsInt())
          .channelMultipliers(m).layersPerBlock(tr.get("layers_per_block").getAsInt())
          .groups(tr.get("norm_groups").getAsInt()).attention(tr.get("attention").getAsBoolean())
          .unconditionalLabel(unc != null && !unc.isJsonNull());
      if (cfg.unconditionalLabel() && unc.getAsInt() != cfg.numClasses()) {
        throw new IllegalArgumentException("unconditional_label " + unc + " is not the class count "
            + cfg.numClasses());
      }
      return cfg.validate();
    } catch (UserException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new UserException("Denoiser " + bundle.name() + ": its model.json training block does not describe the"
          + " network (" + e.getMessage() + "). " + why + ".", e);
    }
  }

  /** A trained parameter from the SavedModel's session, its shape checked. */
  private static float[] fetch(Session src, ParamSpec spec) {
    try (Result res = src.runner().fetch(DenoiserTrainer.SCOPE + "/" + spec.name()).run()) {
      TFloat32 t = (TFloat32) res.get(0);
      if (!Arrays.equals(t.shape().asArray(), spec.shape())) {
        throw new UserException("The denoiser's parameter " + spec.name() + " has shape " + t.shape() + " but its"
            + " model.json gives " + Arrays.toString(spec.shape()) + ". Restore the original bundle.");
      }
      float[] v = new float[spec.size()];
      t.copyTo(DataBuffers.of(v, false, false));
      return v;
    } catch (UserException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new UserException("Cannot read the denoiser's parameter " + spec.name() + " from its SavedModel ("
          + e.getMessage() + "). Optimise Conditioning needs a bundle written by Train Denoiser.", e);
    }
  }

  // ---------------------------------------------------------------------------------------------- running

  private int size() {
    return cfg.height() * cfg.width() * cfg.channels();
  }

  private TFloat32 images(float[] v, int n) {
    if (v.length != (long) n * size()) {
      throw new IllegalArgumentException(v.length + " values for " + n + " images of " + size());
    }
    return TFloat32.tensorOf(Shape.of(n, cfg.height(), cfg.width(), cfg.channels()), DataBuffers.of(v, true, false));
  }

  private TFloat32 vector(float[] e) {
    if (e.length != embDim) throw new IllegalArgumentException(e.length + " embedding values, expected " + embDim);
    return TFloat32.tensorOf(Shape.of(embDim), DataBuffers.of(e, true, false));
  }

  private static float[] run(Session.Runner r, Output<TFloat32> fetch, List<TFloat32> fed) {
    try (Result res = r.fetch(fetch).run()) {
      TFloat32 t = (TFloat32) res.get(0);
      float[] v = new float[(int) t.shape().size()];
      t.copyTo(DataBuffers.of(v, false, false));
      return v;
    } finally {
      for (TFloat32 t : fed) t.close();
    }
  }

  @Override
  public float[] generate(float[] e, float[] xT, int n) {
    List<TFloat32> fed = new ArrayList<>(List.of(vector(e), images(xT, n)));
    return run(session.runner().feed(emb, fed.get(0)).feed(this.xT, fed.get(1)), x0, fed);
  }

  @Override
  public float[] embeddingGradient(float[] e, float[] xT, int n, float[] u) {
    List<TFloat32> fed = new ArrayList<>(List.of(vector(e), images(xT, n), images(u, n)));
    return run(session.runner().feed(emb, fed.get(0)).feed(this.xT, fed.get(1)).feed(cotangent, fed.get(2)), grad,
        fed);
  }

  /**
   * One call of the rebuilt UNet with the learned embedding of each label: what the bundle's SavedModel computes for
   * the same inputs (tests compare the two).
   */
  public float[] predict(float[] x, float[] t, int[] labels, int n) {
    float[] e = new float[n * embDim];
    for (int i = 0; i < n; i++) System.arraycopy(table[labels[i]], 0, e, i * embDim, embDim);
    List<TFloat32> fed = new ArrayList<>(List.of(images(x, n), TFloat32.tensorOf(Shape.of(n),
        DataBuffers.of(t, true, false)), TFloat32.tensorOf(Shape.of(n, embDim), DataBuffers.of(e, true, false))));
    return run(session.runner().feed(x1, fed.get(0)).feed(t1, fed.get(1)).feed(e1, fed.get(2)), y1, fed);
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
  public int embeddingDim() {
    return embDim;
  }

  @Override
  public float[] embedding(int label) {
    if (label < 0 || label >= cfg.numClasses()) {
      throw new IllegalArgumentException("label " + label + " outside [0, " + cfg.numClasses() + ")");
    }
    return table[label].clone();
  }

  @Override
  public int classes() {
    return cfg.numClasses();
  }

  @Override
  public int[] timesteps() {
    return timesteps.clone();
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "rebuilt %s, %d DDIM steps", cfg, timesteps.length);
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
