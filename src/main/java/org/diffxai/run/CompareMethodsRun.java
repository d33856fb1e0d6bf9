package org.diffxai.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.Chart;
import org.diffxai.core.ClassNames;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.core.Randomization;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.guidance.GuidedSampler;
import org.diffxai.io.FloatStack;
import org.diffxai.io.Fit;
import org.diffxai.io.ImageInput;
import org.diffxai.io.InputImages;
import org.diffxai.metrics.Bootstrap;
import org.diffxai.metrics.FaithfulnessMetrics;
import org.diffxai.metrics.FaithfulnessScoring;
import org.diffxai.metrics.Localisation;
import org.diffxai.metrics.Metric;
import org.diffxai.metrics.MetricResult;
import org.diffxai.metrics.ModelRandomization;
import org.diffxai.metrics.PrototypeAttribution;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.tf.proto.RandomizedPrototypeNetwork;
import org.scijava.plugin.Parameter;

/**
 * Compare Explanation Methods: several prototype networks (PPNet, EPPNet, ProtoPool) explain the same images, and the
 * faithfulness metrics score each network's own explanation ({@link FaithfulnessScoring}), with two controls — a
 * random attribution map scored on the same network, and the model-randomisation check of Adebayo et al. 2018
 * ({@link ModelRandomization}: how similar the explanation of a re-initialised copy of the network is to the real
 * one). Every (model, method, metric) becomes one row: the mean over the images with its percentile-bootstrap 95 %
 * interval and n; plus a bar plot per metric and, with an output folder, {@code compare.csv},
 * {@code compare_images.csv} (every image's value), {@code compare.json} and {@code compare_<metric>.png}.
 */
public final class CompareMethodsRun {
  public static final String COMMAND = "Compare Explanation Methods";
  public static final String TABLE_FILE = "compare.csv";
  public static final String IMAGES_FILE = "compare_images.csv";
  public static final String VERDICTS_FILE = "compare_verdicts.csv";
  /**
   * Model randomisation passes when the whole 95 % interval of the mean Spearman correlation between the explanation of
   * the trained and of the re-initialised network lies within ±this bound (Adebayo et al. 2018 judge the similarity by
   * eye; 0.2 is the bound the issue tracker set, "weak" in the usual reading of rank correlations).
   */
  public static final double RANDOMIZATION_BOUND = 0.2;
  public static final String PROVENANCE_FILE = "compare.json";
  /** The method name of the random-attribution control. */
  public static final String RANDOM = "random";
  /** Prefix of the method names of the model-randomisation control, followed by the stage key. */
  public static final String RANDOMIZED = "randomized_";
  /** The {@code methods} entry of each model's own prototype map. */
  public static final String OWN = "own";
  /** The {@code methods} entry and method name of the counterfactual difference map. */
  public static final String COUNTERFACTUAL = "counterfactual";
  /** Suffix of the randomisation rows of the counterfactual method (after the stage key). */
  static final String COUNTERFACTUAL_SUFFIX = " (counterfactual)";

  /** The keys of Compare Explanation Methods. */
  public static class Request extends MetricKeys {
    @Parameter(style = "image,directory", required = false, persist = false,
        description = "The images: a folder of images"
        + " (brought to the models' size by fit), an open stack or an image file; or leave empty and set denoiser")
    public String images = "";

    @Parameter(style = "model:denoiser", required = false, persist = false,
        description = "Denoiser that synthesizes the images instead: a bundle folder or 'sample'")
    public String denoiser = "";

    @Parameter(min = "1", persist = false, description = "Number of images to synthesize (with denoiser)")
    public int samples = 16;

    @Parameter(min = "1", persist = false, description = "DDIM steps (with denoiser)")
    public int steps = 50;

    @Parameter(persist = false, description = "Prototype bundles to compare, comma-separated (folders or sample-<x>)")
    public String models = "sample-ppnet,sample-eppnet,sample-protopool";

    @Parameter(min = "1", persist = false, description = "Bootstrap resamples of each 95% interval")
    public int bootstrap = 2000;

    @Parameter(choices = {"both", "top", "full", "none"}, persist = false, description = "Model-randomisation"
        + " control: re-initialise the head (top), every layer (full), both or none")
    public String randomization = "both";

    @Parameter(choices = {"pad", "crop", "stretch"}, persist = false, description = Fit.KEY_DESCRIPTION)
    public String fit = Fit.KEY_DEFAULT;

    @Parameter(required = false, persist = false, description = ImageKeys.MASKS_DESCRIPTION)
    public String masks = "";

    @Parameter(persist = false, description = "Explanations scored per model, comma-separated: own (the prototype map"
        + " of the map key), counterfactual (|counterfactual - reference| towards the other class, docs/guidance.md)")
    public String methods = OWN;

    @Parameter(style = "model:denoiser", persist = false,
        description = "Denoiser of the counterfactual method: a bundle folder or 'sample'")
    public String counterfactual_denoiser = "sample";

    @Parameter(min = "0", max = "1", persist = false,
        description = "Noise depth of the counterfactual method (fraction of the schedule)")
    public double counterfactual_depth = 0.3;

    @Parameter(min = "1", persist = false, description = "Denoising steps of the full schedule for the counterfactual"
        + " method (about depth x steps run per image)")
    public int counterfactual_steps = 20;

    // 10: Counterfactual's default (flips 8/8 both ways on the bundled models where scale 1 flipped 4/8 and 7/8)
    @Parameter(min = "0", persist = false, description = "Guidance scale of the counterfactual method")
    public double counterfactual_scale = 10;

