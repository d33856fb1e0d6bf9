package org.diffxai.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.diffxai.core.Classifier;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.FloatStack;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.metrics.FaithfulnessMetrics;
import org.diffxai.metrics.Metric;
import org.diffxai.metrics.Nis;
import org.diffxai.metrics.PrototypePerturbation;
import org.diffxai.phantom.Contrast;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.tf.proto.ProtoBundleWriter;
import org.diffxai.tf.proto.ProtoConfig;
import org.diffxai.tf.proto.ProtoTrainingOptions;
import org.diffxai.tf.proto.PrototypeTraining;

/**
 * Part (f) of the benchmark: each faithfulness metric on one image against the same number of batched classifier
 * forwards on the same loaded model, in interleaved repeats. The forwards are fed prebuilt batches (the image
 * repeated), so the ratio is the metric's own cost — building perturbed images, baselines, sorting, correlations —
 * on top of the classifier calls it cannot avoid.
 */
final class FaithfulnessBench {

  /** One metric and its reference. */
  static final class Measure {
    final Metric metric;
    final int forwards;
    Timing metricTime;
    Timing bareTime;
    /** One run of the metric with the classifier in a stopwatch: wall time ÷ time inside the classifier. */
    double crossCheck;

    Measure(Metric metric, int forwards) {
      this.metric = metric;
      this.forwards = forwards;
    }
  }

  private FaithfulnessBench() {}

  /**
   * A prototype network of the default architecture (PPNet, base 16, depth 32, 5 prototypes per class; quick: 32×32,
   * base 4, depth 8, 2 per class) trained for 2 epochs on 8 phantoms per class (2 held out for validation) into
   * {@code dir}, unless it exists: barely trained, but its graph, and therefore its timing, is that of a real model.
   */
  static Path prototypeBundle(Path dir, boolean quick, Consumer<String> progress) {
    if (Files.isDirectory(dir)) return dir;
    int size = quick ? 32 : 64;
    Path phantoms = dir.resolveSibling(dir.getFileName() + "-phantoms");
    PhantomGenerator g = new PhantomGenerator(size);
    for (boolean lesion : new boolean[] {false, true}) {
      for (int i = 0; i < 8; i++) {
        Phantom p = g.generate(3, i, lesion);
        Path f = AtomicFiles.ensureDirectory(phantoms.resolve(p.className())).resolve("p" + i + ".tif");
        StreamingTiffWriter.writeStack(f, size, size, Collections.singletonList(p.pixels), null);
      }
    }
    ProtoConfig net = new ProtoConfig().size(size, size);
    if (quick) net.baseChannels(4).featureDepth(8).prototypesPerClass(2);
    progress.accept("(f) training a " + size + "x" + size + " PPNet for 2 epochs on 16 phantoms");
    PrototypeTraining.run(phantoms, size, net, new ProtoTrainingOptions().epochs(2).warmupEpochs(1).pushEvery(1)
        .lastLayerEpochs(1).batch(8).seed(1), 0.25, dir, new ProtoBundleWriter.Metadata().name("bench-ppnet")
        .description("benchmark model, barely trained"), null);
    AtomicFiles.deleteRecursively(phantoms);
    return dir;
  }

  /** Times every metric the classifier supports against its forwards. */
  static List<Measure> measure(Classifier c, int repeats, double secondsPerRepeat, Consumer<String> progress)
      throws Exception {
    List<Measure> out = measure(c, repeats, secondsPerRepeat, progress, false);
    // The in-run cross-check: the same metrics once more with every classifier call timed, so the time spent
    // outside the classifier is measured within the same run (much less sensitive to other load on the machine).
    List<Measure> timed = measure(c instanceof PrototypeClassifier ? new TimedPrototypes((PrototypeClassifier) c)
        : new Timed(c), 0, 0, progress, true);
    for (int i = 0; i < out.size(); i++) out.get(i).crossCheck = timed.get(i).crossCheck;
    return out;
  }

