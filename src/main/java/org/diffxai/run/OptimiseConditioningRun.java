package org.diffxai.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.Chart;
import org.diffxai.core.ClassNames;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.EmbeddingGenerator;
import org.diffxai.core.InfoText;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.guidance.ConditioningOptimizer;
import org.diffxai.io.FloatStack;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.run.ResultImage.Look;
import org.diffxai.tf.RebuiltDenoiser;
import org.scijava.plugin.Parameter;

/**
 * Optimise Conditioning: the DiffExplainer analogue without text (Pennisi et al. 2024). The denoiser's learned class
 * embedding is moved by gradient ascent on the classifier's log-probability of the target class of images generated
 * through a few deterministic DDIM steps, with λ·‖e − e₀‖² keeping it near the learned embedding
 * ({@link ConditioningOptimizer}); the denoiser is rebuilt from its bundle for the gradients ({@link RebuiltDenoiser}).
 * Shows the images of the learned and of the optimised embedding (the iteration with the largest objective) side by
 * side (slice 2i+1 learned, 2i+2 optimised, the same initial noise), the objective per iteration as a plot and a table, and the distance moved (absolute and
 * relative to the distance between the learned class embeddings). With an output folder:
 * {@code conditioning_samples.tif}, {@code conditioning.csv} (per iteration), {@code conditioning_samples.csv} (per
 * image), {@code conditioning_embeddings.csv}, {@code conditioning_objective.png} and {@code conditioning.json}.
 */
public final class OptimiseConditioningRun {
  public static final String COMMAND = "Optimise Conditioning";
  public static final String SAMPLES_FILE = "conditioning_samples.tif";
  public static final String TABLE_FILE = "conditioning.csv";
  public static final String PER_IMAGE_FILE = "conditioning_samples.csv";
  public static final String EMBEDDINGS_FILE = "conditioning_embeddings.csv";
  public static final String PLOT_FILE = "conditioning_objective.png";
  public static final String PROVENANCE_FILE = "conditioning.json";

  /** The keys of Optimise Conditioning. */
  public static class Request extends ModelKeys {
    @Parameter(style = "model:classifier", persist = false,
        description = "Classifier bundle folder or a bundled sample (sample-ppnet, ...); it must give input gradients"
            + " (TensorFlow or TorchScript)")
    public String model = "";

    @Parameter(style = "model:denoiser", persist = false,
        description = "Denoiser bundle written by Train Denoiser, or 'sample' (its network is rebuilt for gradients)")
    public String denoiser = "sample";

    @Parameter(persist = false, description = "Classifier class whose log-probability to maximise (name or index)")
    public String target = "0";

    @Parameter(persist = false, description = "Denoiser class whose learned embedding to start from (name or index);"
        + " empty = the denoiser class named like the target")
    public String label = "";

    @Parameter(min = "0", persist = false, description = "Weight of the closeness term lambda*||e - e0||^2")
    public double lambda = 0.01;

    @Parameter(min = "0", persist = false, description = "Adam step size (per embedding component and iteration)")
    public double learning_rate = 0.05;

    @Parameter(min = "1", persist = false, description = "Gradient-ascent iterations")
    public int iterations = 10;

    @Parameter(min = "1", persist = false, description = "Deterministic DDIM steps the gradient goes through")
    public int steps = 10;

    @Parameter(min = "1", persist = false, description = "Initial noises the objective averages over (one model call"
        + " holds them all)")
    public int samples = 2;

    @Parameter(persist = false, description = "Random seed; image i starts from the noise stream (seed, i), as"
        + " Synthesize's sample i")
    public long seed = 0;
  }

  /** What a run produced. */
  public static final class Result {
    public final ConditioningOptimizer.Result optimisation;
    public final ResultImage pairs;
    public final Table table;
    public final Table perImage;
    public final Table embeddings;
    public final Chart objective;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(ConditioningOptimizer.Result optimisation, ResultImage pairs, Table table, Table perImage, Table embeddings,
        Chart objective, Map<String, String> provenance, List<Path> files) {
      this.optimisation = optimisation;
      this.pairs = pairs;
      this.table = table;
      this.perImage = perImage;
      this.embeddings = embeddings;
      this.objective = objective;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().image(pairs).table("results", "Optimised conditioning", table)
          .table("per_image", "Optimised conditioning per image", perImage).chart("objective", objective);
    }
  }

  private OptimiseConditioningRun() {}