    // unguided: the map should depend on the classifier it explains; |x_cf - x| also holds the denoiser's
    // reconstruction error, which no classifier causes (docs/guidance.md)
    @Parameter(choices = {CounterfactualRun.UNGUIDED, CounterfactualRun.INPUT}, persist = false,
        description = CounterfactualRun.REFERENCE_DESCRIPTION)
    public String counterfactual_reference = CounterfactualRun.UNGUIDED;

    /** The {@code methods} entries, checked. */
    public List<String> methodList() {
      List<String> out = new ArrayList<>();
      for (String m : (methods == null ? "" : methods).split(",")) {
        String k = m.trim().toLowerCase(Locale.ROOT);
        if (k.isEmpty()) continue;
        if (!k.equals(OWN) && !k.equals(COUNTERFACTUAL)) {
          throw new UserException("methods=" + methods + " names '" + m.trim() + "'; the methods are " + OWN + " and "
              + COUNTERFACTUAL + ", e.g. methods=" + OWN + "," + COUNTERFACTUAL + ".");
        }
        if (!out.contains(k)) out.add(k);
      }
      if (out.isEmpty()) {
        throw new UserException("methods= is empty. Give " + OWN + ", " + COUNTERFACTUAL + " or both, e.g. methods="
            + OWN + "," + COUNTERFACTUAL + ".");
      }
      return out;
    }
  }

  /** Makes the re-initialised copy of model {@code index} (closed by the run after use). */
  public interface Randomizer {
    PrototypeClassifier randomize(int index, Randomization stage, long seed);
  }

  /** One row: a metric of one method on one model, over the images. */
  public static final class Row {
    public final String model;
    public final String method;
    public final String metric;
    /** Per image, NaN where undefined. */
    public final double[] values;
    public final double mean;
    public final double low;
    public final double high;
    /** Images with a finite value. */
    public final int n;

    Row(String model, String method, String metric, double[] values, double mean, double low, double high, int n) {
      this.model = model;
      this.method = method;
      this.metric = metric;
      this.values = values;
      this.mean = mean;
      this.low = low;
      this.high = high;
      this.n = n;
    }
  }

  /** What a run produced. */
  public static final class Result {
    public final List<Row> rows;
    public final Table table;
    /** The sanity checks as verdicts, one row per model and check ({@link #verdicts}). */
    public final Table verdicts;
    /** One bar chart per metric. */
    public final List<Chart> plots;
    public final Map<String, String> provenance;
    /** Wall time in seconds by "model/method" ({@code PPNet}, {@code random}, {@code randomized_top}, ...). */
    public final Map<String, Double> seconds;
    /** The counterfactual maps |counterfactual − image| by model name (with the counterfactual method). */
    public final Map<String, float[][]> counterfactualMaps;
    public final List<Path> files;

    Result(List<Row> rows, Table table, Table verdicts, List<Chart> plots, Map<String, String> provenance,
        Map<String, Double> seconds, Map<String, float[][]> counterfactualMaps, List<Path> files) {
      this.rows = rows;
      this.table = table;
      this.verdicts = verdicts;
      this.plots = plots;
      this.provenance = provenance;
      this.seconds = seconds;
      this.counterfactualMaps = counterfactualMaps;
      this.files = files;
    }

    public Outputs outputs() {
      Outputs o = new Outputs().table("comparison", "Compare Explanation Methods", table)
          .table("verdicts", "Sanity Checks", verdicts);
      for (int i = 0; i < plots.size(); i++) o.chart(i == 0 ? "plots" : "plots_" + (i + 1), plots.get(i));
      return o;
    }
  }

  /** The images compared, with their name, where they came from and their lesion masks. */
  public static final class Images {
    public final FloatStack stack;
    public final String name;
    public final Map<String, String> provenance;
    /** Per image its lesion mask (null entries: none), or null without masks. */
    public final boolean[][] masks;

    public Images(FloatStack stack, String name, Map<String, String> provenance) {
      this(stack, name, provenance, null);
    }

    public Images(FloatStack stack, String name, Map<String, String> provenance, boolean[][] masks) {
      this.stack = stack;
      this.name = name;
      this.provenance = provenance;
      this.masks = masks;
    }
  }

  private CompareMethodsRun() {}

