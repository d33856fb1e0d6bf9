package org.diffxai.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.DiffusionSampler;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.Progress;
import org.diffxai.guidance.GuidedSampler;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.phantom.PhantomGenerator;

/**
 * Cost of classifier guidance (issue 11 targets), with the bundled sample denoiser and sample-ppnet on the CPU, each
 * ratio from one interleaved measurement ({@link Timing#interleaved}, best repeat):
 *
 * <ul>
 *   <li>g1: guided sampling (Synthesize's loop with {@link GuidedSampler}'s guide, scale 10, target lesion) ÷ the same
 *       loop unguided, same samples, steps, batch and seed; target ≤ 3.
 *   <li>g2: a counterfactual (depth 0.3, the guided loop from x_τ, run to t = 0: no early stop) ÷ the unguided DDIM
 *       denoising of the same images from the same depth (img2img, the same steps); target ≤ 3.
 *   <li>g3: the same counterfactual stopping at the flip (what the command runs) ÷ the same unguided denoising.
 *   <li>g7: that counterfactual plus its unguided reconstruction at the same stop steps ({@code reference=unguided})
 *       ÷ the counterfactual alone (the reference repeats the denoiser passes without the classifier: about 2).
 *   <li>g4–g6: one batch's denoiser pass, classifier forward+backward pass and classifier forward pass, in ms, to
 *       show where the ratios come from.
 * </ul>
 *
 * Usage: {@code GuidanceBench [--quick] [--repeats N] [--steps S] [--batch B]}. Hook into {@link Benchmark} as a part of
 * its own via {@link #run}.
 */
public final class GuidanceBench {
  static final double DEPTH = 0.3;
  static final double SCALE = 10;

  private GuidanceBench() {}

  public static void main(String[] args) throws Exception {
    AttributionBench.standalone(args, "GuidanceBench [--quick] [--repeats N] [--steps S] [--batch B]",
        GuidanceBench::run);
  }

  /** Adds and fills the rows g1–g7. */
  static void run(Benchmark.Options opt, ExplainBench.Rows rows, List<String> notes, Consumer<String> progress)
      throws Exception {
    int steps = opt.steps();
    int batch = opt.batch();
    int n = batch;
    int repeats = opt.repeats();
    Benchmark.Row g1 = rows.row("g1", "Ratio: guided sampling (scale " + fmt(SCALE) + ") ÷ unguided, " + n
        + " samples, DDIM " + steps + " steps, batch " + batch, "≤ 3");
    Benchmark.Row g2 = rows.row("g2", "Ratio: counterfactual (depth " + DEPTH + ", to t = 0) ÷ unguided denoising"
        + " from the same depth, " + n + " images, batch " + batch, "≤ 3");
    Benchmark.Row g3 = rows.row("g3", "Ratio: counterfactual stopping at the flip ÷ the same unguided denoising", "—");
    Benchmark.Row g4 = rows.row("g4", "ms per batch of " + batch + ": denoiser pass", "—");
    Benchmark.Row g5 = rows.row("g5", "ms per batch of " + batch + ": classifier forward+backward (gradient)", "—");
    Benchmark.Row g6 = rows.row("g6", "ms per batch of " + batch + ": classifier forward (logits)", "—");
    Benchmark.Row g7 = rows.row("g7", "Ratio: counterfactual stopping at the flip with its unguided reference"
        + " (reference=unguided) ÷ without", "—");
    DeviceChoice cpu = DeviceChoice.parse("cpu");
    try (LoadedModel<Denoiser> d = Models.denoiser("sample", cpu, null, false, Progress.NONE);
        LoadedModel<DifferentiableClassifier> c = Models.differentiableClassifier("sample-ppnet", cpu, batch, false,
            Progress.NONE)) {
      Denoiser den = d.get();
      DifferentiableClassifier cls = c.get();
      int lesion = c.classNames().indexOf("lesion");
      int healthy = c.classNames().indexOf("healthy");
      int[] lesionLabels = labels(d, "lesion", n);
      int[] healthyLabels = labels(d, "healthy", n);
      int dim = den.height() * den.width() * den.channels();
      PhantomGenerator gen = new PhantomGenerator(den.width());
      float[][] lesions = new float[n][];
      for (int i = 0; i < n; i++) lesions[i] = gen.generate(500, i, true).pixels;
      float[] xb = new float[n * dim];
      for (int i = 0; i < n; i++) System.arraycopy(lesions[i], 0, xb, i * dim, dim);
      float[] tb = new float[n];
      Arrays.fill(tb, 500);
      float[] xm = d.intensity().toModel(xb.clone());

      List<Timing.Case> cases = new ArrayList<>();
      cases.add(new Timing.Case("unguided", 1, () -> new DiffusionSampler(den, ddim(d)).steps(steps).samples(n)
          .seed(1).batchSize(batch).labels(lesionLabels).run(null, Progress.NONE)));
      cases.add(new Timing.Case("guided", 1, () -> {
        DiffusionScheduler s = ddim(d);
        GuidedSampler g = new GuidedSampler(den, s, cls, d.intensity()).target(Kind.LOG_PROBABILITY, lesion, lesion)
            .scale(SCALE);
        new DiffusionSampler(den, s).steps(steps).samples(n).seed(1).batchSize(batch).labels(lesionLabels)
            .guide(g.recorder(n, false)).run(null, Progress.NONE);
      }));
      cases.add(new Timing.Case("img2img", 1, () -> img2img(d, cls, lesions, healthyLabels, steps, batch)));
      cases.add(new Timing.Case("counterfactual", 1, () -> counterfactual(d, cls, healthy, lesions, healthyLabels,
          steps, batch, false, false)));
      cases.add(new Timing.Case("counterfactual_flip", 1, () -> counterfactual(d, cls, healthy, lesions,
          healthyLabels, steps, batch, true, false)));
      cases.add(new Timing.Case("counterfactual_reference", 1, () -> counterfactual(d, cls, healthy, lesions,
          healthyLabels, steps, batch, true, true)));
      cases.add(new Timing.Case("denoiser", 0, () -> den.predict(xm, tb, lesionLabels, null, n)));
      cases.add(new Timing.Case("gradient", 0, () -> cls.gradient(xb, n, Objective.of(Kind.LOG_PROBABILITY, lesion,
          n))));
      cases.add(new Timing.Case("logits", 0, () -> cls.logits(xb, n)));
      progress.accept("[guidance bench] warm-up");
      for (Timing.Case k : cases) k.body.run();
      progress.accept("[guidance bench] timing " + repeats + " interleaved repeats");
      Map<String, Timing> t = Timing.interleaved(repeats, opt.secondsPerRepeat(), 50, cases);
      double un = t.get("unguided").best(), gu = t.get("guided").best();
      double im = t.get("img2img").best(), cf = t.get("counterfactual").best();
      double cff = t.get("counterfactual_flip").best();
      set(g1, gu / un, 3, String.format(Locale.ROOT, "%.2f s ÷ %.2f s", gu, un));
      set(g2, cf / im, 3, String.format(Locale.ROOT, "%.2f s ÷ %.2f s", cf, im));
      g3.value = String.format(Locale.ROOT, "%.2f (%.2f s ÷ %.2f s)", cff / im, cff, im);
      g3.result = "info";
      double cfr = t.get("counterfactual_reference").best();
      g7.value = String.format(Locale.ROOT, "%.2f (%.2f s ÷ %.2f s)", cfr / cff, cfr, cff);
      g7.result = "info";
      for (Object[] o : new Object[][] {{g4, "denoiser"}, {g5, "gradient"}, {g6, "logits"}}) {
        Benchmark.Row r = (Benchmark.Row) o[0];
        r.value = String.format(Locale.ROOT, "%.1f", 1000 * t.get((String) o[1]).best());
        r.result = "info";
      }
      notes.add("Guidance bench: sample denoiser and sample-ppnet on the CPU, " + repeats + " interleaved repeats,"
          + " best repeat; counterfactual inputs: " + n + " lesion phantoms (PhantomGenerator seed 500) towards"
          + " healthy, closeness 0.05, scale 1; machine load shared, ratios from one run.");
    }
  }

