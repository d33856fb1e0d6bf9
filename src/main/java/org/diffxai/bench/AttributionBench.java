package org.diffxai.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.diffxai.attribution.AttributionMethod;
import org.diffxai.attribution.AttributionSettings;
import org.diffxai.attribution.Attributions;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.Progress;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.model.TensorFlowRuntime;
import org.diffxai.phantom.PhantomGenerator;

/**
 * The cost rows of the attribution methods (issue 10), as a part of the benchmark (suggested letter h) or on its own:
 *
 * <ul>
 *   <li>Integrated Gradients with m = 32 steps on b images ÷ the b·m/32 batched forward+backward passes it needs,
 *       timed as bare {@code gradient} calls of 32 prebuilt images on the same loaded model (b = 1 and 8): what IG adds
 *       on top of the gradients it cannot avoid — the reference images, building the interpolants, accumulating, and
 *       f(x), f(x′) in one forward call;
 *   <li>Saliency and Gradient × Input ÷ one forward pass ({@code logits}) of the same images, for 1 and 32 images: the
 *       backward pass and TF Java's second session on top of DJL's forward.
 * </ul>
 *
 * Cases are timed in interleaved repeats ({@link Timing#interleaved}); ratios divide best by best, as the other parts.
 * A note adds the same ratios in this process's CPU time, which other processes on the machine disturb much less.
 *
 * <pre>
 * java -cp target/diffusion-xai.jar org.diffxai.bench.AttributionBench [--quick] [--repeats N] [--proto-model KEY]
 * </pre>
 */
final class AttributionBench {
  static final int STEPS = 32;
  static final int BATCH = 32;

  private AttributionBench() {}

  /** Standalone: the rows of this part only, as a Markdown table. */
  public static void main(String[] args) throws Exception {
    standalone(args, "AttributionBench [--quick] [--repeats N] [--proto-model KEY|DIR] [--work DIR]", (opt, rows, notes,
        progress) -> {
      Path work = opt.work != null ? Files.createDirectories(opt.work) : Files.createTempDirectory("diffxai-attr");
      run(opt, work, rows, notes, progress);
    });
  }

  /** One benchmark part that fills its rows. */
  interface Part {
    void run(Benchmark.Options opt, ExplainBench.Rows rows, List<String> notes, Consumer<String> progress)
        throws Exception;
  }

  /** Runs one part on its own (TensorFlow loaded first) and prints its rows as a Markdown table, then its notes. */
  static void standalone(String[] args, String usage, Part part) throws Exception {
    Benchmark.Options opt = Benchmark.parse(args);
    if (opt == null) {
      System.out.println("Usage: " + usage);
      return;
    }
    List<Benchmark.Row> rows = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    TensorFlowRuntime.ensureLoaded();
    part.run(opt, (id, measure, target) -> {
      Benchmark.Row r = new Benchmark.Row(id, measure, "not measured", target, "pending");
      rows.add(r);
      return r;
    }, notes, System.err::println);
    PrintStream out = System.out;
    out.println("| # | Measure | Value | Target | Result |");
    out.println("|---|---|---|---|---|");
    for (Benchmark.Row r : rows) {
      out.println("| " + r.id + " | " + r.measure + " | " + r.value + " | " + r.target + " | " + r.result + " |");
    }
    out.println();
    for (String n : notes) out.println("- " + n);
  }

