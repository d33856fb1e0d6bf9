package org.diffxai.tf;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.diffxai.Version;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.Seeds;
import org.diffxai.io.AtomicFiles;
import org.diffxai.model.ClassifierBundle;
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
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A small plain convolutional classifier (no prototypes): three stages of two 3×3 conv + ReLU (He et al. 2015
 * initialisation), 2×2 max-pooling between stages, global max pooling and a linear layer to K logits; trained with
 * softmax cross-entropy and Adam, with random flips and additive Gaussian noise of a random level per image as
 * augmentation. It is the project's independent check of what a denoiser's samples show (bench.SampleQuality): a
 * classifier that shares nothing with the prototype networks but the training phantoms' generator, and that has seen
 * grain, so grain alone does not make it call an image "lesion".
 *
 * <p>Inputs are single-channel images in model space; {@link #writeBundle} writes a classifier bundle
 * (docs/classifiers.md: {@code serving_default} x → logits, model.json with the intensity mapping and input clip
 * [−1, 1]). Everything random comes from named {@link Seeds} streams of the seed. Not thread-safe; close it.
 */
public final class PlainCnn implements AutoCloseable {
  private static final String SCOPE = "cnn";

  private final int size;
  private final int numClasses;
  private final int base;
  private final long seed;
  private final Graph graph;
  private final Session session;
  private final VariableStore params;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TInt32> y;
  private final Operand<TFloat32> logits;
  private final Operand<TFloat32> loss;
  private final Adam adam;
  private final Op step;
  private final List<Float> losses = new ArrayList<>();

  /** A fresh network for size×size images and K classes, first stage with {@code base} channels. */
  public PlainCnn(int size, int numClasses, int base, long seed) {
    if (size < 8 || size % 4 != 0) throw new IllegalArgumentException("size must be a multiple of 4, >= 8: " + size);
    if (numClasses < 2 || base < 1) throw new IllegalArgumentException("need >= 2 classes and >= 1 channel");
    org.diffxai.model.TensorFlowRuntime.ensureLoaded();
    this.size = size;
    this.numClasses = numClasses;
    this.base = base;
    this.seed = seed;
    graph = new Graph();
    Session s = null;
    try {
      Ops tf = Ops.create(graph);
      x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, size, size, 1)));
      y = tf.withName("y").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      params = new VariableStore(tf, SCOPE);
      logits = build(tf, params, x);
      Operand<TFloat32> onehot = tf.oneHot(y, tf.constant(numClasses), tf.constant(1f), tf.constant(0f));
      loss = tf.math.mean(tf.nn.softmaxCrossEntropyWithLogits(logits, onehot).loss(), tf.constant(0));
      adam = new Adam(tf, "adam", loss, params, null, 0);
      step = tf.withControlDependencies(adam.updates()).noOp();
      params.prepareAssign();
      s = new Session(graph, DenoiserTrainer.sessionConfig(0, false));
      Random init = Seeds.random(seed, "plaincnn/init");
      Map<String, float[]> values = new LinkedHashMap<>();
      for (ParamSpec p : params.specs()) values.put(p.name(), p.initialValues(init));
      params.assignAll(s, values);
      adam.reset(s);
    } catch (RuntimeException | Error e) {
      if (s != null) s.close();
      graph.close();
      throw e;
    }
    session = s;
  }

  private Operand<TFloat32> build(Ops tf, UNetBuilder.Weights w, Operand<TFloat32> in) {
    Operand<TFloat32> h = in;
    int ch = 1;
    for (int stage = 0; stage < 3; stage++) {
      int out = base << stage;
      for (int j = 0; j < 2; j++) {
        String n = "stage" + stage + ".conv" + j;
        Operand<TFloat32> k = w.get(new ParamSpec(n + ".weight", new long[] {3, 3, ch, out}, ParamSpec.Init.HE_UNIFORM,
            9 * ch));
        Operand<TFloat32> b = w.get(new ParamSpec(n + ".bias", new long[] {out}, ParamSpec.Init.ZEROS, 9 * ch));
        h = tf.nn.relu(tf.nn.biasAdd(tf.nn.conv2d(h, k, Arrays.asList(1L, 1L, 1L, 1L), "SAME"), b));
        ch = out;
      }
      if (stage < 2) {
        h = tf.nn.maxPool(h, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
      }
    }
    // Global max pooling: a lesion covers a few pixels, and an average over the whole grid would dilute it.
    h = tf.max(h, tf.constant(new int[] {1, 2}));
    Operand<TFloat32> fw = w.get(new ParamSpec("fc.weight", new long[] {ch, numClasses}, ParamSpec.Init.FAN_IN_UNIFORM,
        ch));
    Operand<TFloat32> fb = w.get(new ParamSpec("fc.bias", new long[] {numClasses}, ParamSpec.Init.ZEROS, ch));
    return tf.nn.biasAdd(tf.linalg.matMul(h, fw), fb);
  }

  /**
   * Trains on model-space images (size² values each) with labels: {@code epochs} shuffled passes in batches, each
   * image mirrored left-right with probability 1/2 and given additive N(0, σ²) noise with σ ~ U(0, maxNoise) (model
   * units), then clipped to [−1, 1].
   */
  public void train(List<float[]> images, int[] labels, int epochs, int batch, double learningRate, double maxNoise,
      Progress progress) {
    if (progress == null) progress = Progress.NONE;
    int n = images.size();
    int px = size * size;
    int steps = epochs * ((n + batch - 1) / batch);
    int done = 0;
    for (int e = 0; e < epochs; e++) {
      Random r = Seeds.random(seed, "plaincnn/epoch", e);
      int[] order = new int[n];
      for (int i = 0; i < n; i++) order[i] = i;
      for (int i = n - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      for (int from = 0; from < n; from += batch) {
        progress.checkCancelled();
        int m = Math.min(batch, n - from);
        float[] xb = new float[m * px];
        int[] yb = new int[m];
        GaussianNoise g = Seeds.gaussian(seed, "plaincnn/noise", done);
        for (int i = 0; i < m; i++) {
          float[] im = images.get(order[from + i]);
          yb[i] = labels[order[from + i]];
          boolean flip = r.nextBoolean();
          double sigma = maxNoise * r.nextDouble();
          for (int row = 0; row < size; row++) {
            for (int col = 0; col < size; col++) {
              float v = im[row * size + (flip ? size - 1 - col : col)] + (float) (sigma * g.nextGaussian());
              xb[i * px + row * size + col] = Math.max(-1f, Math.min(1f, v));
            }
          }
        }
        List<Tensor> feeds = new ArrayList<>();
        try {
          Session.Runner run = session.runner();
          TFloat32 xt = TFloat32.tensorOf(Shape.of(m, size, size, 1), DataBuffers.of(xb, true, false));
          feeds.add(xt);
          TInt32 yt = TInt32.tensorOf(Shape.of(m), DataBuffers.of(yb, true, false));
          feeds.add(yt);
          run.feed(x, xt).feed(y, yt);
          adam.feed(run, (float) learningRate, done, feeds);
          try (Result res = run.fetch(loss).addTarget(step).run()) {
            losses.add(((TFloat32) res.get(0)).getFloat());
          }
        } finally {
          for (Tensor t : feeds) t.close();
        }
        done++;
        progress.report(String.format(Locale.ROOT, "Training CNN: step %d/%d, loss %.4f", done, steps,
            losses.get(losses.size() - 1)), (double) done / steps);
      }
    }
  }

  /** Loss of every training step so far. */
  public float[] losses() {
    float[] a = new float[losses.size()];
    for (int i = 0; i < a.length; i++) a[i] = losses.get(i);
    return a;
  }

  /** Logits [n][K] of n model-space images (clipped to [−1, 1] as in training). */
  public float[][] logits(float[] images, int n) {
    float[] xb = images.clone();
    for (int i = 0; i < xb.length; i++) xb[i] = Math.max(-1f, Math.min(1f, xb[i]));
    try (TFloat32 xt = TFloat32.tensorOf(Shape.of(n, size, size, 1), DataBuffers.of(xb, true, false));
        Result res = session.runner().feed(x, xt).fetch(logits).run()) {
      float[] flat = new float[n * numClasses];
      ((TFloat32) res.get(0)).copyTo(DataBuffers.of(flat, false, false));
      float[][] out = new float[n][];
      for (int i = 0; i < n; i++) out[i] = Arrays.copyOfRange(flat, i * numClasses, (i + 1) * numClasses);
      return out;
    }
  }

  /**
   * Writes a classifier bundle (docs/classifiers.md): SavedModel with {@code serving_default} x [−1,S,S,1] →
   * {@code logits} [−1,K], and model.json with the class names, the intensity mapping, input_clip [−1, 1], training
   * notes and checksums. Replaces {@code dir} atomically.
   */
  public Path writeBundle(Path dir, String name, List<String> classNames, IntensityMapping map,
      Map<String, Object> training) {
    Map<String, float[]> weights = params.read(session);
    return AtomicFiles.writeDirectory(dir, tmp -> {
      try (Graph g = new Graph()) {
        Ops tf = Ops.create(g);
        Placeholder<TFloat32> ex = tf.withName("x").placeholder(TFloat32.class,
            Placeholder.shape(Shape.of(-1, size, size, 1)));
        VariableStore store = new VariableStore(tf, SCOPE);
        Operand<TFloat32> o = tf.withName("logits").identity(build(tf, store, ex));
        store.prepareAssign();
        Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("x", ex).output("logits", o).build();
        try (Session s = new Session(g, DenoiserTrainer.sessionConfig(0, false))) {
          store.assignAll(s, weights);
          SavedModelBundle.exporter(tmp.toString()).withTags(SavedModelBundle.DEFAULT_TAG)
              .withFunction(SessionFunction.create(sig, s)).export();
        }
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("format", ClassifierBundle.FORMAT);
      m.put("name", name);
      m.put("description", "Plain CNN (3 stages of 2 conv3x3+ReLU, global max pooling, linear), trained with"
          + " noise augmentation");
      m.put("sample_size", new int[] {size, size});
      m.put("channels", 1);
      Map<String, Object> intensity = new LinkedHashMap<>();
      intensity.put("scale", map.scale);
      intensity.put("offset", map.offset);
      m.put("intensity", intensity);
      m.put("input_clip", new double[] {-1, 1});
      m.put("class_names", classNames);
      Map<String, Object> tr = new LinkedHashMap<>(training);
      tr.put("base_channels", base);
      tr.put("seed", seed);
      tr.put("software", "diffusion-xai " + Version.get());
      m.put("training", tr);
      m.put("sha256", BundleWriter.checksums(tmp));
      Files.write(tmp.resolve(ClassifierBundle.MODEL_JSON),
          (DenoiserCheckpoint.gson().toJson(m) + "\n").getBytes(StandardCharsets.UTF_8));
    });
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
