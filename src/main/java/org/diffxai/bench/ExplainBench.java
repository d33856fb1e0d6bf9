package org.diffxai.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.run.Env;
import org.diffxai.run.ExplainPrototypesRun;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageFolder;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.tf.proto.ProtoBundleWriter;
import org.diffxai.tf.proto.ProtoConfig;
import org.diffxai.tf.proto.ProtoTrainingOptions;
import org.diffxai.tf.proto.PrototypeTraining;

/**
 * Part (e) of the benchmark: how long {@code Explain with Prototypes} takes per image. One explanation is
 * {@link ExplainPrototypesRun#run} without an output directory: the model call, ranking, the top-5 maps upsampled to the image,
 * their boxes, the overlay panels and the table. Phantom slices of 64×64 and 256×256 are explained one per call
 * (batch 1, latency) and 32 per call (batch 32, throughput); a 256×256 slice reaches a 64×64 model through the resize
 * path. The bare model call ({@link PrototypeClassifier#activations}) is timed alongside.
 */
final class ExplainBench {

  /** Creates a row of the benchmark table (pending until filled in). */
  interface Rows {
    Benchmark.Row row(String id, String measure, String target);
  }

  static final int TOP = 5;
  static final int BIG_BATCH = 32;

  private ExplainBench() {}