  /** Adds and fills the rows h1–h6 (the benchmark's {@code row} factory and notes). */
  static void run(Benchmark.Options opt, Path work, ExplainBench.Rows rows, List<String> notes,
      Consumer<String> progress) throws Exception {
    Benchmark.Row ig1 = rows.row("h1", "Ratio: Integrated Gradients, 1 image × " + STEPS + " steps ÷ the 1 batched"
        + " forward+backward pass of " + BATCH + " images it needs", "≤ 1.2");
    Benchmark.Row ig8 = rows.row("h2", "Ratio: Integrated Gradients, 8 images × " + STEPS + " steps ÷ the 8 batched"
        + " forward+backward passes of " + BATCH + " images it needs", "≤ 1.2");
    Benchmark.Row s1 = rows.row("h3", "Ratio: Saliency, 1 image ÷ one forward pass of 1 image", "≤ 3");
    Benchmark.Row g1 = rows.row("h4", "Ratio: Gradient × Input, 1 image ÷ one forward pass of 1 image", "≤ 3");
    Benchmark.Row s32 = rows.row("h5", "Ratio: Saliency, " + BATCH + " images ÷ one forward pass of " + BATCH
        + " images", "≤ 3");
    Benchmark.Row g32 = rows.row("h6", "Ratio: Gradient × Input, " + BATCH + " images ÷ one forward pass of " + BATCH
        + " images", "≤ 3");
    String key = ExplainBench.prototypeModel(opt, work, "h", notes, progress);
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open(key), "cpu")) {
      int h = c.height(), w = c.width(), px = h * w;
      PhantomGenerator gen = new PhantomGenerator(w, h, org.diffxai.phantom.Contrast.T1);
      float[] x32 = new float[BATCH * px];
      for (int i = 0; i < BATCH; i++) System.arraycopy(gen.generate(5, i, i % 2 == 1).pixels, 0, x32, i * px, px);
      float[] x1 = java.util.Arrays.copyOf(x32, px), x8 = java.util.Arrays.copyOf(x32, 8 * px);
      Objective o1 = Objective.of(Kind.LOGIT, 1, 1), o8 = Objective.of(Kind.LOGIT, 1, 8);
      Objective o32 = Objective.of(Kind.LOGIT, 1, BATCH);
      AttributionSettings s = new AttributionSettings();
      s.steps = STEPS;
      notes.add(String.format(Locale.ROOT, "(h) %s, input %dx%d; objective: logit of class 1; Integrated Gradients"
          + " with the %s reference and the %s rule; gradients through TF Java (a second session on the same"
          + " SavedModel), forward passes through DJL, batch %d.", c.method(), w, h, s.baseline.key(), s.rule.key(),
          BATCH));
      List<Timing.Case> cases = new ArrayList<>();
      cases.add(new Timing.Case("ig1", 0, () -> Attributions.compute(AttributionMethod.INTEGRATED_GRADIENTS, c, key,
          x1, 1, o1, s, Progress.NONE)));
      cases.add(new Timing.Case("ig8", 0, () -> Attributions.compute(AttributionMethod.INTEGRATED_GRADIENTS, c, key,
          x8, 8, o8, s, Progress.NONE)));
      cases.add(new Timing.Case("pass", 0, () -> c.gradient(x32, BATCH, o32)));
      cases.add(new Timing.Case("pass8", 0, () -> {
        for (int k = 0; k < 8; k++) c.gradient(x32, BATCH, o32);
      }));
      cases.add(new Timing.Case("sal1", 0, () -> Attributions.compute(AttributionMethod.SALIENCY, c, key, x1, 1, o1,
          s, Progress.NONE)));
      cases.add(new Timing.Case("gxi1", 0, () -> Attributions.compute(AttributionMethod.GRADIENT_X_INPUT, c, key, x1,
          1, o1, s, Progress.NONE)));
      cases.add(new Timing.Case("fwd1", 0, () -> c.logits(x1, 1)));
      cases.add(new Timing.Case("sal32", 0, () -> Attributions.compute(AttributionMethod.SALIENCY, c, key, x32, BATCH,
          o32, s, Progress.NONE)));
      cases.add(new Timing.Case("gxi32", 0, () -> Attributions.compute(AttributionMethod.GRADIENT_X_INPUT, c, key,
          x32, BATCH, o32, s, Progress.NONE)));
      cases.add(new Timing.Case("fwd32", 0, () -> c.logits(x32, BATCH)));
      progress.accept("(h) warming up (the first gradient call builds the gradient graph)");
      for (int k = 0; k < 2; k++) for (Timing.Case cs : cases) cs.body.run();
      progress.accept("(h) timing " + opt.repeats() + " interleaved repeats of ~" + opt.secondsPerRepeat() + " s each");
      MachineLoad load = new MachineLoad();
      Map<String, Timing> t = Timing.interleaved(opt.repeats(), opt.secondsPerRepeat(), 1000, cases);
      double other = load.otherFraction();
      Map<String, Double> cpu = cpuSeconds(cases, opt.repeats());
      ratio(ig1, t.get("ig1"), t.get("pass"), 1.2);
      ratio(ig8, t.get("ig8"), t.get("pass8"), 1.2);
      ratio(s1, t.get("sal1"), t.get("fwd1"), 3);
      ratio(g1, t.get("gxi1"), t.get("fwd1"), 3);
      ratio(s32, t.get("sal32"), t.get("fwd32"), 3);
      ratio(g32, t.get("gxi32"), t.get("fwd32"), 3);
      notes.add(String.format(Locale.ROOT, "(h) ratios of the medians of %d repeats: h1 %.3f, h2 %.3f, h3 %.2f, h4"
          + " %.2f, h5 %.2f, h6 %.2f.", opt.repeats(), med(t, "ig1", "pass"), med(t, "ig8", "pass8"),
          med(t, "sal1", "fwd1"), med(t, "gxi1", "fwd1"), med(t, "sal32", "fwd32"), med(t, "gxi32", "fwd32")));
      notes.add(String.format(Locale.ROOT, "(h) other processes used %.0f %% of the machine's CPU time during the"
          + " timing. In-run cross-check, least sensitive to that load (not the defined measure): ratios of this"
          + " process's CPU time per call, %d interleaved repeats: h1 %.3f, h2 %.3f, h3 %.2f, h4 %.2f, h5 %.2f, h6"
          + " %.2f.", 100 * other, opt.repeats(), cpu.get("ig1") / cpu.get("pass"), cpu.get("ig8") / cpu.get("pass8"),
          cpu.get("sal1") / cpu.get("fwd1"), cpu.get("gxi1") / cpu.get("fwd1"), cpu.get("sal32") / cpu.get("fwd32"),
          cpu.get("gxi32") / cpu.get("fwd32")));
    }
  }

  /**
   * This process's CPU seconds per call of each case (all its threads: TensorFlow's and the JVM's), the smallest of
   * {@code repeats} interleaved repeats of the case's calls per repeat.
   */
  static Map<String, Double> cpuSeconds(List<Timing.Case> cases, int repeats) throws Exception {
    Map<String, Double> out = new java.util.LinkedHashMap<>();
    for (int r = 0; r < repeats; r++) {
      for (int j = 0; j < cases.size(); j++) {
        Timing.Case c = cases.get((j + r) % cases.size());
        long c0 = Timing.processCpuNanos();
        for (int k = 0; k < c.calls; k++) c.body.run();
        double per = (Timing.processCpuNanos() - c0) / 1e9 / c.calls;
        out.merge(c.name, per, Math::min);
      }
    }
    return out;
  }

  private static void ratio(Benchmark.Row r, Timing a, Timing b, double target) {
    double ta = a.best(), tb = b.best();
    r.value = String.format(Locale.ROOT, "%.3f (%.1f ms vs %.1f ms)", ta / tb, ta * 1e3, tb * 1e3);
    r.result = ta / tb <= target ? "pass" : "fail";
  }

  private static double med(Map<String, Timing> t, String a, String b) {
    return t.get(a).median() / t.get(b).median();
  }
}
