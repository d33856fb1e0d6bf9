package org.diffxai.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.ClassNames;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.InfoText;
import org.diffxai.core.Table;
import org.diffxai.guidance.GuidedSampler;
import org.diffxai.io.FloatStack;
import org.diffxai.model.LoadedModel;
import org.diffxai.run.ResultImage.Look;
import org.scijava.plugin.Parameter;

/**
 * Synthesize Explanation: a global explanation of a class or a prototype. Samples the denoiser twice with the same
 * seeds, once unguided and once guided by the classifier's gradient towards the target class (or one prototype's
 * score) on the predicted clean image ({@link GuidedSampler}, Dhariwal &amp; Nichol 2021 in x̂₀ form), and shows the
 * pairs side by side (slice 2i+1 unguided, 2i+2 guided) with a table of the target probability per sample and per
 * step. With an output folder: {@code explanation_samples.tif}, {@code explanation.csv},
 * {@code explanation_steps.csv} and {@code explanation.json}.
 */
public final class SynthesizeExplanationRun {
  public static final String COMMAND = "Synthesize Explanation";
  public static final String SAMPLES_FILE = "explanation_samples.tif";
  public static final String TABLE_FILE = "explanation.csv";
  public static final String STEPS_FILE = "explanation_steps.csv";
  public static final String PROVENANCE_FILE = "explanation.json";

  /** The keys of Synthesize Explanation. */
  public static class Request extends ModelKeys {
    @Parameter(style = "model:classifier", persist = false,
        description = "Classifier bundle folder or a bundled sample (sample-ppnet, ...); it must give input gradients"
            + " (TensorFlow or TorchScript)")
    public String model = "";

    @Parameter(style = "model:denoiser", persist = false,
        description = "Denoiser bundle folder, or 'sample' for the bundled sample model")
    public String denoiser = "sample";

    @Parameter(persist = false, description = "Class to maximise (name or index); with a prototype, the class whose"
        + " probability is reported")
    public String target = "0";

    @Parameter(min = "-1", persist = false, description = "Prototype whose score to maximise; -1 = maximise the"
        + " target class's log-probability")
    public int prototype = -1;

    @Parameter(min = "0", persist = false, description = "Guidance scale (strength of the classifier gradient)")
    public double scale = 10;

    @Parameter(min = "1", persist = false, description = "Number of image pairs (unguided, guided)")
    public int samples = 4;

    @Parameter(min = "1", persist = false, description = "Denoising steps (DDIM, eta 0)")
    public int steps = 50;

    @Parameter(persist = false, description = "Random seed; sample i uses the noise stream (seed, i) in both runs")
    public long seed = 0;

    @Parameter(min = "1", persist = false, description = "Samples per model call")
    public int batch = 8;

    @Parameter(style = "model:classifier", required = false, persist = false,
        description = GuidedModels.CHECK_DESCRIPTION)
    public String check = "";
  }

  /** What a run produced. */
  public static final class Result {
    public final List<GuidedSampler.Trace> unguided;
    public final List<GuidedSampler.Trace> guided;
    public final ResultImage pairs;
    public final Table table;
    public final Table steps;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(List<GuidedSampler.Trace> unguided, List<GuidedSampler.Trace> guided, ResultImage pairs, Table table,
        Table steps, Map<String, String> provenance, List<Path> files) {
      this.unguided = unguided;
      this.guided = guided;
      this.pairs = pairs;
      this.table = table;
      this.steps = steps;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().image(pairs).table("results", "Synthesized explanation", table)
          .table("steps", "Guidance steps", steps);
    }
  }

  private SynthesizeExplanationRun() {}