  private static List<Measure> measure(Classifier c, int repeats, double secondsPerRepeat, Consumer<String> progress,
      boolean crossCheck) throws Exception {
    int h = c.height(), w = c.width(), ch = c.channels(), d = h * w * ch;
    float[] image = ch == 1 ? new PhantomGenerator(w, h, Contrast.T1).generate(5, 0, true).pixels
        : new GaussianNoise(5).fill(new float[d]);
    float[] map = new GaussianNoise(6).fill(new float[h * w]);
    FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings(); // the command's defaults
    FaithfulnessMetrics fm = new FaithfulnessMetrics(c, s, null);
    List<Measure> out = new ArrayList<>();
    List<Timing.Case> cases = new ArrayList<>();
    for (Metric m : Metric.values()) {
      if (!m.needsAttribution) continue;
      int forwards = fm.compute(m, image, map, 0, 1).forwards; // also the warm-up
      Measure me = new Measure(m, forwards);
      out.add(me);
      cases.add(new Timing.Case(m.key(), 0, () -> fm.compute(m, image, map, 0, 1)));
      float[] full = repeat(image, s.batch), last = repeat(image, (forwards - 1) % s.batch + 1);
      cases.add(new Timing.Case(m.key() + ".bare", 0, () -> {
        for (int start = 0; start < forwards; start += s.batch) {
          int n = Math.min(s.batch, forwards - start);
          c.logits(n == s.batch ? full : last, n);
        }
      }));
    }
    if (c instanceof PrototypeClassifier && ch == 1) {
      PrototypeClassifier pc = (PrototypeClassifier) c;
      int top = Math.min(10, pc.prototypes());
      Explanation e = new PrototypeExplainer(pc, "benchmark").explain(new FloatStack(w, h, 1, 1, 1,
          new float[][] {image}, null), top, 0, 1, "image", Progress.NONE).get(0);
      int[] protos = new int[top];
      int[][] boxes = new int[top][];
      for (int j = 0; j < top; j++) {
        protos[j] = e.top.get(j).prototype;
        boxes[j] = e.top.get(j).box;
      }
      Measure pp = new Measure(Metric.PROTOTYPE_PERTURBATION, top + 1);
      out.add(pp);
      float[] tops = repeat(image, top);
      cases.add(new Timing.Case(pp.metric.key(), 0, () -> PrototypePerturbation.compute(pc, image, 0, protos, boxes,
          s.baseline, s.batch, null)));
      cases.add(new Timing.Case(pp.metric.key() + ".bare", 0, () -> {
        pc.activations(image, 1);
        pc.activations(tops, top);
      }));
      Measure nis = new Measure(Metric.NIS, 1);
      out.add(nis);
      float[][] refs = pc.prototypeVectors();
      cases.add(new Timing.Case(nis.metric.key(), 0, () -> Nis.perImage(Nis.pooledFeatures(pc, image, 1, s.batch),
          refs)));
      cases.add(new Timing.Case(nis.metric.key() + ".bare", 0, () -> pc.features(image, 1)));
    }
    progress.accept("(f) warming up");
    for (Timing.Case cs : cases) cs.body.run();
    if (crossCheck) {
      Timed timed = (Timed) c;
      for (int i = 0; i < out.size(); i++) {
        timed.nanos = 0;
        double wall = Timing.once(cases.get(2 * i).body);
        out.get(i).crossCheck = wall / (timed.nanos / 1e9);
      }
      return out;
    }
    progress.accept(String.format(Locale.ROOT, "(f) timing %d interleaved repeats of %d cases, ~%.1f s each",
        repeats, cases.size(), secondsPerRepeat));
    Map<String, Timing> t = Timing.interleaved(repeats, secondsPerRepeat, 1000, cases);
    for (Measure me : out) {
      me.metricTime = t.get(me.metric.key());
      me.bareTime = t.get(me.metric.key() + ".bare");
    }
    return out;
  }

  private static float[] repeat(float[] image, int n) {
    float[] out = new float[n * image.length];
    for (int i = 0; i < n; i++) System.arraycopy(image, 0, out, i * image.length, image.length);
    return out;
  }

  /** A classifier that adds up the wall time spent in the wrapped classifier's calls. */
  static class Timed implements Classifier {
    final Classifier c;
    long nanos;

    Timed(Classifier c) {
      this.c = c;
    }

    long start() {
      return System.nanoTime();
    }

    void stop(long t0) {
      nanos += System.nanoTime() - t0;
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
      long t0 = start();
      try {
        return c.logits(x, n);
      } finally {
        stop(t0);
      }
    }
  }

  /** {@link Timed} for prototype networks: activations and features are timed too. */
  static final class TimedPrototypes extends Timed implements PrototypeClassifier {
    final PrototypeClassifier p;

    TimedPrototypes(PrototypeClassifier p) {
      super(p);
      this.p = p;
    }

    @Override
    public String method() {
      return p.method();
    }

    @Override
    public int prototypes() {
      return p.prototypes();
    }

    @Override
    public int mapHeight() {
      return p.mapHeight();
    }

    @Override
    public int mapWidth() {
      return p.mapWidth();
    }

    @Override
    public int featureDepth() {
      return p.featureDepth();
    }

    @Override
    public float[][] lastLayer() {
      return p.lastLayer();
    }

    @Override
    public float[][] prototypeVectors() {
      return p.prototypeVectors();
    }

    @Override
    public PrototypeInfo prototype(int i) {
      return p.prototype(i);
    }

    @Override
    public PrototypeActivations activations(float[] x, int n) {
      long t0 = start();
      try {
        return p.activations(x, n);
      } finally {
        stop(t0);
      }
    }

    @Override
    public float[][] features(float[] x, int n) {
      long t0 = start();
      try {
        return p.features(x, n);
      } finally {
        stop(t0);
      }
    }
  }
}