  /** Opens the models, reads or synthesizes the images, compares, closes the models. */
  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    boolean noImages = blank(r.images), noDenoiser = blank(r.denoiser);
    if (noImages == noDenoiser) {
      throw new UserException(noImages ? "No images given. Set images= (a folder, an open stack or an image"
          + " file) or denoiser= (a denoiser bundle that synthesizes them, e.g. denoiser=sample)."
          : "Both images= and denoiser= are set. Give one of them: images to compare on existing images, denoiser to"
          + " synthesize new ones.");
    }
    List<String> keys = new ArrayList<>();
    for (String k : r.models.split(",")) if (!k.trim().isEmpty()) keys.add(k.trim());
    if (keys.isEmpty()) {
      throw new UserException("models= is empty. Give one or more prototype bundles, e.g."
          + " models=sample-ppnet,sample-eppnet,sample-protopool.");
    }
    List<LoadedModel<PrototypeClassifier>> loaded = new ArrayList<>();
    try {
      for (String k : keys) loaded.add(Models.prototypes(k, r.deviceChoice(), 32, r.trust, env.progress));
      PrototypeClassifier first = loaded.get(0).get();
      for (LoadedModel<PrototypeClassifier> m : loaded) {
        if (m.get().width() != first.width() || m.get().height() != first.height()) {
          throw new UserException("Model " + m.name() + " takes " + m.get().width() + "x" + m.get().height()
              + " images but " + loaded.get(0).name() + " takes " + first.width() + "x" + first.height() + ". Compare"
              + " models of the same input size.");
        }
      }
      Images images = images(r, first.width(), first.height(), env);
      Randomizer randomizer = (i, stage, s) -> RandomizedPrototypeNetwork.of(ClassifierBundle.open(keys.get(i)),
          stage, s, r.trust);
      if (!r.methodList().contains(COUNTERFACTUAL)) return run(r, images, loaded, randomizer, null, env);
      try (LoadedModel<Denoiser> d = Models.denoiser(r.counterfactual_denoiser.trim(), r.deviceChoice(), null,
          r.trust, env.progress)) {
        return run(r, images, loaded, randomizer, d, env);
      }
    } finally {
      for (LoadedModel<PrototypeClassifier> m : loaded) m.close();
    }
  }

  /** The images from the folder, stack or file of {@code images}, or synthesized by {@code denoiser}. */
  static Images images(Request r, int width, int height, Env env) {
    if (!blank(r.images)) {
      InputImages in = ImageKeys.read(env, "images", r.images, ImageInput.Settings.size(width, height)
          .fit(Fit.of(r.fit)).channels(1), env.progress);
      boolean[][] masks = blank(r.masks) ? null : ImageKeys.masks("images", r.images, in, r.masks.trim(), width,
          height);
      return new Images(in.stack(), ImageKeys.name(env, "images", r.images, in), in.summary().toStrings(), masks);
    }
    if (!blank(r.masks)) {
      throw new UserException("masks= gives lesion masks of images, but the images are synthesized (denoiser="
          + r.denoiser.trim() + ") and have none. Give images= (e.g. Generate Phantoms' output with masks=auto), or"
          + " remove masks.");
    }
    SynthesizeRun.Request s = new SynthesizeRun.Request();
    s.model = r.denoiser.trim();
    s.samples = r.samples;
    s.steps = r.steps;
    s.sampler = "DDIM";
    s.seed = r.seed;
    s.device = r.device;
    SynthesizeRun.Result res = SynthesizeRun.run(s, env);
    return new Images(res.samples, String.format(Locale.ROOT, "%d samples of %s (DDIM %d steps, seed %d)", r.samples,
        r.denoiser.trim(), r.steps, r.seed), res.provenance);
  }

  /** {@link #run(Request, Images, List, Randomizer, LoadedModel, Env)} without the counterfactual method's denoiser. */
  public static Result run(Request r, Images images, List<LoadedModel<PrototypeClassifier>> models,
      Randomizer randomizer, Env env) {
    return run(r, images, models, randomizer, null, env);
  }

  /**
   * Compares opened prototype networks (the caller closes them) on the given images.
   *
   * @param randomizer makes the re-initialised copies for the model-randomisation control
   * @param cfDenoiser the counterfactual method's denoiser (the caller closes it); null without that method
   */
  public static Result run(Request r, Images images, List<LoadedModel<PrototypeClassifier>> models,
      Randomizer randomizer, LoadedModel<Denoiser> cfDenoiser, Env env) {
    Progress progress = env.progress;
    List<String> methods = r.methodList();
    boolean ownMethod = methods.contains(OWN), cfMethod = methods.contains(COUNTERFACTUAL);
    if (cfMethod && cfDenoiser == null) {
      throw new UserException("methods=" + r.methods + " asks for counterfactuals, which need a denoiser: set"
          + " counterfactual_denoiser= (e.g. sample).");
    }
    if (models.isEmpty()) throw new UserException("No models given. Set models= to one or more prototype bundles.");
    if (images.stack.channels != 1) {
      throw new UserException("The images " + images.name + " have " + images.stack.channels + " channels; the"
          + " prototype explanations work on gray images. Give 1-channel images.");
    }
    List<String> seen = new ArrayList<>();
    for (LoadedModel<PrototypeClassifier> m : models) {
      if (seen.contains(m.name())) {
        throw new UserException("Two models are called " + m.name() + ". Compare each model once (give different"
            + " bundles, or rename one in its model.json).");
      }
      seen.add(m.name());
    }
    List<Randomization> stages = Randomization.parse(r.randomization);
    List<String> labels = barLabels(models);
    boolean randomControl = attributionMetric(r.metric);
    int n = images.stack.sampleCount();
    List<Row> rows = new ArrayList<>();
    Map<String, Double> seconds = new LinkedHashMap<>();
    double parts = models.size() * ((randomControl ? 1 : 0) + (ownMethod ? 1 : 0) + (cfMethod ? 1 : 0)
        + 0.2 * stages.size() * methods.size());
    Map<String, float[][]> cfMaps = new LinkedHashMap<>();
    double done = 0;
    try (OutputFolder out = OutputFolder.open(r, COMMAND, TABLE_FILE, IMAGES_FILE, VERDICTS_FILE, PROVENANCE_FILE,
        "compare_*.png")) {
      for (int mi = 0; mi < models.size(); mi++) {
        LoadedModel<PrototypeClassifier> m = models.get(mi);
        PrototypeClassifier pc = m.get();
        String prefix = m.name() + ": ";

        long t0;
        int[] targets;
        if (ownMethod) {
          FaithfulnessScoring.Job own = job(r, images);
          own.prototypeAttribution = true;
          own.attributionName = FaithfulnessScoring.PROTOTYPES;
          t0 = System.nanoTime();
          FaithfulnessScoring.Scores res = FaithfulnessScoring.score(own, pc, m.name(), progress.sub(done / parts,
              (done + 1) / parts, prefix + "own map, "));
          seconds.put(m.name() + "/" + pc.method(), (System.nanoTime() - t0) / 1e9);
          done++;
          rows.addAll(rows(m.name(), pc.method(), res, r));
          rows.addAll(localisationRows(m.name(), pc.method(), res, images, r));
          targets = new int[n];
          for (int i = 0; i < n; i++) targets[i] = res.images.get(i).target;
        } else {
          targets = targets(pc, m.name(), images.stack, r.target);
        }

        int[] cfTargets = null;
        float[][] cf = null;
        if (cfMethod) {
          DifferentiableClassifier dc = GuidedModels.differentiable(pc, m.name(), COUNTERFACTUAL_INSTEAD);
          cfTargets = CounterfactualRun.otherClasses(dc, images.stack, targets);
          t0 = System.nanoTime();
          cf = counterfactualMaps(r, cfDenoiser, dc, images.stack, cfTargets, progress.sub(done / parts,
              (done + 0.7) / parts, prefix + "counterfactuals, "));
          cfMaps.put(m.name(), cf);
          FaithfulnessScoring.Job cj = job(r, images);
          cj.attribution = new FloatStack(images.stack.width, images.stack.height, 1, n, 1, cf, null);
          cj.attributionName = "counterfactual |difference|";
          FaithfulnessScoring.Scores cs = FaithfulnessScoring.score(cj, plain(pc), m.name(),
              progress.sub((done + 0.7) / parts, (done + 1) / parts, prefix + "counterfactual map, "));
          seconds.put(m.name() + "/" + COUNTERFACTUAL, (System.nanoTime() - t0) / 1e9);
          done++;
          rows.addAll(rows(m.name(), COUNTERFACTUAL, cs, r));
          rows.addAll(localisationRows(m.name(), COUNTERFACTUAL, cs, images, r));
        }

        if (randomControl) {
          FaithfulnessScoring.Job rnd = job(r, images);
          rnd.attribution = randomMaps(images.stack.width, images.stack.height, n, r.seed);
          rnd.attributionName = "random (i.i.d. normal per pixel)";
          t0 = System.nanoTime();
          FaithfulnessScoring.Scores rr = FaithfulnessScoring.score(rnd, plain(pc), m.name(),
              progress.sub(done / parts, (done + 1) / parts, prefix + "random map, "));
          seconds.put(m.name() + "/" + RANDOM, (System.nanoTime() - t0) / 1e9);
          done++;
          rows.addAll(rows(m.name(), RANDOM, rr, r));
          rows.addAll(localisationRows(m.name(), RANDOM, rr, images, r));
        }

        if (!stages.isEmpty()) {
          FloatStack gray = planes(images.stack);
          t0 = System.nanoTime();
          float[][] real = ownMethod ? ModelRandomization.maps(pc, m.name(), gray, targets, r.mapKind(),
              r.mapSettings(), progress) : null;
          double realSeconds = (System.nanoTime() - t0) / 1e9;
          for (Randomization st : stages) {
            progress.report(prefix + "randomised network (" + st.key() + ")", done / parts);
            t0 = System.nanoTime();
            try (PrototypeClassifier rand = randomizer.randomize(mi, st, r.seed)) {
              if (ownMethod) {
                float[][] other = ModelRandomization.maps(rand, m.name() + " (randomised)", gray, targets,
                    r.mapKind(), r.mapSettings(), progress);
                randomizationRows(rows, m.name(), RANDOMIZED + st.key(), real, other, gray, r);
                seconds.put(m.name() + "/" + RANDOMIZED + st.key(), realSeconds + (System.nanoTime() - t0) / 1e9);
                done += 0.2;
              }
              if (cfMethod) {
                // the randomised network's counterfactuals towards the same classes, with the same noise
                t0 = System.nanoTime();
                DifferentiableClassifier randomised = GuidedModels.differentiable(rand, m.name() + " (randomised)",
                    COUNTERFACTUAL_INSTEAD);
                float[][] other = counterfactualMaps(r, cfDenoiser, randomised, images.stack, cfTargets,
                    progress.sub(done / parts, (done + 0.2) / parts, prefix + "randomised network (" + st.key()
                        + "), counterfactuals, "));
                String method = RANDOMIZED + st.key() + COUNTERFACTUAL_SUFFIX;
                randomizationRows(rows, m.name(), method, cf, other, gray, r);
                seconds.put(m.name() + "/" + method, (System.nanoTime() - t0) / 1e9);
                done += 0.2;
              }
            }
          }
        }
      }
      progress.checkCancelled();
      Table table = table(rows);
      Table verdicts = verdicts(rows);
      Map<String, String> prov = provenance(r, images, models, stages, n);
      if (cfMethod) counterfactualProvenance(prov, r, cfDenoiser);
      if (images.masks != null) {
        prov.put("localisation", "rows pointing_game, relevance_mass, relevance_mass_x_area, relevance_rank, auc of"
            + " every scored map (own, counterfactual, random) against the lesion masks, over the images with a"
            + " non-empty mask; positive part of each map; pointing-game tolerance 15 px x side / 224"
            + " (docs/ground-truth.md)");
      }
      for (Map.Entry<String, Double> e : seconds.entrySet()) {
        prov.put("seconds." + e.getKey(), String.format(Locale.ROOT, "%.2f", e.getValue()));
      }
      List<Chart> plots = plots(rows, models, labels, images.name, n);
      if (out.active()) {
        out.csv(TABLE_FILE, table);
        out.text(IMAGES_FILE, imagesCsv(rows));
        out.csv(VERDICTS_FILE, verdicts);
        out.json(PROVENANCE_FILE, prov);
        for (Chart c : plots) out.png("compare_" + c.yLabel + ".png", c);
      }
      List<Path> files = out.commit();
      progress.report("Compared " + models.size() + " model" + (models.size() == 1 ? "" : "s") + " on " + n
          + " image" + (n == 1 ? "" : "s"), 1);
      return new Result(rows, table, verdicts, plots, prov, seconds, cfMaps, files);
    }
  }

  /** True when the metric key selects attribution metrics (all, or one of them): the random map is then scored. */
  static boolean attributionMetric(String key) {
    String k = key == null ? FaithfulnessScoring.ALL : key.trim();
    if (k.equalsIgnoreCase(FaithfulnessScoring.ALL)) return true;
    Metric m = Metric.of(k);
    return m != null && m.needsAttribution;
  }

  private static FaithfulnessScoring.Job job(Request r, Images images) {
    FaithfulnessScoring.Job f = new FaithfulnessScoring.Job();
    f.image = images.stack;
    f.imageName = images.name;
    f.target = r.target;
    f.metric = r.metric;
    f.settings = r.settings(32);
    f.seed = r.seed;
    f.top = r.top;
    f.map = r.mapKind();
    f.mapSettings = r.mapSettings();
    return f;
  }

  /** The localisation metrics, each a row like the faithfulness metrics (higher is better). */
  static final String[] LOCALISATION = {"pointing_game", "relevance_mass", "relevance_mass_x_area", "relevance_rank",
      "auc"};

  /**
   * Where one method's maps point against the lesion masks ({@link Localisation}, the positive part of each map, as
   * Faithfulness Score scores it): one row per localisation metric over the images with a non-empty mask; none
   * without masks.
   */
  private static List<Row> localisationRows(String model, String method, FaithfulnessScoring.Scores s, Images images,
      Request r) {
    List<Row> out = new ArrayList<>();
    if (images.masks == null) return out;
    int n = s.images.size();
    double[][] v = new double[LOCALISATION.length][n];
    for (double[] a : v) Arrays.fill(a, Double.NaN);
    for (FaithfulnessScoring.ImageResult ir : s.images) {
      boolean[] mask = images.masks[ir.index];
      if (mask == null || ir.map == null) continue;
      Localisation.Result l = Localisation.evaluate(ir.map, mask, images.stack.width, images.stack.height);
      if (l.maskPixels == 0) continue;
      double[] x = {l.pointingGame, l.relevanceMass, l.relevanceMassRatio(), l.relevanceRank, l.auc};
      for (int k = 0; k < x.length; k++) v[k][ir.index] = x[k];
    }
    for (int k = 0; k < LOCALISATION.length; k++) out.add(row(model, method, LOCALISATION[k], v[k], r));
    return out;
  }

  /** The Spearman and SSIM rows of one randomisation stage of one method. */
  private static void randomizationRows(List<Row> rows, String model, String method, float[][] real, float[][] other,
      FloatStack gray, Request r) {
    int n = real.length;
    double[] rho = new double[n], ssim = new double[n];
    for (int i = 0; i < n; i++) {
      rho[i] = ModelRandomization.spearman(real[i], other[i]);
      ssim[i] = ModelRandomization.ssim(real[i], other[i], gray.width, gray.height);
    }
    rows.add(row(model, method, ModelRandomization.SPEARMAN, rho, r));
    rows.add(row(model, method, ModelRandomization.SSIM, ssim, r));
  }

  /** The explained class of each image: the {@code target} key's class, or the predicted class. */
  private static int[] targets(Classifier c, String name, FloatStack images, String target) {
    int fixed = ClassNames.target(c.classNames(), target, name);
    int n = images.sampleCount();
    float[][] logits = c.logits(images.toNHWC(), n);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) out[i] = fixed >= 0 ? fixed : GuidedSampler.argmax(toDouble(logits[i]));
    return out;
  }

  /**
   * The counterfactual method's maps: |x_cf − x_ref| per pixel (summed over channels), x_cf the counterfactual of
   * image x towards {@code cfTargets[i]} ({@link CounterfactualRun#counterfactuals}: the request's depth, steps and
   * scale, Counterfactual's default closeness, noise from {@code seed}), x_ref the image x itself or (reference
   * unguided) its unguided reconstruction at the step where x_cf stopped. Unsigned: the sign of an intensity change says
   * whether the image got brighter, not whether the pixel speaks for the class.
   */
  static float[][] counterfactualMaps(Request r, LoadedModel<Denoiser> d, DifferentiableClassifier c,
      FloatStack images, int[] cfTargets, Progress progress) {
    return CounterfactualRun.changes(d, c, images, cfTargets, r.counterfactual_depth, r.counterfactual_scale,
        CLOSENESS, r.counterfactual_steps, r.seed, 8, CounterfactualRun.unguided(r.counterfactual_reference),
        progress).maps;
  }

  /** The closeness weight of the counterfactual method: Counterfactual's default. */
  static final double CLOSENESS = new CounterfactualRun.Request().closeness;
  /** What to do instead with a model that gives no gradients. */
  private static final String COUNTERFACTUAL_INSTEAD = "Leave counterfactual out of methods=";

  private static double[] toDouble(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) d[i] = v[i];
    return d;
  }

  private static void counterfactualProvenance(Map<String, String> p, Request r, LoadedModel<Denoiser> d) {
    p.put("counterfactual", "map = |counterfactual - " + (CounterfactualRun.unguided(r.counterfactual_reference)
        ? "unguided reconstruction| (the reconstruction: the same image, noise, steps and denoiser labels without"
        + " guidance, x0_pred at the step where the counterfactual stopped, the final x0 where it never flipped)"
        : "image|") + " (unsigned, summed over channels); the counterfactual of"
        + " each image towards the most likely class other than the explained one: noised to depth "
        + r.counterfactual_depth + ", DDIM over " + r.counterfactual_steps + " steps of the full schedule with"
        + " classifier guidance (scale " + r.counterfactual_scale + ") and L1 closeness " + CLOSENESS + ", stopped at"
        + " the flip (docs/guidance.md); noise Seeds.gaussian(seed, 'counterfactual', i); scored on the network"
        + " like the random map (attribution metrics only); the randomisation control guides with the re-initialised"
        + " network towards the same classes with the same noise");
    d.provenance().forEach((k, v) -> p.put("counterfactual.denoiser." + k, v));
  }

  /**
   * The random attribution control: i.i.d. standard-normal values per pixel, image i from the stream
   * {@code GaussianNoise.forSample(mix64(seed ^ "random"), i)} (independent of the metrics' own random subsets).
   */
  static FloatStack randomMaps(int w, int h, int n, long seed) {
    long s = GaussianNoise.mix64(seed ^ 0x72616E646F6DL);
    float[][] planes = new float[n][];
    for (int i = 0; i < n; i++) planes[i] = GaussianNoise.forSample(s, i).fill(new float[w * h]);
    return new FloatStack(w, h, 1, n, 1, planes, null);
  }

  /** The classifier without its prototype interface, so the faithfulness run scores only the given map. */
  private static Classifier plain(Classifier c) {
    return new Classifier() {
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
        return c.logits(x, n);
      }
    };
  }

  /** Every image as one gray plane (the images have one channel). */
  private static FloatStack planes(FloatStack s) {
    float[][] p = new float[s.planeCount()][];
    for (int i = 0; i < p.length; i++) p[i] = s.plane(i);
    return new FloatStack(s.width, s.height, 1, p.length, 1, p, null);
  }

  /** The rows of one scoring, one per metric in the order it produced them. */
  private static List<Row> rows(String model, String method, FaithfulnessScoring.Scores res, Request r) {
    List<Metric> order = new ArrayList<>();
    for (FaithfulnessScoring.ImageResult ir : res.images) {
      for (MetricResult mr : ir.metrics) if (!order.contains(mr.metric)) order.add(mr.metric);
    }
    List<Row> out = new ArrayList<>();
    int n = res.images.size();
    for (Metric mt : order) {
      double[] v = new double[n];
      Arrays.fill(v, Double.NaN);
      for (int i = 0; i < n; i++) {
        for (MetricResult mr : res.images.get(i).metrics) if (mr.metric == mt) v[i] = mr.value;
      }
      out.add(row(model, method, mt.key(), v, r));
    }
    return out;
  }

  /** The mean of the finite values with its bootstrap interval; NaN and n = 0 when there is none. */
  static Row row(String model, String method, String metric, double[] values, Request r) {
    double[] finite = Arrays.stream(values).filter(Double::isFinite).toArray();
    if (finite.length == 0) return new Row(model, method, metric, values, Double.NaN, Double.NaN, Double.NaN, 0);
    Bootstrap.Interval ci = Bootstrap.meanCi(finite, r.bootstrap, 0.95, r.seed);
    return new Row(model, method, metric, values, ci.mean, ci.low, ci.high, finite.length);
  }

  /** Which direction is better for a metric, as the table's {@code better} column says. */
  static String better(String metric) {
    switch (metric) {
      case "deletion":
        return "lower";
      case "nis":
        return "see docs";
      case ModelRandomization.SPEARMAN:
      case ModelRandomization.SSIM:
        return "nearer 0";
      default:
        return "higher";
    }
  }

  /**
   * The sanity checks as pass/fail per model: for every attribution metric scored on both the model's own map and the
   * random map, "better than a random map" passes when the two 95 % intervals do not overlap in the better direction
   * (fails when they do not overlap the other way, else is "not shown"); for every randomisation stage, "model
   * randomisation" passes when the interval of the mean Spearman correlation lies within ±{@link #RANDOMIZATION_BOUND}.
   */
  static Table verdicts(List<Row> rows) {
    Table t = new Table();
    for (Row own : rows) {
      if (own.method.equals(RANDOM) || own.method.startsWith(RANDOMIZED)) continue;
      String dir = better(own.metric);
      if (!dir.equals("higher") && !dir.equals("lower")) continue;
      for (Row rnd : rows) {
        if (!rnd.model.equals(own.model) || !rnd.method.equals(RANDOM) || !rnd.metric.equals(own.metric)) continue;
        boolean higher = dir.equals("higher");
        String v;
        if (own.n == 0 || rnd.n == 0) v = "undefined";
        else if (higher ? own.low > rnd.high : own.high < rnd.low) v = "pass";
        else if (higher ? own.high < rnd.low : own.low > rnd.high) v = "fail";
        else v = "not shown";
        verdict(t, own.model, own.method, "better than a random map", own.metric, own, String.format(Locale.ROOT,
            "random %.4f [%.4f, %.4f]", rnd.mean, rnd.low, rnd.high), v, "95 % intervals " + (v.equals("pass")
                || v.equals("fail") ? "do not overlap" : "overlap") + "; " + dir + " is better");
      }
    }
    for (Row rz : rows) {
      if (!rz.method.startsWith(RANDOMIZED) || !rz.metric.equals(ModelRandomization.SPEARMAN)) continue;
      String v = rz.n == 0 ? "undefined"
          : rz.low >= -RANDOMIZATION_BOUND && rz.high <= RANDOMIZATION_BOUND ? "pass"
          : rz.low > RANDOMIZATION_BOUND || rz.high < -RANDOMIZATION_BOUND ? "fail" : "not shown";
      String stage = rz.method.substring(RANDOMIZED.length());
      String method = "";
      if (stage.endsWith(COUNTERFACTUAL_SUFFIX)) {
        stage = stage.substring(0, stage.length() - COUNTERFACTUAL_SUFFIX.length());
        method = COUNTERFACTUAL;
      } else {
        for (Row o : rows) {
          if (o.model.equals(rz.model) && !o.method.equals(RANDOM) && !o.method.startsWith(RANDOMIZED)
              && !o.method.equals(COUNTERFACTUAL)) {
            method = o.method;
            break;
          }
        }
      }
      verdict(t, rz.model, method, "model randomisation (" + stage + ")",
          rz.metric, rz, String.format(Locale.ROOT, "|Spearman| <= %.1f", RANDOMIZATION_BOUND), v,
          v.equals("pass") ? "the explanation changes when the weights are re-initialised"
              : v.equals("fail") ? "the explanation barely depends on the learned weights (Adebayo et al. 2018)"
              : "the interval crosses the bound; more images would decide");
    }
    return t;
  }

  private static void verdict(Table t, String model, String method, String check, String metric, Row own,
      String reference, String verdict, String note) {
    t.incrementCounter();
    t.addValue("model", model);
    t.addValue("method", method);
    t.addValue("check", check);
    t.addValue("metric", metric);
    t.addValue("value", String.format(Locale.ROOT, "%.4f [%.4f, %.4f]", own.mean, own.low, own.high));
    t.addValue("reference", reference);
    t.addValue("verdict", verdict);
    t.addValue("note", note);
  }

  static Table table(List<Row> rows) {
    Table rt = new Table();
    for (Row row : rows) {
      rt.incrementCounter();
      rt.addValue("model", row.model);
      rt.addValue("method", row.method);
      rt.addValue("metric", row.metric);
      rt.addValue("mean", row.mean);
      rt.addValue("ci_low", row.low);
      rt.addValue("ci_high", row.high);
      rt.addValue("n", row.n);
      rt.addValue("better", better(row.metric));
      int undefined = row.values.length - row.n;
      rt.addValue("note", undefined == 0 ? "" : undefined + " of " + row.values.length + " images undefined");
    }
    for (String c : new String[] {"mean", "ci_low", "ci_high"}) rt.setDecimalPlaces(c, 6);
    return rt;
  }

  /** Every image's value: model, method, metric, image (1-based), value. */
  static String imagesCsv(List<Row> rows) {
    StringBuilder sb = new StringBuilder("model,method,metric,image,value\n");
    for (Row row : rows) {
      for (int i = 0; i < row.values.length; i++) {
        sb.append(csv(row.model)).append(',').append(csv(row.method)).append(',').append(row.metric).append(',')
            .append(i + 1).append(',').append(row.values[i]).append('\n');
      }
    }
    return sb.toString();
  }

  private static String csv(String s) {
    return s.matches("[^,\"\n]*") ? s : '"' + s.replace("\"", "\"\"") + '"';
  }

  /** Bar labels: the method of each model (PPNet, EPPNet, ProtoPool), or the model name when two share a method. */
  private static List<String> barLabels(List<LoadedModel<PrototypeClassifier>> models) {
    List<String> methods = new ArrayList<>();
    for (LoadedModel<PrototypeClassifier> m : models) methods.add(m.get().method());
    List<String> out = new ArrayList<>();
    for (int i = 0; i < models.size(); i++) {
      String method = methods.get(i);
      boolean unique = methods.indexOf(method) == methods.lastIndexOf(method);
      out.add((unique ? method : models.get(i).name()).replace(',', ' ').replace('{', '(').replace('}', ')'));
    }
    return out;
  }

  private static final int OWN_COLOR = 0x4c78a8;
  private static final int COUNTERFACTUAL_COLOR = 0x54a24b;
  private static final int RANDOM_COLOR = 0xb0b0b0;
  private static final int TOP_COLOR = 0xf58518;
  private static final int FULL_COLOR = 0xe45756;

  /** One bar chart per metric: a bar per (model, method) with its 95 % interval as an error bar. */
  static List<Chart> plots(List<Row> rows, List<LoadedModel<PrototypeClassifier>> models, List<String> labels,
      String imagesName, int n) {
    List<String> metrics = new ArrayList<>();
    for (Row row : rows) if (!metrics.contains(row.metric)) metrics.add(row.metric);
    List<Chart> out = new ArrayList<>();
    for (String metric : metrics) {
      List<Row> bars = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Row row : rows) {
        if (!row.metric.equals(metric)) continue;
        bars.add(row);
        String model = labels.get(indexOf(models, row.model));
        names.add(row.method.equals(RANDOM) ? "random (" + model + ")" : row.method.startsWith(RANDOMIZED)
            ? model + " " + row.method.substring(RANDOMIZED.length()) : row.method.equals(COUNTERFACTUAL)
            ? model + " counterfactual" : model);
      }
      Chart chart = new Chart(metric + " — " + imagesName, "", metric).categories(names);
      double lo = 0, hi = 0;
      for (String kind : new String[] {"own", COUNTERFACTUAL, RANDOM, RANDOMIZED + Randomization.TOP.key(),
          RANDOMIZED + Randomization.FULL.key()}) {
        double[] x = new double[bars.size()], y = new double[bars.size()];
        boolean any = false;
        for (int i = 0; i < bars.size(); i++) {
          x[i] = i;
          Row b = bars.get(i);
          boolean mine = kind.equals("own") ? !b.method.equals(RANDOM) && !b.method.startsWith(RANDOMIZED)
              && !b.method.equals(COUNTERFACTUAL) : kind.startsWith(RANDOMIZED) ? b.method.startsWith(kind)
              : b.method.equals(kind);
          y[i] = mine && Double.isFinite(b.mean) ? b.mean : 0; // ImageJ draws a NaN bar down to the frame's bottom
          any |= mine && Double.isFinite(b.mean);
        }
        if (!any) continue;
        int c = kind.equals("own") ? OWN_COLOR : kind.equals(COUNTERFACTUAL) ? COUNTERFACTUAL_COLOR
            : kind.equals(RANDOM) ? RANDOM_COLOR : kind.endsWith(Randomization.TOP.key()) ? TOP_COLOR : FULL_COLOR;
        chart.add(kind.equals("own") ? "the model's own explanation" : kind.equals(COUNTERFACTUAL)
            ? "counterfactual |difference|" : kind.equals(RANDOM) ? "random map"
            : "randomised network (" + kind.substring(RANDOMIZED.length()) + ") vs real", x, y, Chart.Style.BARS, c);
      }
      for (int i = 0; i < bars.size(); i++) {
        Row b = bars.get(i);
        if (!Double.isFinite(b.mean)) continue;
        lo = Math.min(lo, Math.min(b.low, b.mean));
        hi = Math.max(hi, Math.max(b.high, b.mean));
        chart.errorBar(i, b.low, b.high);
      }
      double pad = hi > lo ? 0.08 * (hi - lo) : 1;
      chart.limits(-0.6, bars.size() - 0.4, lo < 0 ? lo - pad : 0, hi + pad);
      String better = better(metric);
      chart.note("mean and 95% bootstrap CI over n = " + n + " images; "
          + (better.equals("see docs") ? "see docs/faithfulness.md" : better + " is better"));
      out.add(chart);
    }
    return out;
  }

  private static int indexOf(List<LoadedModel<PrototypeClassifier>> models, String name) {
    for (int i = 0; i < models.size(); i++) if (models.get(i).name().equals(name)) return i;
    throw new IllegalStateException(name);
  }

  private static Map<String, String> provenance(Request r, Images images, List<LoadedModel<PrototypeClassifier>> models,
      List<Randomization> stages, int n) {
    Classifier first = models.get(0).get();
    FaithfulnessMetrics.Settings s = r.settings(32).resolved(first.height(), first.width());
    Map<String, String> p = Provenance.of(COMMAND, r);
    p.put("images", images.name);
    p.put("image_count", Integer.toString(n));
    p.put("image_size", images.stack.width + "x" + images.stack.height);
    for (Map.Entry<String, String> e : images.provenance.entrySet()) p.put("images." + e.getKey(), e.getValue());
    for (int i = 0; i < models.size(); i++) {
      LoadedModel<PrototypeClassifier> m = models.get(i);
      String pre = "model" + (i + 1) + ".";
      p.put(pre + "method", m.get().method());
      for (Map.Entry<String, String> e : m.provenance().entrySet()) {
        p.put(pre + e.getKey().replaceFirst("^model\\.", ""), e.getValue());
      }
    }
    p.put("explanation", "each model's own map: " + PrototypeAttribution.describe(r.mapKind())
        + ", for the target class");
    if (r.mapKind() != PrototypeMapKind.UPSAMPLE) p.putAll(r.mapSettings().describe(first.height(), first.width()));
    p.put("target", r.target == null || r.target.trim().isEmpty() ? "predicted class (per model)" : r.target.trim());
    p.put("subset_size", Integer.toString(s.subsetSize));
    p.put("step", Integer.toString(s.step));
    p.put("patch_size", Integer.toString(s.patchSize));
    p.put("bootstrap", "mean over the images with a finite value, percentile 95 % CI, " + r.bootstrap
        + " resamples, SplitMix64(seed)");
    p.put("random_control", attributionMetric(r.metric) ? "attribution = i.i.d. standard normal per pixel, image i"
        + " from GaussianNoise.forSample(mix64(seed ^ 0x72616E646F6D), i), scored on each model with the same"
        + " settings and random subsets as its own map" : "not run (no attribution metric selected)");
    StringBuilder st = new StringBuilder();
    for (Randomization stage : stages) {
      st.append(st.length() == 0 ? "" : "; ").append(stage.key()).append(": ").append(stage.description());
    }
    p.put("randomization", stages.isEmpty() ? "none" : st + "; re-initialised as Train Prototype Network"
        + " initialises a new network with seed=" + r.seed + " (Adebayo et al., NeurIPS 2018)");
    p.put("randomization_similarity", "Spearman rank correlation and SSIM (maps min-max scaled to [0,1], data range 1)"
        + " between the real and the randomised network's map of each image, same target class");
    return p;
  }

  private static boolean blank(String s) {
    return s == null || s.trim().isEmpty();
  }
}
