package org.diffxai.tf;

import org.diffxai.io.Checksums;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.CancelledException;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** Tiny UNets (16×16, 8 base channels) trained for a few iterations: objective, determinism, export, cancel. */
class DenoiserTrainerTest {
  private static final int S = 16;

  @TempDir
  Path tmp;

  private static UNetConfig tiny() {
    return new UNetConfig().size(S, S).channels(1).baseChannels(8).channelMultipliers(1, 2).groups(4);
  }

  private static TrainingOptions fast(int iterations) {
    return new TrainingOptions().iterations(iterations).batch(8).learningRate(1e-3).warmupIterations(5).seed(3);
  }

  private static TrainingData labelled(int n) {
    int[] labels = new int[n];
    List<float[]> im = Synthetic.images(n, S, 11, labels);
    return TrainingData.of(S, S, 1, im).withLabels(labels, Arrays.asList("disc", "ring"));
  }

  private static double mean(float[] a, int from, int to) {
    double s = 0;
    for (int i = from; i < to; i++) s += a[i];
    return s / (to - from);
  }

  @Test
  void lossDecreasesAndSameSeedRepeats() {
    float[] first;
    try (DenoiserTrainer tr = new DenoiserTrainer(tiny().numClasses(2), fast(40))) {
      tr.train(labelled(32), Progress.NONE);
      first = tr.losses();
    }
    assertEquals(40, first.length);
    double start = mean(first, 0, 5);
    double end = mean(first, 35, 40);
    assertTrue(end < 0.6 * start, "loss should fall substantially: first 5 " + start + ", last 5 " + end);

    // Same seed, same data → the identical loss curve.
    try (DenoiserTrainer tr = new DenoiserTrainer(tiny().numClasses(2), fast(8))) {
      tr.train(labelled(32), Progress.NONE);
      assertArrayEquals(Arrays.copyOf(first, 8), tr.losses());
    }
  }