  /** Opens the classifier and the denoiser bundle, runs, closes them. */
  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    DenoiserBundle b = Models.denoiserBundle(r.denoiser);
    try (LoadedModel<DifferentiableClassifier> c = GuidedModels.classifier(r.model, r, r.samples, env)) {
      return run(r, b, c, env);
    }
  }

  /** Runs with an opened classifier (the caller closes it); the denoiser is rebuilt from {@code b}. */
  public static Result run(Request r, DenoiserBundle b, LoadedModel<DifferentiableClassifier> c, Env env) {
    RequestKeys.of(Request.class).validate(r);
    List<String> classes = c.classNames();
    int target = ClassNames.index(classes, r.target, c.name(), "target");
    int label;
    if (r.label == null || r.label.trim().isEmpty()) {
      label = b.classNames().indexOf(classes.get(target));
      if (label < 0) {
        throw new UserException("The denoiser " + b.name() + " has the classes " + b.classNames() + " but the target"
            + " class is " + classes.get(target) + ". Give label=<denoiser class> to start from, or use a denoiser"
            + " trained on the classifier's classes.");
      }
    } else {
      label = ClassNames.index(b.classNames(), r.label, b.name(), "label");
    }
    try (OutputFolder out = OutputFolder.open(r, COMMAND, SAMPLES_FILE, TABLE_FILE, PER_IMAGE_FILE, EMBEDDINGS_FILE,
        PLOT_FILE, PROVENANCE_FILE)) {
      env.progress.report("Rebuilding denoiser " + b.name() + " for gradients...", Double.NaN);
      ConditioningOptimizer.Result res;
      int[] timesteps;
      try (EmbeddingGenerator g = RebuiltDenoiser.open(b, r.steps, r.trust)) {
        timesteps = g.timesteps();
        res = new ConditioningOptimizer(g, c.get(), b.intensity()).target(target).label(label).lambda(r.lambda)
            .learningRate(r.learning_rate).iterations(r.iterations).samples(r.samples).seed(r.seed)
            .run(env.progress);
      }
      env.progress.checkCancelled();
      String tName = classes.get(target);
      Map<String, String> prov = Provenance.of(COMMAND, r);
      prov.putAll(c.provenance());
      b.provenance().forEach((k, v) -> prov.put("denoiser." + k, v));
      prov.put("objective", "mean_i log p(" + tName + " | x0_i(e)) - lambda * ||e - e0||^2");
      prov.put("method", "Adam ascent on the denoiser's class embedding e (start and anchor e0 = learned embedding of"
          + " denoiser class " + b.classNames().get(label) + "), x0 from " + r.steps + " deterministic DDIM steps (eta 0)"
          + " of the rebuilt network; docs/optimised-conditioning.md");
      prov.put("timesteps", java.util.Arrays.toString(timesteps));
      prov.put("class_embedding_distance", fmt(res.classDistance));
      prov.put("best_iteration", Integer.toString(res.best));
      prov.put("distance_moved", fmt(res.bestStep().distance));
      prov.put("relative_distance", fmt(res.relativeDistance()));
      prov.put("p_" + tName + "_learned", fmt(res.first().probability));
      prov.put("p_" + tName + "_optimised", fmt(res.bestStep().probability));

      Table table = new Table();
      double[] xs = new double[res.steps.size()];
      double[] ys = new double[xs.length];
      for (ConditioningOptimizer.Step s : res.steps) {
        table.incrementCounter();
        table.addValue("iteration", s.iteration);
        table.addValue("objective", s.objective);
        table.addValue("log_p_" + tName, s.logProbability);
        table.addValue("p_" + tName, s.probability);
        table.addValue("penalty", s.penalty);
        table.addValue("distance", s.distance);
        table.addValue("relative_distance", s.distance / res.classDistance);
        table.addValue("seconds", s.seconds);
        xs[s.iteration] = s.iteration;
        ys[s.iteration] = s.objective;
      }
      Chart chart = new Chart("Optimised conditioning: objective", "iteration", "objective")
          .add("mean log p(" + tName + ") - lambda*||e-e0||^2", xs, ys, Chart.Style.CONNECTED_CIRCLES,
              Chart.PALETTE[0]);
      int n = r.samples;
      Table perImage = new Table();
      for (int i = 0; i < n; i++) {
        perImage.incrementCounter();
        perImage.addValue("sample", i + 1);
        perImage.addValue("p_" + tName + "_learned", res.firstProbability[i]);
        perImage.addValue("p_" + tName + "_optimised", res.optimisedProbability[i]);
      }
      Table emb = new Table();
      for (int j = 0; j < res.learned.length; j++) {
        emb.incrementCounter();
        emb.addValue("component", j);
        emb.addValue("learned", res.learned[j]);
        emb.addValue("optimised", res.optimised[j]);
      }
      ResultImage pairs = ResultImage.of("conditioning", "Optimised conditioning", pairs(res, b, n),
          Map.of("Info", InfoText.of(prov)), Look.GREY);
      if (out.active()) {
        out.tiff(SAMPLES_FILE, pairs);
        out.csv(TABLE_FILE, table);
        out.csv(PER_IMAGE_FILE, perImage);
        out.csv(EMBEDDINGS_FILE, emb);
        out.png(PLOT_FILE, chart);
        out.json(PROVENANCE_FILE, prov);
      }
      return new Result(res, pairs, table, perImage, emb, chart, prov, out.commit());
    }
  }

  /** Slice 2i+1: image i of the learned embedding; 2i+2: of the optimised one. */
  private static FloatStack pairs(ConditioningOptimizer.Result res, DenoiserBundle b, int n) {
    int w = b.width(), h = b.height(), ch = b.channels(), d = w * h * ch;
    float[][] planes = new float[2 * n * ch][w * h];
    String[] names = new String[2 * n * ch];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < 2; k++) {
        float[] img = k == 0 ? res.firstImages : res.optimisedImages;
        for (int cc = 0; cc < ch; cc++) {
          int plane = (2 * i + k) * ch + cc;
          for (int p = 0; p < w * h; p++) planes[plane][p] = img[i * d + p * ch + cc];
          names[plane] = (k == 0 ? "learned " : "optimised ") + (i + 1);
        }
      }
    }
    return new FloatStack(w, h, ch, 2 * n, 1, planes, names);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }
}
