package org.diffxai.model;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.diffxai.core.Seeds;
import org.diffxai.io.Npy;
import org.diffxai.tf.ParamSpec;
import org.diffxai.tf.UNetBuilder;
import org.diffxai.tf.UNetConfig;
import org.diffxai.tf.VariableStore;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * ONNX and TorchScript fixtures made at test time by {@code torch_fixtures.py} with Debian's python3-torch, each once
 * per JVM: the bundled sample UNet's TensorFlow weights in a PyTorch UNet of the same architecture, exported to both
 * formats with PyTorch's own outputs for the same inputs; a small CNN classifier; broken models. Used by the tests
 * and by {@link org.diffxai.bench.EngineBench}.
 */
public final class TorchFixtures {
  public static final String PYTHON = "/usr/bin/python3";
  /** DDIM steps of the reference loop (the test compares every step). */
  public static final int DDIM_STEPS = 10;
  private static Path root;
  private static Path all;

  private TorchFixtures() {}

  /** The fixture root (a temporary directory deleted at JVM exit). */
  static synchronized Path root() {
    if (root == null) root = Fixtures.root().resolve("torch");
    return root;
  }

  /** Runs the fixture script with arguments; fails with its output when it fails. */
  static void python(String... args) {
    try {
      Path script = root().resolve("torch_fixtures.py");
      if (!Files.exists(script)) {
        Files.createDirectories(root());
        try (InputStream in = TorchFixtures.class.getResourceAsStream("torch_fixtures.py")) {
          Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
      }
      List<String> cmd = new ArrayList<>(Arrays.asList(PYTHON, script.toString()));
      cmd.addAll(Arrays.asList(args));
      Path log = Files.createTempFile(root(), "python", ".log");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(600, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("torch_fixtures.py " + args[0] + " timed out");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("torch_fixtures.py " + String.join(" ", args) + " failed (exit "
            + p.exitValue() + "; needs Debian's python3-torch: apt-get install python3-torch):\n"
            + new String(Files.readAllBytes(log), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The sample UNet in PyTorch: {@code unet/onnx/} and {@code unet/torchscript/} (denoiser bundles) and
   * {@code unet/reference/} (x_call, t_call, label_call and PyTorch's eps; ddim_xT, ddim_label and PyTorch's x after
   * each DDIM step).
   */
  public static Path unet() {
    return all().resolve("unet");
  }

  /** The small CNN: {@code classifier/onnx/}, {@code classifier/torchscript/}, {@code classifier/reference/}. */
  public static Path classifier() {
    return all().resolve("classifier");
  }

  /** An ONNX model taking (image, timestep) instead of (x, t). */
  static Path renamedInputs() {
    return all().resolve("bad/renamed");
  }

  /** The UNet's model.pt with a version record of 99. */
  static Path newerTorchScript() {
    return all().resolve("bad/newer.pt");
  }

  /** Every fixture, made by one Python run per JVM. */
  static synchronized Path all() {
    if (all != null) return all;
    try {
      Path dir = Files.createDirectories(root().resolve("unet"));
      Path ref = Files.createDirectories(dir.resolve("reference"));
      DenoiserBundle sample = DenoiserBundle.open("sample");
      JsonObject mj = new Gson().fromJson(new String(Files.readAllBytes(sample.directory().resolve("model.json")),
          StandardCharsets.UTF_8), JsonObject.class);
      JsonObject tr = mj.getAsJsonObject("training");
      UNetConfig cfg = new UNetConfig().size(sample.height(), sample.width()).channels(sample.channels())
          .numClasses(sample.classNames().size()).conditionChannels(sample.conditionChannels())
          .baseChannels(tr.get("base_channels").getAsInt())
          .channelMultipliers(new Gson().fromJson(tr.get("channel_multipliers"), int[].class))
          .layersPerBlock(tr.get("layers_per_block").getAsInt()).groups(tr.get("norm_groups").getAsInt())
          .attention(tr.get("attention").getAsBoolean()).unconditionalLabel(sample.unconditionalLabel() >= 0);
      Path weights = Files.createDirectories(root().resolve("weights"));
      for (Map.Entry<String, float[]> e : readWeights(sample.directory(), cfg).entrySet()) {
        long[] shape = specs(cfg).get(e.getKey()).shape();
        Files.write(weights.resolve(e.getKey() + ".npy"), Npy.float32(e.getValue(), shape));
      }
      // inputs of the per-call comparison and of the DDIM loop, NCHW
      int h = cfg.height();
      int w = cfg.width();
      float[] x = Seeds.gaussian(1, "engines-x-call", 0).fill(new float[3 * h * w]);
      Files.write(ref.resolve("x_call.npy"), Npy.float32(x, 3, 1, h, w));
      Files.write(ref.resolve("t_call.npy"), Npy.float32(new float[] {981f, 500f, 10f}, 3));
      Files.write(ref.resolve("label_call.npy"), Npy.int32(new int[] {0, 1, 0}, 3));
      float[] xT = Seeds.gaussian(1, "engines-ddim-xT", 0).fill(new float[2 * h * w]);
      Files.write(ref.resolve("ddim_xT.npy"), Npy.float32(xT, 2, 1, h, w));
      Files.write(ref.resolve("ddim_label.npy"), Npy.int32(new int[] {0, 1}, 2));
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("name", "sample-torch");
      c.put("height", h);
      c.put("width", w);
      c.put("channels", cfg.channels());
      c.put("condition_channels", cfg.conditionChannels());
      c.put("num_classes", cfg.numClasses());
      c.put("embedding_rows", cfg.numClasses() + (cfg.unconditionalLabel() ? 1 : 0));
      c.put("class_names", sample.classNames());
      c.put("base_channels", cfg.baseChannels());
      c.put("channel_multipliers", cfg.channelMultipliers());
      c.put("layers_per_block", cfg.layersPerBlock());
      c.put("norm_groups", cfg.groups());
      c.put("attention", cfg.attention());
      c.put("intensity", mj.get("intensity"));
      c.put("scheduler_config", sample.schedulerConfigPath().toString());
      c.put("ddim_steps", DDIM_STEPS);
      Path config = root().resolve("config.json");
      Files.write(config, new Gson().toJson(c).getBytes(StandardCharsets.UTF_8));
      python("all", weights.toString(), config.toString(), root().toString());
      all = root();
      return all;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, ParamSpec> specs(UNetConfig cfg) {
    Map<String, ParamSpec> out = new LinkedHashMap<>();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      VariableStore store = new VariableStore(tf, "unet");
      new UNetBuilder(cfg).build(tf, store, tf.placeholder(TFloat32.class),
          tf.placeholder(TFloat32.class), cfg.numClasses() > 0 ? tf.placeholder(TInt32.class) : null,
          cfg.conditionChannels() > 0 ? tf.placeholder(TFloat32.class) : null);
      for (ParamSpec s : store.specs()) out.put(s.name(), s);
    }
    return out;
  }

  /** The UNet's weights from a SavedModel written by the project's trainer (variables {@code unet/<name>}). */
  static Map<String, float[]> readWeights(Path savedModel, UNetConfig cfg) {
    org.diffxai.model.TensorFlowRuntime.ensureLoaded();
    List<ParamSpec> specs = new ArrayList<>(specs(cfg).values());
    Map<String, float[]> out = new LinkedHashMap<>();
    try (SavedModelBundle b = SavedModelBundle.load(savedModel.toString(), "serve")) {
      Session.Runner r = b.session().runner();
      for (ParamSpec s : specs) r.fetch("unet/" + s.name());
      try (Result res = r.run()) {
        for (int i = 0; i < specs.size(); i++) {
          TFloat32 t = (TFloat32) res.get(i);
          if (!Arrays.equals(t.shape().asArray(), specs.get(i).shape())) {
            throw new IllegalStateException(specs.get(i).name() + " has shape " + t.shape());
          }
          float[] v = new float[(int) t.shape().size()];
          t.copyTo(DataBuffers.of(v, false, false));
          out.put(specs.get(i).name(), v);
        }
      }
    }
    return out;
  }
}