  @Test
  void bundleReloadsWithSameOutputAndChecksums() throws Exception {
    Path dir = tmp.resolve("bundle");
    float[] x = noise(3 * S * S, 5);
    float[] t = {0f, 481f, 999f};
    int[] labels = {1, 0, 1};
    float[] expected;
    try (DenoiserTrainer tr = new DenoiserTrainer(tiny().numClasses(2), fast(6).emaDecay(0.9))) {
      tr.train(labelled(16), Progress.NONE);
      expected = tr.predictEma(x, t, labels, null, 3);
      float[] raw = tr.predict(x, t, labels, null, 3);
      assertFalse(Arrays.equals(expected, raw), "EMA weights should differ from the raw weights");
      BundleWriter.Metadata meta = new BundleWriter.Metadata().name("tiny").description("test")
          .intensity(new IntensityMapping(100, 50)).classNames(Arrays.asList("disc", "ring")).images(16)
          .input(java.util.Map.of("input_images", 16, "input_stretched", 3));
      assertEquals(dir.toAbsolutePath().normalize(), BundleWriter.write(dir, tr, meta, Progress.NONE));
    }

    Set<String> files = relativeFiles(dir);
    assertEquals(new TreeSet<>(Arrays.asList("model.json", "saved_model.pb", "scheduler_config.json", "training.csv",
        "variables/variables.data-00000-of-00001", "variables/variables.index")), files);
    assertTrue(sizeOf(dir) < 1_000_000, "tiny bundle should be small, not carry optimiser state");

    JsonObject model = json(dir.resolve("model.json"));
    assertEquals("diffusion-xai-denoiser/1", model.get("format").getAsString());
    assertEquals("tiny", model.get("name").getAsString());
    assertEquals(S, model.getAsJsonArray("sample_size").get(0).getAsInt());
    assertEquals(1, model.get("channels").getAsInt());
    assertEquals(100.0, model.getAsJsonObject("intensity").get("scale").getAsDouble());
    assertEquals(50.0, model.getAsJsonObject("intensity").get("offset").getAsDouble());
    assertEquals("ring", model.getAsJsonArray("class_names").get(1).getAsString());
    assertEquals(0, model.get("condition_channels").getAsInt());
    JsonObject training = model.getAsJsonObject("training");
    assertEquals(6, training.get("iterations").getAsInt());
    assertEquals(8, training.get("batch").getAsInt());
    assertEquals(3, training.get("seed").getAsInt());
    assertEquals(16, training.get("images").getAsInt());
    assertEquals(8, training.get("base_channels").getAsInt());
    assertTrue(training.get("final_loss").getAsDouble() > 0);
    assertEquals(3, training.getAsJsonObject("input").get("input_stretched").getAsInt());
    JsonObject sums = model.getAsJsonObject("sha256");
    assertEquals(files.stream().filter(f -> !f.equals("model.json")).collect(Collectors.toSet()), sums.keySet());
    for (String f : sums.keySet()) assertEquals(org.diffxai.io.Checksums.sha256Hex(dir.resolve(f)), sums.get(f).getAsString(), f);

    JsonObject sched = json(dir.resolve("scheduler_config.json"));
    assertEquals("DDPMScheduler", sched.get("_class_name").getAsString());
    assertEquals(1000, sched.get("num_train_timesteps").getAsInt());
    assertEquals(0.0001, sched.get("beta_start").getAsDouble());
    assertEquals("epsilon", sched.get("prediction_type").getAsString());
    assertEquals("leading", sched.get("timestep_spacing").getAsString());
    List<String> csv = Files.readAllLines(dir.resolve("training.csv"));
    assertEquals("iteration,loss,seconds", csv.get(0));
    assertEquals(7, csv.size());

    // every bundle the trainer writes passes the trust check (docs/security.md)
    assertEquals(java.util.Collections.emptyList(), org.diffxai.model.ModelTrust.scan(dir));
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      Signature sig = b.function("serving_default").signature();
      assertEquals(new TreeSet<>(Arrays.asList("x", "t", "label")), new TreeSet<>(sig.inputNames()));
      assertArrayEquals(Shape.of(-1, S, S, 1).asArray(), sig.getInputs().get("x").shape.asArray());
      assertEquals(DataType.DT_INT32, sig.getInputs().get("label").dataType);
      assertEquals(1, sig.outputNames().size());
      float[] got = run(b, x, t, labels, null, 3, 0);
      assertEquals(expected.length, got.length);
      for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-5, "element " + i);
    }
  }

  @Test
  void conditionChannelsSignatureAndOutput() throws Exception {
    int k = 2;
    List<float[]> im = Synthetic.images(8, S, 3, null);
    List<float[]> cond = Synthetic.images(8 * k, S, 4, null).subList(0, 8).stream().map(a -> {
      float[] c = new float[S * S * k];
      for (int i = 0; i < S * S; i++) {
        c[i * k] = a[i];
        c[i * k + 1] = -a[i];
      }
      return c;
    }).collect(Collectors.toList());
    TrainingData data = TrainingData.of(S, S, 1, im).withConditions(k, cond);
    Path dir = tmp.resolve("cond");
    float[] x = noise(2 * S * S, 8);
    float[] c = noise(2 * S * S * k, 9);
    float[] t = {3f, 700f};
    float[] expected;
    try (DenoiserTrainer tr = new DenoiserTrainer(tiny().conditionChannels(k), fast(2))) {
      tr.train(data, Progress.NONE);
      expected = tr.predictEma(x, t, null, c, 2);
      tr.exportSavedModel(dir);
    }
    // every bundle the trainer writes passes the trust check (docs/security.md)
    assertEquals(java.util.Collections.emptyList(), org.diffxai.model.ModelTrust.scan(dir));
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      Signature sig = b.function("serving_default").signature();
      assertEquals(new TreeSet<>(Arrays.asList("x", "t", "condition")), new TreeSet<>(sig.inputNames()));
      assertArrayEquals(Shape.of(-1, S, S, k).asArray(), sig.getInputs().get("condition").shape.asArray());
      assertArrayEquals(Shape.of(-1, S, S, 1).asArray(), sig.getOutputs().get(DenoiserTrainer.OUTPUT_NAME).shape.asArray());
      float[] got = run(b, x, t, null, c, 2, k);
      for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-5, "element " + i);
    }

  }

  @Test
  void unconditionalExportCancelAndExistingOutput() throws Exception {
    Path dir = tmp.resolve("cancelled");
    int[] calls = {0};
    Progress cancelAfter3 = new Progress() {
      @Override
      public void report(String message, double fraction) {
        calls[0]++;
      }

      @Override
      public boolean isCancelled() {
        return calls[0] >= 3;
      }
    };
    Path plain = tmp.resolve("plain");
    try (DenoiserTrainer tr = new DenoiserTrainer(tiny().channelMultipliers(1, 1, 2), fast(50))) {
      TrainingData data = TrainingData.of(S, S, 1, Synthetic.images(8, S, 1, null));
      assertThrows(CancelledException.class, () -> tr.train(data, cancelAfter3));
      assertEquals(3, tr.completedIterations());

      // A cancel while saving leaves neither the bundle nor the temporary folder.
      Progress cancelled = new Progress() {
        @Override
        public void report(String message, double fraction) {}

        @Override
        public boolean isCancelled() {
          return true;
        }
      };
      assertThrows(CancelledException.class,
          () -> BundleWriter.write(dir, tr, new BundleWriter.Metadata(), cancelled));
      assertFalse(Files.exists(dir));
      assertEquals(0, relativeFiles(tmp).size(), "no temporary files left: " + relativeFiles(tmp));

      Path existing = Files.createDirectories(tmp.resolve("exists"));
      UserException e = assertThrows(UserException.class,
          () -> BundleWriter.write(existing, tr, new BundleWriter.Metadata(), Progress.NONE));
      assertTrue(e.getMessage().contains("already exists"), e.getMessage());

      tr.exportSavedModel(plain);
    }
    // every bundle the trainer writes passes the trust check (docs/security.md)
    assertEquals(java.util.Collections.emptyList(), org.diffxai.model.ModelTrust.scan(plain));
    try (SavedModelBundle b = SavedModelBundle.load(plain.toString(), "serve")) {
      Signature sig = b.function("serving_default").signature();
      assertEquals(new TreeSet<>(Arrays.asList("x", "t")), new TreeSet<>(sig.inputNames()));
      assertEquals(DataType.DT_FLOAT, sig.getInputs().get("t").dataType);
      assertArrayEquals(Shape.of(-1).asArray(), sig.getInputs().get("t").shape.asArray());
      assertEquals(Collections.singleton(DenoiserTrainer.OUTPUT_NAME), sig.outputNames());
    }
  }

  @Test
  void scheduleMatchesDiffusersLinear() {
    float[] ac = org.diffxai.core.NoiseSchedule.of(BundleWriter.trainingSchedule()).alphasCumprod();
    assertEquals(1000, ac.length);
    assertEquals(0.9999f, ac[0], 1e-7f);
    // diffusers DDPMScheduler(beta_schedule="linear").alphas_cumprod[-1] ≈ 4.036e-05 (float32)
    assertEquals(4.036e-5, ac[999], 1e-7);
  }

  @Test
  void invalidConfigurationsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new UNetBuilder(tiny().groups(3)));
    assertThrows(IllegalArgumentException.class, () -> new UNetBuilder(tiny().size(18, 18).channelMultipliers(1, 2, 2)));
    assertThrows(IllegalArgumentException.class, () -> new UNetBuilder(tiny().numClasses(1)));
  }

  // --- helpers

  private static float[] noise(int n, long seed) {
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
    return a;
  }

  private static float[] run(SavedModelBundle b, float[] x, float[] t, int[] labels, float[] cond, int n, int k) {
    Map<String, Tensor> in = new HashMap<>();
    try {
      in.put("x", TFloat32.tensorOf(Shape.of(n, S, S, 1), DataBuffers.of(x, true, false)));
      in.put("t", TFloat32.vectorOf(t));
      if (labels != null) in.put("label", TInt32.vectorOf(labels));
      if (cond != null) in.put("condition", TFloat32.tensorOf(Shape.of(n, S, S, k), DataBuffers.of(cond, true, false)));
      try (Result r = b.function("serving_default").call(in)) {
        assertEquals(1, r.size());
        TFloat32 y = (TFloat32) r.get(DenoiserTrainer.OUTPUT_NAME).get();
        assertEquals(Shape.of(n, S, S, 1), y.shape());
        float[] out = new float[n * S * S];
        y.copyTo(DataBuffers.of(out, false, false));
        return out;
      }
    } finally {
      for (Tensor tt : in.values()) tt.close();
    }
  }

  private static Set<String> relativeFiles(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/'))
          .collect(Collectors.toCollection(TreeSet::new));
    } catch (java.io.IOException e) {
      throw new RuntimeException(e);
    }
  }

  private static long sizeOf(Path dir) throws java.io.IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static JsonObject json(Path p) throws java.io.IOException {
    return JsonParser.parseString(new String(Files.readAllBytes(p), StandardCharsets.UTF_8)).getAsJsonObject();
  }
}
