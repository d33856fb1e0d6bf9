package org.diffxai.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.diffxai.core.DdimScheduler;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DiffusionSampler;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.Progress;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.UserException;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.DjlDenoiser;
import org.diffxai.model.TestBundles;
import org.diffxai.model.TorchFixtures;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rebuilt denoiser against the bundle's own SavedModel (run through DJL as every command runs it): one UNet call
 * and a whole DDIM chain agree, for the committed sample (ε prediction, linear β) and for a tiny network trained here
 * with v prediction, the squaredcos_cap_v2 schedule and an unconditional label (what the new sample denoiser uses);
 * the embedding gradient matches finite differences; bundles that cannot be rebuilt are refused with a message.
 */
class RebuiltDenoiserTest {
  @TempDir
  Path tmp;

  static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  }

  /**
   * The bundle's SavedModel run in a TensorFlow Java session of its own, fed and fetched by the exported names (on main,
   * DjlDenoiser refuses bundles whose embedding has the extra "no class" row).
   */
  static final class SessionDenoiser implements Denoiser {
    private final DenoiserBundle b;
    private final SavedModelBundle saved;

    SessionDenoiser(DenoiserBundle b) {
      this.b = b;
      saved = SavedModelBundle.load(b.directory().toString(), "serve");
    }

    @Override
    public float[] predict(float[] x, float[] t, int[] labels, float[] condition, int n) {
      try (TFloat32 xt = TFloat32.tensorOf(Shape.of(n, b.height(), b.width(), b.channels()), DataBuffers.of(x));
          TFloat32 tt = TFloat32.tensorOf(Shape.of(n), DataBuffers.of(t));
          TInt32 lt = TInt32.tensorOf(Shape.of(n), DataBuffers.of(labels));
          Result res = saved.session().runner().feed("x", xt).feed("t", tt).feed("label", lt)
              .fetch(DenoiserTrainer.OUTPUT_NAME).run()) {
        TFloat32 y = (TFloat32) res.get(0);
        float[] v = new float[(int) y.shape().size()];
        y.copyTo(DataBuffers.of(v, false, false));
        return v;
      }
    }

    @Override
    public int height() {
      return b.height();
    }

    @Override
    public int width() {
      return b.width();
    }

    @Override
    public int channels() {
      return b.channels();
    }

    @Override
    public int conditionChannels() {
      return 0;
    }

    @Override
    public boolean classConditional() {
      return true;
    }

    @Override
    public void close() {
      saved.close();
    }
  }

  /** One UNet call at three timesteps and a 5-step DDIM chain, rebuilt vs the SavedModel. */
  private static void agrees(DenoiserBundle b, Denoiser saved, String what) throws Exception {
    int steps = 5;
    int h = b.height(), w = b.width(), d = h * w * b.channels();
    try (RebuiltDenoiser r = RebuiltDenoiser.open(b, steps, false); saved) {
      float[] x = GaussianNoise.forSample(5, 0).fill(new float[3 * d]);
      float[] t = {999f, 500f, 20f};
      int[] labels = {0, 1, 0};
      double call = maxAbsDiff(r.predict(x, t, labels, 3), saved.predict(x, t, labels, null, 3));
      float[][] ref = new DiffusionSampler(saved, new DdimScheduler(SchedulerConfig.fromJson(b.schedulerConfigJson()),
          0)).steps(steps).samples(2).label(1).seed(3).run(null, Progress.NONE);
      float[] xT = new float[2 * d];
      for (int i = 0; i < 2; i++) GaussianNoise.forSample(3, i).fill(xT, i * d, d);
      float[] mine = r.generate(r.embedding(1), xT, 2);
      double chain = Math.max(maxAbsDiff(Arrays.copyOfRange(mine, 0, d), ref[0]),
          maxAbsDiff(Arrays.copyOfRange(mine, d, 2 * d), ref[1]));
      System.out.println("[rebuilt] " + what + ": max |rebuilt - SavedModel| one call " + call + ", " + steps
          + "-step DDIM " + chain + " (model units)");
      assertTrue(call <= 1e-5, what + ": one call differs by " + call);
      assertTrue(chain <= 1e-4, what + ": the DDIM chain differs by " + chain);
    }
  }

  @Test
  void committedSampleMatchesItsSavedModel() throws Exception {
    DenoiserBundle b = DenoiserBundle.open("sample");
    agrees(b, DjlDenoiser.load(b, "cpu"), "sample (epsilon, linear), through DJL");
  }

  /** A tiny v-prediction, cosine-schedule denoiser with an unconditional label, trained and written here. */
  static Path tinyVBundle(Path dir) {
    return tinyVBundle(dir, 0);
  }

  /** {@link #tinyVBundle(Path)} with classifier-free guidance of scale w built into the exported graph. */
  static Path tinyVBundle(Path dir, double w) {
    UNetConfig net = new UNetConfig().size(16, 16).channels(1).baseChannels(8).channelMultipliers(1, 2).groups(4)
        .numClasses(2).unconditionalLabel(true);
    TrainingOptions o = new TrainingOptions().iterations(6).batch(8).learningRate(1e-3).warmupIterations(2).seed(3)
        .predictionType("v_prediction").betaSchedule("squaredcos_cap_v2").labelDropout(0.2);
    int[] labels = new int[16];
    List<float[]> im = Synthetic.images(16, 16, 11, labels);
    try (DenoiserTrainer tr = new DenoiserTrainer(net, o)) {
      tr.train(TrainingData.of(16, 16, 1, im).withLabels(labels, Arrays.asList("disc", "ring")), Progress.NONE);
      return BundleWriter.write(dir, tr, new BundleWriter.Metadata().classNames(Arrays.asList("disc", "ring"))
          .guidanceScale(w), Progress.NONE);
    }
  }

  @Test
  void vPredictionCosineBundleMatchesItsSavedModel() throws Exception {
    DenoiserBundle b = DenoiserBundle.open(tinyVBundle(tmp.resolve("v")));
    agrees(b, new SessionDenoiser(b), "tiny (v_prediction, squaredcos_cap_v2, null label)");
  }

  /** Central differences of u·G(e) along three directions against the graph's gradient. */
  @Test
  void embeddingGradientMatchesFiniteDifferences() {
    try (RebuiltDenoiser r = RebuiltDenoiser.open(DenoiserBundle.open(tinyVBundle(tmp.resolve("g"))), 4, false)) {
      int d = 16 * 16;
      float[] xT = GaussianNoise.forSample(1, 0).fill(new float[2 * d]);
      float[] u = GaussianNoise.forSample(2, 0).fill(new float[2 * d]);
      float[] e = r.embedding(0);
      float[] g = r.embeddingGradient(e, xT, 2, u);
      assertEquals(r.embeddingDim(), g.length);
      for (int k : new int[] {0, 7, 31}) {
        double eps = 1e-2;
        float[] ep = e.clone();
        float[] em = e.clone();
        ep[k] += eps;
        em[k] -= eps;
        double fd = (dot(u, r.generate(ep, xT, 2)) - dot(u, r.generate(em, xT, 2))) / (2 * eps);
        System.out.println("[rebuilt] d/de_" + k + ": graph " + g[k] + ", finite difference " + fd);
        assertEquals(fd, g[k], 0.02 * Math.max(1, Math.abs(fd)), "component " + k);
      }
    }
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
    return s;
  }

  @Test
  void bundlesThatCannotBeRebuiltAreRefused() {
    UserException external = assertThrows(UserException.class, () -> RebuiltDenoiser.open(DenoiserBundle.open(
        TestBundles.spec().size(16, 16).classes("a", "b").write(tmp.resolve("external"))), 5, false));
    assertTrue(external.getMessage().contains("training block") || external.getMessage().contains("architecture"),
        external.getMessage());
    assertTrue(external.getMessage().contains("Train Denoiser"), external.getMessage());
    UserException onnx = assertThrows(UserException.class, () -> RebuiltDenoiser.open(DenoiserBundle.open(
        TorchFixtures.unet().resolve("onnx")), 5, false));
    assertTrue(onnx.getMessage().contains("cannot be rebuilt"), onnx.getMessage());
    UserException guided = assertThrows(UserException.class, () -> RebuiltDenoiser.open(DenoiserBundle.open(
        tinyVBundle(tmp.resolve("cfg"), 1.5)), 5, false));
    assertTrue(guided.getMessage().contains("classifier-free guidance"), guided.getMessage());
    UserException steps = assertThrows(UserException.class, () -> RebuiltDenoiser.open(DenoiserBundle.open("sample"),
        0, false));
    assertTrue(steps.getMessage().contains("steps"), steps.getMessage());
  }
}
