package org.diffxai.model;

import org.diffxai.io.Checksums;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.io.WriteFile;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Test fixtures: real TensorFlow SavedModel bundles following the bundle contract, whose output is a known analytic
 * function, so predictions through DJL can be checked exactly:
 *
 * <pre>
 *   out[n,y,x,c] = 0.5 * x[n,y,x,c] + 0.001 * t[n]
 *                + 0.1 * label[n]                    (only with a label input)
 *                + 0.2 * condition[n,y,x,0]          (only with a condition input)
 * </pre>
 *
 * The 0.5 is a TensorFlow variable, so the bundle has a real {@code variables/} directory. Public so that tests of
 * other packages can build bundles too, e.g. {@code TestBundles.spec().size(16, 16).classes("a", "b").write(dir)}.
 */
public final class TestBundles {
  public static final float X_WEIGHT = 0.5f;
  public static final float T_WEIGHT = 0.001f;
  public static final float LABEL_WEIGHT = 0.1f;
  public static final float CONDITION_WEIGHT = 0.2f;

  /** A diffusers DDPM scheduler config (1000 steps, linear betas, epsilon prediction). */
  public static final String SCHEDULER_CONFIG = "{\n"
      + "  \"_class_name\": \"DDPMScheduler\",\n"
      + "  \"num_train_timesteps\": 1000,\n"
      + "  \"beta_start\": 0.0001,\n"
      + "  \"beta_end\": 0.02,\n"
      + "  \"beta_schedule\": \"linear\",\n"
      + "  \"prediction_type\": \"epsilon\",\n"
      + "  \"clip_sample\": false,\n"
      + "  \"set_alpha_to_one\": false,\n"
      + "  \"steps_offset\": 0,\n"
      + "  \"timestep_spacing\": \"leading\"\n"
      + "}\n";

  private TestBundles() {}

  /** What to write. Defaults: 8x8x1, unconditional, static signature shape, model.json with checksums. */
  public static final class Spec {
    int height = 8;
    int width = 8;
    int channels = 1;
    List<String> classNames = Collections.emptyList();
    int conditionChannels = 0;
    boolean staticShape = true;
    boolean modelJson = true;
    boolean checksums = true;
    Boolean labelInput;
    Boolean conditionInput;
    int signatureChannels = -1;
    String name = "test-denoiser";
    double[] intensity;
    Leak leak;

    public Spec size(int h, int w) {
      height = h;
      width = w;
      return this;
    }

    public Spec channels(int c) {
      channels = c;
      return this;
    }

    /** Class names: the model gets a {@code label} input and model.json declares them. */
    public Spec classes(String... names) {
      classNames = Arrays.asList(names);
      return this;
    }

    /** K condition channels: the model gets a {@code condition} input [N,H,W,K]. */
    public Spec conditionChannels(int k) {
      conditionChannels = k;
      return this;
    }

    /** False: the signature's x has unknown H, W, C (and condition unknown K). */
    public Spec staticShape(boolean b) {
      staticShape = b;
      return this;
    }

    public Spec modelJson(boolean b) {
      modelJson = b;
      return this;
    }

    public Spec checksums(boolean b) {
      checksums = b;
      return this;
    }

    /** Overrides whether the graph has a label input (to build contract violations). */
    public Spec labelInput(boolean b) {
      labelInput = b;
      return this;
    }

    /** Overrides whether the graph has a condition input (to build contract violations). */
    public Spec conditionInput(boolean b) {
      conditionInput = b;
      return this;
    }

    /** Overrides the channel count in the signature only (model.json keeps {@link #channels(int)}). */
    public Spec signatureChannels(int c) {
      signatureChannels = c;
      return this;
    }

    public Spec name(String n) {
      name = n;
      return this;
    }

    /** Makes the model copy a file on every call ({@link Leak}). */
    public Spec leak(Leak l) {
      leak = l;
      return this;
    }

    public Spec intensity(double scale, double offset) {
      intensity = new double[] {scale, offset};
      return this;
    }

    boolean hasLabel() {
      return labelInput != null ? labelInput : !classNames.isEmpty();
    }

    boolean hasCondition() {
      return conditionInput != null ? conditionInput : conditionChannels > 0;
    }

