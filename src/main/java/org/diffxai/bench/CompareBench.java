package org.diffxai.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.run.CompareMethodsRun;
import org.diffxai.run.Env;
import org.diffxai.run.SynthesizeRun;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.FloatStack;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.metrics.Metric;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.tf.proto.ProtoBundleWriter;
import org.diffxai.tf.proto.ProtoConfig;
import org.diffxai.tf.proto.ProtoTrainingOptions;
import org.diffxai.tf.proto.PrototypeTraining;
import org.diffxai.tf.proto.RandomizedPrototypeNetwork;

/**
 * Part (g) of the benchmark: the Compare Explanation Methods run of the README — the bundled PPNet, EPPNet and
 * ProtoPool models on images synthesized by the bundled denoiser, every metric, both controls — timed per model,
 * metric and control. Each metric is run on its own ({@link CompareRun} with that metric), so its time is its own; the
 * values are the same as in one {@code metric=all} run (every image draws its random subsets from (seed, image)
 * whatever the metrics). Without the bundled prototype models (or with {@code --quick}), stand-ins of the same
 * architecture are trained briefly in the work directory; their timing is representative, their accuracy is not.
 */
final class CompareBench {
  static final List<String> SAMPLE_MODELS = List.of("sample-ppnet", "sample-eppnet", "sample-protopool");
  /** The metric keys run one at a time (prototype_similarity_drop comes with prototype_perturbation). */
  static final List<Metric> METRICS = List.of(Metric.FAITHFULNESS_CORRELATION, Metric.DELETION, Metric.INSERTION,
      Metric.MONOTONICITY, Metric.REGION_PERTURBATION, Metric.PROTOTYPE_PERTURBATION, Metric.NIS);
  static final long SEED = 1;

  /** What part (g) measured. */
  static final class Outcome {
    final List<String> models = new ArrayList<>();
    final List<String> methods = new ArrayList<>();
    String modelsNote;
    String imagesNote;
    int images;
    double imageSeconds;
    /** metric key → per model [own, random] seconds. */
    final Map<String, double[][]> metricSeconds = new LinkedHashMap<>();
    /** per model [top, full] seconds. */
    double[][] randomizationSeconds;
    final List<CompareMethodsRun.Row> rows = new ArrayList<>();
  }

  private CompareBench() {}

  static Outcome run(Path work, boolean quick, int images, Consumer<String> log) throws IOException {
    Outcome o = new Outcome();
    List<Path> standIns = null;
    List<String> keys = new ArrayList<>();
    if (!quick && ClassifierBundle.availableSamples().containsAll(SAMPLE_MODELS)) {
      keys.addAll(SAMPLE_MODELS);
      o.modelsNote = "the bundled " + String.join(", ", SAMPLE_MODELS);
    } else {
      standIns = standIns(work, quick, log);
      for (Path p : standIns) keys.add(p.toString());
      o.modelsNote = "stand-ins trained in the work directory for " + (quick ? "3 epochs on 20 32x32 phantoms"
          : "4 epochs on 64 64x64 phantoms") + " (" + (quick ? "--quick" : "the bundled prototype models are not in"
          + " this build") + "): the timing is the architecture's, the metric values are not the trained models'";
    }
    List<LoadedModel<PrototypeClassifier>> models = new ArrayList<>();
    try {
      for (String k : keys) {
        LoadedModel<PrototypeClassifier> lm = Models.prototypes(k, DeviceChoice.CPU, 32, false, Progress.NONE);
        models.add(lm);
        o.models.add(lm.name());
        o.methods.add(lm.get().method());
      }
      int size = models.get(0).get().width();
      CompareMethodsRun.Images stack = new CompareMethodsRun.Images(images(o, size, quick, images, log),
          "benchmark images", new java.util.LinkedHashMap<>());
      CompareMethodsRun.Randomizer rz = (i, st, s) -> RandomizedPrototypeNetwork.of(ClassifierBundle.open(keys.get(i)),
          st, s);
      int m = models.size();
      for (Metric mt : METRICS) {
        log.accept("(g) " + mt.key() + " on " + m + " models x " + o.images + " images");
        CompareMethodsRun.Result res = CompareMethodsRun.run(request(mt.key(), "none"), stack, models, rz,
            Env.files());
        double[][] s = new double[m][2];
        for (int i = 0; i < m; i++) {
          s[i][0] = res.seconds.getOrDefault(o.models.get(i) + "/" + o.methods.get(i), Double.NaN);
          s[i][1] = res.seconds.getOrDefault(o.models.get(i) + "/" + CompareMethodsRun.RANDOM, 0.0);
        }
        o.metricSeconds.put(mt.key(), s);
        o.rows.addAll(res.rows);
      }
      log.accept("(g) model randomisation (top, full) on " + m + " models x " + o.images + " images");
      CompareMethodsRun.Result res = CompareMethodsRun.run(request(Metric.NIS.key(), "both"), stack, models, rz,
          Env.files());
      o.randomizationSeconds = new double[m][2];
      for (int i = 0; i < m; i++) {
        o.randomizationSeconds[i][0] = res.seconds.get(o.models.get(i) + "/" + CompareMethodsRun.RANDOMIZED + "top");
        o.randomizationSeconds[i][1] = res.seconds.get(o.models.get(i) + "/" + CompareMethodsRun.RANDOMIZED + "full");
      }
      for (CompareMethodsRun.Row row : res.rows) if (row.method.startsWith(CompareMethodsRun.RANDOMIZED)) o.rows.add(row);
    } finally {
      for (LoadedModel<PrototypeClassifier> lm : models) lm.close();
    }
    List<CompareMethodsRun.Row> ordered = new ArrayList<>();
    for (String model : o.models) {
      for (CompareMethodsRun.Row r : o.rows) if (r.model.equals(model) && !r.method.equals(CompareMethodsRun.RANDOM)
          && !r.method.startsWith(CompareMethodsRun.RANDOMIZED)) ordered.add(r);
      for (CompareMethodsRun.Row r : o.rows) if (r.model.equals(model) && r.method.equals(CompareMethodsRun.RANDOM)) ordered.add(r);
      for (CompareMethodsRun.Row r : o.rows) if (r.model.equals(model) && r.method.startsWith(CompareMethodsRun.RANDOMIZED)) {
        ordered.add(r);
      }
    }
    o.rows.clear();
    o.rows.addAll(ordered);
    return o;
  }