  static void run(Benchmark.Options opt, Path work, Rows rows, List<String> notes, Consumer<String> progress)
      throws Exception {
    Benchmark.Row l64 = rows.row("e1", "Explanation latency, one 64×64 image per call (batch 1; model call, top-" + TOP
        + " maps and boxes, overlay panels, table; no files)", "—");
    Benchmark.Row l256 = rows.row("e2", "Explanation latency, one 256×256 image per call (batch 1)", "—");
    Benchmark.Row t64 = rows.row("e3", "Explanation throughput, " + BIG_BATCH + " images of 64×64 per call (batch "
        + BIG_BATCH + ")", "—");
    Benchmark.Row t256 = rows.row("e4", "Explanation throughput, " + BIG_BATCH + " images of 256×256 per call (batch "
        + BIG_BATCH + ")", "—");
    Benchmark.Row m1 = rows.row("e5", "Model call alone (PrototypeClassifier.activations), batch 1", "—");
    Benchmark.Row m32 = rows.row("e6", "Model call alone, batch " + BIG_BATCH, "—");

    String key = prototypeModel(opt, work, "e", notes, progress);
    try (LoadedModel<PrototypeClassifier> model = Models.prototypes(key, DeviceChoice.CPU, BIG_BATCH,
        false, Progress.NONE)) {
      PrototypeClassifier c = model.get();
      notes.add(String.format(Locale.ROOT, "(e) %s, input %dx%d, %d prototypes, latent grid %dx%d; 256×256 images are"
          + " resized to the input, maps and boxes computed at 256×256; top %d.", c.method(), c.width(), c.height(),
          c.prototypes(), c.mapWidth(), c.mapHeight(), TOP));
      Explain one64 = request(64, 1), one256 = request(256, 1);
      Explain many64 = request(64, BIG_BATCH), many256 = request(256, BIG_BATCH);
      float[] x1 = modelInput(c, 1), x32 = modelInput(c, BIG_BATCH);
      // Warm-up, which doubles as an in-run split: each kind of call with the network wrapped in a stopwatch, so the
      // time outside the model call is measured within the very same calls (much less sensitive to other load).
      progress.accept("(e) warming up (with the time inside the model call measured)");
      TimedPrototypeClassifier timed = new TimedPrototypeClassifier(c);
      LoadedModel<PrototypeClassifier> timedModel = LoadedModel.<PrototypeClassifier>of(timed, model.name(),
          model.provenance()).withGallery(model.gallery());
      List<String> split = new ArrayList<>();
      String[] names = {"64 px batch 1", "256 px batch 1", "64 px batch " + BIG_BATCH, "256 px batch " + BIG_BATCH};
      Explain[] kinds = {one64, one256, many64, many256};
      for (int k = 0; k < kinds.length; k++) {
        kinds[k].run(model);
        int n = kinds[k].images.planeCount(), calls = n == 1 ? 10 : 2;
        timed.nanos = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) kinds[k].run(timedModel);
        double all = (System.nanoTime() - t0) / 1e6 / calls / n, inModel = timed.nanos / 1e6 / calls / n;
        split.add(String.format(Locale.ROOT, "%s %.2f ms per image, of which %.2f in the model call", names[k], all,
            inModel));
      }
      notes.add("(e) in-run split (warm-up calls, network wrapped in a stopwatch; not the defined measure): "
          + String.join("; ", split) + ".");
      c.activations(x1, 1);
      c.activations(x32, BIG_BATCH);

      List<Timing.Case> cases = new ArrayList<>();
      cases.add(new Timing.Case("l64", 0, () -> one64.run(model)));
      cases.add(new Timing.Case("l256", 0, () -> one256.run(model)));
      cases.add(new Timing.Case("t64", 0, () -> many64.run(model)));
      cases.add(new Timing.Case("t256", 0, () -> many256.run(model)));
      cases.add(new Timing.Case("m1", 0, () -> c.activations(x1, 1)));
      cases.add(new Timing.Case("m32", 0, () -> c.activations(x32, BIG_BATCH)));
      progress.accept("(e) timing " + opt.repeats() + " interleaved repeats of ~" + opt.secondsPerRepeat() + " s each");
      Map<String, Timing> t = Timing.interleaved(opt.repeats(), opt.secondsPerRepeat(), 10000, cases);
      latency(l64, t.get("l64"));
      latency(l256, t.get("l256"));
      throughput(t64, t.get("t64"));
      throughput(t256, t.get("t256"));
      latency(m1, t.get("m1"));
      throughput(m32, t.get("m32"));
      notes.add(String.format(Locale.ROOT, "(e) medians of %d repeats, ms per image: 64 px batch 1 %.1f, 256 px"
          + " batch 1 %.1f, 64 px batch %d %.2f, 256 px batch %d %.2f, model call batch 1 %.1f, batch %d %.2f; calls"
          + " per repeat: %s.", opt.repeats(), t.get("l64").median() * 1e3, t.get("l256").median() * 1e3, BIG_BATCH,
          t.get("t64").median() * 1e3 / BIG_BATCH, BIG_BATCH, t.get("t256").median() * 1e3 / BIG_BATCH,
          t.get("m1").median() * 1e3, BIG_BATCH, t.get("m32").median() * 1e3 / BIG_BATCH, calls(cases)));
    }
  }

  /**
   * The prototype-network bundle of parts (e) and (f): {@code --proto-model}, else the bundled sample-ppnet (not with
   * --quick), else a PPNet trained briefly in the work directory (reused by the other part and by later runs with the
   * same --work). Adds a note saying which, prefixed with the part.
   */
  static String prototypeModel(Benchmark.Options opt, Path work, String part, List<String> notes,
      Consumer<String> progress) {
    String key = opt.protoModel;
    if (key == null && !opt.quick && ClassifierBundle.availableSamples().contains("sample-ppnet")) {
      key = "sample-ppnet";
    }
    if (key == null) {
      Path dir = work.resolve(opt.quick ? "ppnet-tiny" : "ppnet-64");
      ProtoConfig net = opt.quick ? new ProtoConfig().baseChannels(4).featureDepth(8).prototypesPerClass(2)
          : new ProtoConfig();
      if (!Files.isDirectory(dir)) {
        progress.accept("(" + part + ") training a PPNet briefly (the weights do not change the timing)");
        // validation 0.25: 2 of the 8 images per class are held out (also keeps the recorded accuracy a number)
        ImageFolder folder = ImageFolder.load(phantomFolder(work.resolve("e-phantoms"), 64, 8), 64, true);
        AtomicFiles.writeDirectory(dir, tmp -> PrototypeTraining.run(folder, null, net, new ProtoTrainingOptions()
            .epochs(2).warmupEpochs(1).pushEvery(1).lastLayerEpochs(1).batch(8).seed(1), 0.25, tmp,
            new ProtoBundleWriter.Metadata().name(dir.getFileName().toString()).description("benchmark"), null));
      }
      key = dir.toString();
      notes.add("(" + part + ") Model: a PPNet of " + (opt.quick ? "a tiny architecture (base 4 channels, depth 8)"
          : "the default architecture (ProtoConfig defaults)") + ", trained for 2 epochs on 12 phantoms in the"
          + " work directory (the bundled sample-ppnet " + (opt.quick ? "is not used with --quick" : "is not in this"
          + " build") + "); timing does not depend on the weights.");
    } else {
      notes.add("(" + part + ") Model: " + key + ".");
    }
    return key;
  }

  private static void latency(Benchmark.Row row, Timing t) {
    row.value = String.format(Locale.ROOT, "%.1f ms per image", t.best() * 1e3);
    row.result = "—";
  }

  private static void throughput(Benchmark.Row row, Timing t) {
    double perImage = t.best() / BIG_BATCH;
    row.value = String.format(Locale.ROOT, "%.1f images/s (%.2f ms per image)", 1 / perImage, perImage * 1e3);
    row.result = "—";
  }

  private static String calls(List<Timing.Case> cases) {
    List<String> s = new ArrayList<>();
    for (Timing.Case c : cases) s.add(c.name + " " + c.calls);
    return String.join(", ", s);
  }

  /** An Explain with Prototypes run on n phantom slices of size×size (classes alternating), at batch n. */
  private static final class Explain {
    final FloatStack images;
    final ExplainPrototypesRun.Request request = new ExplainPrototypesRun.Request();
    final Env env;

    Explain(FloatStack images, String name) {
      this.images = images;
      request.image = name;
      request.top = TOP;
      request.map = "upsample"; // part (e) times the upsampled maps; gradient maps: AttributionBench
      request.batch = images.planeCount();
      env = new Env(Progress.NONE, (key, value) -> images);
    }

    void run(LoadedModel<PrototypeClassifier> model) {
      ExplainPrototypesRun.run(request, model, env);
    }
  }

  private static Explain request(int size, int n) {
    PhantomGenerator g = new PhantomGenerator(size);
    float[][] planes = new float[n][];
    for (int i = 0; i < n; i++) planes[i] = g.generate(500, i, i % 2 == 1).pixels;
    return new Explain(new FloatStack(size, size, 1, n, 1, planes, null), "phantoms " + size);
  }

  /** n phantoms at the model's input size, NHWC. */
  private static float[] modelInput(PrototypeClassifier c, int n) {
    PhantomGenerator g = new PhantomGenerator(c.width());
    float[] x = new float[n * c.height() * c.width()];
    for (int i = 0; i < n; i++) {
      System.arraycopy(g.generate(600, i, i % 2 == 1).pixels, 0, x, i * c.height() * c.width(),
          c.height() * c.width());
    }
    return x;
  }

  /** healthy/ and lesion/ folders of perClass size×size phantoms (seed 1000). */
  private static Path phantomFolder(Path root, int size, int perClass) {
    PhantomGenerator g = new PhantomGenerator(size);
    for (boolean lesion : new boolean[] {false, true}) {
      for (int i = 0; i < perClass; i++) {
        Phantom p = g.generate(1000, i, lesion);
        Path f = AtomicFiles.ensureDirectory(root.resolve(p.className()))
            .resolve(String.format(Locale.ROOT, "phantom_%04d.tif", i));
        StreamingTiffWriter.writeStack(f, size, size, Collections.singletonList(p.pixels), null);
      }
    }
    return root;
  }

  /** A prototype network that adds up the wall time spent in the wrapped network's forwards (logits, activations,
   * features). */
  static final class TimedPrototypeClassifier implements PrototypeClassifier {
    private final PrototypeClassifier c;
    long nanos;

    TimedPrototypeClassifier(PrototypeClassifier c) {
      this.c = c;
    }

    @Override
    public PrototypeActivations activations(float[] x, int n) {
      long t0 = System.nanoTime();
      try {
        return c.activations(x, n);
      } finally {
        nanos += System.nanoTime() - t0;
      }
    }

    @Override
    public int height() {
      return c.height();
    }

    @Override
    public int width() {
      return c.width();
    }

    @Override
    public int channels() {
      return c.channels();
    }

    @Override
    public List<String> classNames() {
      return c.classNames();
    }

    @Override
    public float[][] logits(float[] x, int n) {
      long t0 = System.nanoTime();
      try {
        return c.logits(x, n);
      } finally {
        nanos += System.nanoTime() - t0;
      }
    }

    @Override
    public String method() {
      return c.method();
    }

    @Override
    public int prototypes() {
      return c.prototypes();
    }

    @Override
    public int mapHeight() {
      return c.mapHeight();
    }

    @Override
    public int mapWidth() {
      return c.mapWidth();
    }

    @Override
    public int featureDepth() {
      return c.featureDepth();
    }

    @Override
    public float[][] lastLayer() {
      return c.lastLayer();
    }

    @Override
    public float[][] prototypeVectors() {
      return c.prototypeVectors();
    }

    @Override
    public PrototypeInfo prototype(int p) {
      return c.prototype(p);
    }

    @Override
    public float[][] features(float[] x, int n) {
      long t0 = System.nanoTime();
      try {
        return c.features(x, n);
      } finally {
        nanos += System.nanoTime() - t0;
      }
    }
  }
}
