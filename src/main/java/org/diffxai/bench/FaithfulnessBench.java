package org.diffxai.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.FloatStack;
import org.diffxai.metrics.FaithfulnessMetrics;
import org.diffxai.metrics.Metric;
import org.diffxai.metrics.Nis;
import org.diffxai.metrics.PrototypePerturbation;
import org.diffxai.phantom.Contrast;
import org.diffxai.phantom.PhantomGenerator;

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

  /** Times every metric against its forwards on a prototype network (one-channel images). */
  static List<Measure> measure(PrototypeClassifier c, int repeats, double secondsPerRepeat,
      Consumer<String> progress) throws Exception {
    List<Measure> out = measure(c, repeats, secondsPerRepeat, progress, false);
    // The in-run cross-check: the same metrics once more with every network call timed, so the time spent outside
    // the network is measured within the same run (much less sensitive to other load on the machine).
    List<Measure> timed = measure(new ExplainBench.TimedPrototypeClassifier(c), 0, 0, progress, true);
    for (int i = 0; i < out.size(); i++) out.get(i).crossCheck = timed.get(i).crossCheck;
    return out;
  }

  private static List<Measure> measure(PrototypeClassifier c, int repeats, double secondsPerRepeat,
      Consumer<String> progress, boolean crossCheck) throws Exception {
    int h = c.height(), w = c.width();
    float[] image = new PhantomGenerator(w, h, Contrast.T1).generate(5, 0, true).pixels;
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
    int top = Math.min(10, c.prototypes());
    Explanation e = new PrototypeExplainer(c, "benchmark").explain(new FloatStack(w, h, 1, 1, 1,
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
    cases.add(new Timing.Case(pp.metric.key(), 0, () -> PrototypePerturbation.compute(c, image, 0, protos, boxes,
        s.baseline, s.batch, null)));
    cases.add(new Timing.Case(pp.metric.key() + ".bare", 0, () -> {
      c.activations(image, 1);
      c.activations(tops, top);
    }));
    Measure nis = new Measure(Metric.NIS, 1);
    out.add(nis);
    float[][] refs = c.prototypeVectors();
    cases.add(new Timing.Case(nis.metric.key(), 0, () -> Nis.perImage(Nis.pooledFeatures(c, image, 1, s.batch),
        refs)));
    cases.add(new Timing.Case(nis.metric.key() + ".bare", 0, () -> c.features(image, 1)));
    progress.accept("(f) warming up");
    for (Timing.Case cs : cases) cs.body.run();
    if (crossCheck) {
      ExplainBench.TimedPrototypeClassifier timed = (ExplainBench.TimedPrototypeClassifier) c;
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
}