  private static CompareMethodsRun.Request request(String metric, String randomization) {
    CompareMethodsRun.Request r = new CompareMethodsRun.Request();
    r.metric = metric;
    r.seed = SEED;
    r.randomization = randomization;
    r.device = "cpu";
    return r;
  }

  /** 32 DDIM-50 samples of the bundled denoiser when it fits the models, else phantoms never used in training. */
  private static FloatStack images(Outcome o, int size, boolean quick, int n, Consumer<String> log)
      throws IOException {
    o.images = n;
    if (!quick && DenoiserBundle.availableSamples().contains("sample")) {
      SynthesizeRun.Request s = new SynthesizeRun.Request();
      s.model = "sample";
      s.samples = n;
      s.steps = 50;
      s.sampler = "DDIM";
      s.seed = SEED;
      s.device = "cpu";
      log.accept("(g) synthesizing " + n + " images with the sample denoiser (DDIM, 50 steps)");
      long t0 = System.nanoTime();
      SynthesizeRun.Result res = SynthesizeRun.run(s, Env.files());
      o.imageSeconds = (System.nanoTime() - t0) / 1e9;
      FloatStack st = res.samples;
      if (st.width == size && st.height == size) {
        o.imagesNote = n + " samples of the bundled denoiser 'sample' (DDIM, 50 steps, seed " + SEED
            + ", classes alternating)";
        return st;
      }
    }
    PhantomGenerator g = new PhantomGenerator(size);
    float[][] planes = new float[n][];
    for (int i = 0; i < n; i++) planes[i] = g.generate(2, i, i % 2 == 1).pixels;
    o.imageSeconds = Double.NaN;
    o.imagesNote = n + " " + size + "x" + size + " phantoms (seed 2, classes alternating; the bundled denoiser "
        + (quick ? "is not used with --quick" : "does not fit the models") + ")";
    return new FloatStack(size, size, 1, n, 1, planes, null);
  }

  /** PPNet, EPPNet and ProtoPool trained briefly on phantoms (reused from an earlier run in the same work dir). */
  private static List<Path> standIns(Path work, boolean quick, Consumer<String> log) {
    int size = quick ? 32 : 64;
    int perClass = quick ? 10 : 32;
    Path phantoms = work.resolve("g-phantoms-" + size);
    if (!Files.isDirectory(phantoms)) {
      PhantomGenerator g = new PhantomGenerator(size);
      for (boolean lesion : new boolean[] {false, true}) {
        for (int i = 0; i < perClass; i++) {
          Phantom p = g.generate(11, i, lesion);
          Path f = AtomicFiles.ensureDirectory(phantoms.resolve(p.className()))
              .resolve(String.format(Locale.ROOT, "phantom_%04d.tif", i));
          StreamingTiffWriter.writeStack(f, size, size, Collections.singletonList(p.pixels), null);
        }
      }
    }
    List<Path> out = new ArrayList<>();
    for (ProtoConfig.Method m : ProtoConfig.Method.values()) {
      Path dir = work.resolve("g-" + m.label().toLowerCase(Locale.ROOT) + "-" + size);
      if (!Files.isDirectory(dir)) {
        log.accept("(g) training a stand-in " + m + " (" + size + "x" + size + ")");
        ProtoConfig cfg = new ProtoConfig().method(m);
        if (quick) cfg.baseChannels(4).featureDepth(8).prototypesPerClass(2).poolSize(4).slotsPerClass(2);
        ProtoTrainingOptions opts = new ProtoTrainingOptions().epochs(quick ? 3 : 4).warmupEpochs(1).pushEvery(1)
            .lastLayerEpochs(1).batch(16).seed(7);
        PrototypeTraining.run(phantoms, size, cfg, opts, 0.2, dir, new ProtoBundleWriter.Metadata()
            .name("stand-in-" + m.label()).description("benchmark stand-in"), Progress.NONE);
      }
      out.add(dir);
    }
    return out;
  }
}