  /** Opens the denoiser, the classifier and the check model, runs, closes them. */
  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    return GuidedModels.open(r.model, r.denoiser, r, r.batch, env, (d, c) -> {
      try (LoadedModel<Classifier> check = GuidedModels.check(r.check, r, r.batch, env, d, c)) {
        return run(r, d, c, check, env);
      }
    });
  }

  /** Runs with opened models (the caller closes them), without a check model. */
  public static Result run(Request r, LoadedModel<Denoiser> d, LoadedModel<DifferentiableClassifier> c, Env env) {
    return run(r, d, c, null, env);
  }

  /** Runs with opened models (the caller closes them); {@code check} may be null. */
  public static Result run(Request r, LoadedModel<Denoiser> d, LoadedModel<DifferentiableClassifier> c,
      LoadedModel<Classifier> check, Env env) {
    RequestKeys.of(Request.class).validate(r);
    List<String> classes = c.classNames();
    int target = ClassNames.index(classes, r.target, c.name(), "target");
    Denoiser denoiser = d.get();
    int n = r.samples;
    int[] labels = CounterfactualRun.labels(d, classes.get(target), n);
    Kind kind = r.prototype >= 0 ? Kind.PROTOTYPE_SCORE : Kind.LOG_PROBABILITY;
    int index = r.prototype >= 0 ? r.prototype : target;
    try (OutputFolder out = OutputFolder.open(r, COMMAND, SAMPLES_FILE, TABLE_FILE, STEPS_FILE, PROVENANCE_FILE)) {
      long t0 = System.nanoTime();
      List<List<GuidedSampler.Trace>> runs = new java.util.ArrayList<>();
      for (double s : new double[] {0, r.scale}) {
        runs.add(new GuidedSampler(denoiser, DiffusionScheduler.create("ddim", d.scheduler(), 0), c.get(),
            d.intensity()).target(kind, index, target).scale(s).steps(r.steps).seed(r.seed).batchSize(r.batch)
            .labels(labels).synthesize(n, env.progress));
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      env.progress.checkCancelled();
      Map<String, String> prov = GuidedModels.provenance(COMMAND, r, d, c);
      prov.put("objective", kind == Kind.PROTOTYPE_SCORE ? "score of prototype " + r.prototype
          : "log p(" + classes.get(target) + " | x0_pred)");
      prov.put("method", "DDIM (eta 0); classifier guidance on x0_pred (docs/guidance.md); unguided and guided runs"
          + " share the noise GaussianNoise.forSample(seed, i)");
      prov.put("seconds", String.format(Locale.ROOT, "%.3f", seconds));
      prov.put("probability", GuidedModels.probabilityNote(c.get()));
      GuidedModels.checkProvenance(prov, check);
      String col = GuidedModels.probabilityColumn(c.get(), classes.get(target));
      String checkCol = check == null ? null : "check_" + GuidedModels.probabilityColumn(check.get(),
          classes.get(target));
      int w = denoiser.width(), h = denoiser.height(), ch = denoiser.channels();
      float[][] planes = new float[2 * n * ch][w * h];
      String[] names = new String[2 * n * ch];
      Table table = new Table();
      Table steps = new Table();
      for (int i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
          GuidedSampler.Trace t = runs.get(k).get(i);
          for (int cc = 0; cc < ch; cc++) {
            int plane = (2 * i + k) * ch + cc;
            for (int p = 0; p < w * h; p++) planes[plane][p] = t.image[p * ch + cc];
            names[plane] = (k == 0 ? "unguided " : "guided ") + (i + 1);
          }
          double pt = c.get().probabilities(t.image, 1)[0][target];
          table.incrementCounter();
          table.addValue("sample", i + 1);
          table.addValue("guided", k);
          table.addValue("scale", k == 0 ? 0 : r.scale);
          table.addValue(col, pt);
          table.addValue("objective_last_step", t.objective[t.objective.length - 1]);
          if (check != null) {
            double[] q = check.get().probabilities(t.image, 1)[0];
            table.addValue(checkCol, q[target]);
            table.addValue("check_is_target", GuidedSampler.argmax(q) == target ? 1 : 0);
          }
          if (k == 1) {
            for (int s = 0; s < t.stepsUsed(); s++) {
              steps.incrementCounter();
              steps.addValue("sample", i + 1);
              steps.addValue("step", s + 1);
              steps.addValue("t", t.timesteps[s]);
              steps.addValue("objective", t.objective[s]);
              steps.addValue(col, t.probability[s]);
            }
          }
        }
      }
      FloatStack stack = new FloatStack(w, h, ch, 2 * n, 1, planes, names);
      ResultImage pairs = ResultImage.of("explanation", "Synthesized explanation", stack,
          Map.of("Info", InfoText.of(prov)), Look.GREY);
      if (out.active()) {
        out.tiff(SAMPLES_FILE, pairs);
        out.csv(TABLE_FILE, table);
        out.csv(STEPS_FILE, steps);
        out.json(PROVENANCE_FILE, prov);
      }
      return new Result(runs.get(0), runs.get(1), pairs, table, steps, prov, out.commit());
    }
  }
}
