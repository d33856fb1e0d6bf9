package org.diffxai.bench;

import org.diffxai.core.Json;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.diffxai.core.FixedShapeDenoiser;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.io.Checksums;
import org.diffxai.model.TensorFlowRuntime;
import org.diffxai.tf.BundleWriter;
import org.diffxai.tf.DenoiserTrainer;
import org.diffxai.tf.TrainingData;
import org.diffxai.tf.TrainingOptions;
import org.diffxai.tf.UNetConfig;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** The bundles the benchmark runs on when it is not given one. */
final class BenchBundles {
  static final List<String> CLASSES = Arrays.asList("healthy", "lesion");

  private BenchBundles() {}

  /**
   * The sample model's architecture: the Train Denoiser command's defaults for a square image of side {@code size}
   * (base 32 channels, multipliers 1,2,2, one residual block per level, 8 GroupNorm groups, mid-block attention), one
   * channel, class-conditional with 2 classes.
   */
  static UNetConfig sampleConfig(int size) {
    return new UNetConfig().size(size, size).channels(1).numClasses(CLASSES.size()).baseChannels(32)
        .channelMultipliers(1, 2, 2).groups(8).layersPerBlock(1).attention(true);
  }

  /** A much smaller UNet for smoke runs ({@code --quick}). */
  static UNetConfig tinyConfig(int size) {
    return new UNetConfig().size(size, size).channels(1).numClasses(CLASSES.size()).baseChannels(8)
        .channelMultipliers(1, 2).groups(8).layersPerBlock(1).attention(true);
  }

  /**
   * Writes a UNet bundle with the given architecture through the real training path ({@link DenoiserTrainer} +
   * {@link BundleWriter}): seeded random initial weights, then {@code iterations} Adam steps on random images (the
   * bundle writer needs a loss log). Its samples are noise; its graph and timing are those of a trained model.
   */
  static Path writeUnet(Path target, UNetConfig net, int iterations) {
    TensorFlowRuntime.ensureLoaded();
    int n = 4;
    int px = net.height() * net.width() * net.channels();
    Random rnd = new Random(3);
    List<float[]> images = new ArrayList<>();
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      float[] a = new float[px];
      for (int j = 0; j < px; j++) a[j] = rnd.nextFloat() * 2 - 1;
      images.add(a);
      labels[i] = i % CLASSES.size();
    }
    TrainingData data = TrainingData.of(net.height(), net.width(), net.channels(), images).withLabels(labels, CLASSES);
    TrainingOptions opts = new TrainingOptions().iterations(iterations).batch(2).warmupIterations(0).seed(1);
    try (DenoiserTrainer trainer = new DenoiserTrainer(net, opts)) {
      trainer.train(data, Progress.NONE);
      BundleWriter.Metadata meta = new BundleWriter.Metadata().name("benchmark-unet")
          .description("Benchmark model: " + net + ", random weights after " + iterations + " iteration(s) on noise. "
              + "For timing only.")
          .classNames(CLASSES).images(n).source("random");
      return BundleWriter.write(target, trainer, meta, Progress.NONE);
    }
  }

  /** The analytic model of {@link #writeLinear}: ε̂ = {@value #X_WEIGHT}·x + {@value #T_WEIGHT}·t. */
  static final float X_WEIGHT = 0.5f;

  static final float T_WEIGHT = 0.001f;

  /**
   * Writes a small but real bundle of size h×w×1, unconditional: a TensorFlow SavedModel computing
   * ε̂ = 0.5·x + 0.001·t, the project's DDPM scheduler_config.json, and model.json with checksums. Used for the heap
   * measurement, which runs {@link LinearDenoiser} (the same function in plain Java) instead of TensorFlow.
   */
  static Path writeLinear(Path dir, int h, int w) throws IOException {
    TensorFlowRuntime.ensureLoaded();
    Files.createDirectories(dir);
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, h, w, 1)));
      Placeholder<TFloat32> t = tf.withName("t").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TFloat32> weight = tf.withName("x_weight").variable(tf.constant(X_WEIGHT));
      Operand<TFloat32> out = tf.withName("epsilon").identity(tf.math.add(tf.math.mul(x, weight),
          tf.math.mul(tf.reshape(t, tf.constant(new int[] {-1, 1, 1, 1})), tf.constant(T_WEIGHT))));
      Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("x", x).input("t", t)
          .output("epsilon", out).build();
      session.initialize();
      SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig, session)).export();
    }
    Files.write(dir.resolve("scheduler_config.json"),
        BundleWriter.schedulerConfigJson().getBytes(StandardCharsets.UTF_8));
    JsonObject o = new JsonObject();
    o.addProperty("format", "diffusion-xai-denoiser/1");
    o.addProperty("name", "benchmark-linear-" + h + "x" + w);
    o.addProperty("description", "Benchmark model: epsilon = 0.5*x + 0.001*t. For the memory benchmark only.");
    JsonArray size = new JsonArray();
    size.add(h);
    size.add(w);
    o.add("sample_size", size);
    o.addProperty("channels", 1);
    JsonObject in = new JsonObject();
    in.addProperty("scale", IntensityMapping.IDENTITY.scale);
    in.addProperty("offset", IntensityMapping.IDENTITY.offset);
    o.add("intensity", in);
    o.add("class_names", new JsonArray());
    o.addProperty("condition_channels", 0);
    JsonObject sums = new JsonObject();
    for (Map.Entry<String, String> e : Checksums.fileHashes(dir).entrySet()) sums.addProperty(e.getKey(), e.getValue());
    o.add("sha256", sums);
    Files.write(dir.resolve("model.json"), Json.text(o)
        .getBytes(StandardCharsets.UTF_8));
    return dir;
  }

  /** The linear bundle's function in plain Java: costs one multiply-add per value, no TensorFlow. */
  static final class LinearDenoiser extends FixedShapeDenoiser {
    LinearDenoiser(int h, int w) {
      super(h, w, 1, 0, false);
    }

    @Override
    public float[] predict(float[] x, float[] t, int[] labels, float[] condition, int n) {
      int d = h * w;
      float[] out = new float[n * d];
      for (int b = 0; b < n; b++) {
        float tt = T_WEIGHT * t[b];
        for (int i = b * d, e = i + d; i < e; i++) out[i] = X_WEIGHT * x[i] + tt;
      }
      return out;
    }

  }
}