  private static DiffusionScheduler ddim(LoadedModel<Denoiser> d) {
    return DiffusionScheduler.create("ddim", d.scheduler(), 0);
  }

  private static int[] labels(LoadedModel<Denoiser> d, String name, int n) {
    if (!d.get().classConditional()) return null;
    int[] l = new int[n];
    Arrays.fill(l, d.classNames().indexOf(name));
    return l;
  }

  private static GuidedSampler counterfactuals(LoadedModel<Denoiser> d, DifferentiableClassifier c, int target,
      int[] labels, int steps, int batch, boolean stop) {
    return new GuidedSampler(d.get(), ddim(d), c, d.intensity()).target(Kind.LOG_PROBABILITY, target, target)
        .scale(1).closeness(0.05).steps(steps).seed(1).batchSize(batch).labels(labels).stopOnFlip(stop);
  }

  /**
   * The counterfactuals stopping at the flip and, with {@code reference}, their unguided reconstructions at the same
   * steps (what {@code reference=unguided} adds).
   */
  private static void counterfactual(LoadedModel<Denoiser> d, DifferentiableClassifier c, int target, float[][] in,
      int[] labels, int steps, int batch, boolean stop, boolean reference) {
    GuidedSampler g = counterfactuals(d, c, target, labels, steps, batch, stop);
    List<GuidedSampler.Trace> t = g.counterfactual(in, DEPTH, Progress.NONE);
    if (!reference) return;
    int[] stops = new int[in.length];
    for (int i = 0; i < stops.length; i++) stops[i] = t.get(i).flipStep;
    g.reconstruction(in, DEPTH, indices(in.length), stops, Progress.NONE);
  }

  /**
   * The reference of g2: the unguided DDIM denoising of the inputs from depth τ with the counterfactual's noise
   * streams, steps and labels, to t = 0 ({@link GuidedSampler#reconstruction} with no stop).
   */
  static float[][] img2img(LoadedModel<Denoiser> d, DifferentiableClassifier c, float[][] in, int[] labels, int steps,
      int batch) {
    int[] never = new int[in.length];
    Arrays.fill(never, -1);
    return counterfactuals(d, c, 0, labels, steps, batch, false).reconstruction(in, DEPTH, indices(in.length), never,
        Progress.NONE);
  }

  private static int[] indices(int n) {
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    return idx;
  }

  private static void set(Benchmark.Row r, double ratio, double target, String detail) {
    r.value = String.format(Locale.ROOT, "%.2f (%s)", ratio, detail);
    r.result = ratio <= target ? "met" : "missed";
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