    /** Writes the bundle into {@code dir} (created if needed) and returns it. */
    public Path write(Path dir) {
      return TestBundles.write(dir, this);
    }
  }

  public static Spec spec() {
    return new Spec();
  }

  /** Writes a complete bundle: SavedModel, scheduler_config.json, and (unless disabled) model.json. */
  public static Path write(Path dir, Spec s) {
    try {
      Files.createDirectories(dir);
      int sigC = s.signatureChannels > 0 ? s.signatureChannels : s.channels;
      writeSavedModel(dir, s.staticShape ? s.height : -1, s.staticShape ? s.width : -1, s.staticShape ? sigC : -1,
          s.hasLabel(), s.hasCondition() ? (s.staticShape ? Math.max(1, s.conditionChannels) : -1) : 0, s.leak);
      Files.write(dir.resolve("scheduler_config.json"), SCHEDULER_CONFIG.getBytes(StandardCharsets.UTF_8));
      if (s.modelJson) writeModelJson(dir, modelJson(s), s.checksums);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** model.json content for a spec (without the sha256 map). */
  public static JsonObject modelJson(Spec s) {
    JsonObject o = new JsonObject();
    o.addProperty("format", "diffusion-xai-denoiser/1");
    o.addProperty("name", s.name);
    o.addProperty("description", "Analytic test model: 0.5*x + 0.001*t (+0.1*label, +0.2*condition[...,0]).");
    JsonArray size = new JsonArray();
    size.add(s.height);
    size.add(s.width);
    o.add("sample_size", size);
    o.addProperty("channels", s.channels);
    if (s.intensity != null) {
      JsonObject in = new JsonObject();
      in.addProperty("scale", s.intensity[0]);
      in.addProperty("offset", s.intensity[1]);
      o.add("intensity", in);
    }
    JsonArray names = new JsonArray();
    for (String n : s.classNames) names.add(n);
    o.add("class_names", names);
    o.addProperty("condition_channels", s.conditionChannels);
    o.addProperty("authors", "Diffusion XAI test suite");
    o.addProperty("license", "BSD-2-Clause");
    JsonObject training = new JsonObject();
    training.addProperty("note", "not trained; analytic fixture");
    o.add("training", training);
    return o;
  }

  /**
   * Writes {@code json} as model.json; with {@code checksums} a {@code sha256} entry is added for every other file in
   * the directory.
   */
  public static void writeModelJson(Path dir, JsonObject json, boolean checksums) throws IOException {
    JsonObject o = json.deepCopy();
    if (checksums) {
      JsonObject sums = new JsonObject();
      for (String rel : relativeFiles(dir)) {
        if (!rel.equals("model.json")) sums.addProperty(rel, sha256(dir.resolve(rel)));
      }
      o.add("sha256", sums);
    }
    String text = new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n";
    Files.write(dir.resolve("model.json"), text.getBytes(StandardCharsets.UTF_8));
  }

  /** Sorted relative paths ('/'-separated) of all regular files below dir. */
  public static List<String> relativeFiles(Path dir) throws IOException {
    return Checksums.relativeFiles(dir);
  }

  public static String sha256(Path file) throws IOException {
    return Checksums.sha256Hex(file);
  }

  /**
   * Writes a SavedModel (tag serve, signature serving_default) computing the analytic function.
   *
   * @param h static height in the signature, or -1 for unknown (likewise w, c)
   * @param label whether there is an int32 {@code label} input
   * @param k condition channels: 0 no condition input; -1 a condition input of unknown K; else static K
   */
  public static void writeSavedModel(Path dir, long h, long w, long c, boolean label, long k) throws IOException {
    writeSavedModel(dir, h, w, c, label, k, null);
  }

  /**
   * A malicious addition to a fixture's graph: {@code WriteFile(writeTo, ReadFile(readFrom))} as a control dependency
   * of the output, either in the main graph or inside a function of the library that the output goes through. The
   * model still computes its analytic function, so it meets its contract.
   */
  public static final class Leak {
    final Path readFrom;
    final Path writeTo;
    final boolean inFunction;

    public Leak(Path readFrom, Path writeTo, boolean inFunction) {
      this.readFrom = readFrom;
      this.writeTo = writeTo;
      this.inFunction = inFunction;
    }

    /** {@code out}, now depending on the file copy. */
    @SuppressWarnings("unchecked")
    Operand<TFloat32> wrap(Ops tf, Operand<TFloat32> out) {
      if (!inFunction) return tf.withControlDependencies(copy(tf)).identity(out);
      ConcreteFunction f = ConcreteFunction.create(ops -> {
        Placeholder<TFloat32> in = ops.placeholder(TFloat32.class);
        return Signature.builder().key("innocent_looking").input("in", in)
            .output("out", ops.withControlDependencies(copy(ops)).identity(in)).build();
      });
      return (Operand<TFloat32>) f.call(tf, out);
    }

    private WriteFile copy(Ops tf) {
      return tf.io.writeFile(tf.constant(writeTo.toString()), tf.io.readFile(tf.constant(readFrom.toString())));
    }
  }

  /** {@link #writeSavedModel(Path, long, long, long, boolean, long)} with a {@link Leak} (null: none). */
  public static void writeSavedModel(Path dir, long h, long w, long c, boolean label, long k, Leak leak)
      throws IOException {
    TensorFlowRuntime.ensureLoaded();
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, h, w, c)));
      Placeholder<TFloat32> t = tf.withName("t").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TFloat32> weight = tf.withName("x_weight").variable(tf.constant(X_WEIGHT));
      Operand<TFloat32> out = tf.math.add(tf.math.mul(x, weight),
          tf.math.mul(tf.reshape(t, tf.constant(new int[] {-1, 1, 1, 1})), tf.constant(T_WEIGHT)));
      Signature.Builder sig = Signature.builder().key(Signature.DEFAULT_KEY).input("x", x).input("t", t);
      if (label) {
        Placeholder<TInt32> l = tf.withName("label").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
        Operand<TFloat32> lf = tf.reshape(tf.dtypes.cast(l, TFloat32.class), tf.constant(new int[] {-1, 1, 1, 1}));
        out = tf.math.add(out, tf.math.mul(lf, tf.constant(LABEL_WEIGHT)));
        sig.input("label", l);
      }
      if (k != 0) {
        Placeholder<TFloat32> cond = tf.withName("condition").placeholder(TFloat32.class,
            Placeholder.shape(Shape.of(-1, h, w, k)));
        Operand<TFloat32> first = tf.slice(cond, tf.constant(new int[] {0, 0, 0, 0}),
            tf.constant(new int[] {-1, -1, -1, 1}));
        out = tf.math.add(out, tf.math.mul(first, tf.constant(CONDITION_WEIGHT)));
        sig.input("condition", cond);
      }
      if (leak != null) out = leak.wrap(tf, out);
      out = tf.withName("prediction").identity(out);
      sig.output("output_0", out);
      session.initialize();
      SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig.build(), session)).export();
    }
  }

  /** The analytic function the fixtures compute, for checking predictions. */
  public static float[] expected(float[] x, float[] t, int[] labels, float[] condition, int n, int h, int w, int c,
      int k) {
    float[] out = new float[n * h * w * c];
    for (int b = 0; b < n; b++) {
      for (int p = 0; p < h * w; p++) {
        for (int ch = 0; ch < c; ch++) {
          int i = (b * h * w + p) * c + ch;
          float v = X_WEIGHT * x[i] + T_WEIGHT * t[b];
          if (labels != null) v += LABEL_WEIGHT * labels[b];
          if (condition != null) v += CONDITION_WEIGHT * condition[(b * h * w + p) * k];
          out[i] = v;
        }
      }
    }
    return out;
  }

  /** Deterministic pseudo-random values in [-1, 1). */
  public static float[] values(int count, long seed) {
    java.util.Random r = new java.util.Random(seed);
    float[] v = new float[count];
    for (int i = 0; i < count; i++) v[i] = r.nextFloat() * 2 - 1;
    return v;
  }

  /** Copies a bundle directory (recursively) to {@code to}, which must not exist; returns {@code to}. */
  public static Path copy(Path from, Path to) {
    try (Stream<Path> st = Files.walk(from)) {
      for (Path p : (Iterable<Path>) st::iterator) {
        Path q = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(q);
        else Files.copy(p, q);
      }
      return to;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Lists the bundle's files, for diagnostics in failing tests. */
  public static List<String> describe(Path dir) {
    try {
      return new ArrayList<>(relativeFiles(dir));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
