package org.diffxai.run;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.ClassNames;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.ImageMetrics;
import org.diffxai.core.InfoText;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.guidance.GuidedSampler;
import org.diffxai.io.Fit;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageInput;
import org.diffxai.io.InputImages;
import org.diffxai.model.LoadedModel;
import org.diffxai.run.ResultImage.Look;
import org.scijava.plugin.Parameter;

/**
 * Counterfactual: what would have to change in an image for the classifier to decide another class. Each slice is
 * noised to a depth τ of the denoiser's schedule and denoised with classifier guidance towards the target class plus an
 * L1 closeness term to the input, stopping when the classifier flips ({@link GuidedSampler}; DiME, Jeanneret et al.
 * 2022). Outputs the counterfactuals, the signed difference maps (counterfactual − input, or with {@code reference=unguided}
 * counterfactual − the unguided reconstruction), a table per image (flipped,
 * flip step, steps used, probabilities, L1, SSIM) and the target probability per step; with an output folder
 * {@code counterfactuals.tif}, {@code difference.tif}, {@code counterfactual.csv}, {@code counterfactual_steps.csv}
 * and {@code counterfactual.json}.
 */
public final class CounterfactualRun {
  public static final String COMMAND = "Counterfactual";
  public static final String IMAGES_FILE = "counterfactuals.tif";
  public static final String DIFFERENCE_FILE = "difference.tif";
  public static final String TABLE_FILE = "counterfactual.csv";
  public static final String STEPS_FILE = "counterfactual_steps.csv";
  public static final String PROVENANCE_FILE = "counterfactual.json";
  /** The {@code reference} choices: the difference is counterfactual − input, or − the unguided reconstruction. */
  public static final String INPUT = "input";
  public static final String UNGUIDED = "unguided";
  /** The description of the {@code reference} keys (here and in Compare Explanation Methods). */
  static final String REFERENCE_DESCRIPTION = "What the difference subtracts from the counterfactual: the input, or"
      + " its unguided reconstruction (same noise and steps, no guidance, at the step where the counterfactual stopped),"
      + " which leaves only what the classifier's guidance changed";

  /** The keys of Counterfactual. */
  public static class Request extends ModelKeys {
    @Parameter(style = "image", required = false, persist = false, description = "Image to change: an open image, an"
        + " image file, or a folder; empty = the active image. A stack gives one counterfactual per slice.")
    public String image = "";

    @Parameter(style = "model:classifier", persist = false,
        description = "Classifier bundle folder or a bundled sample (sample-ppnet, ...); it must give input gradients"
            + " (TensorFlow or TorchScript)")
    public String model = "";

    @Parameter(style = "model:denoiser", persist = false,
        description = "Denoiser bundle folder, or 'sample' for the bundled sample model")
    public String denoiser = "sample";

    @Parameter(required = false, persist = false,
        description = "Class to turn each image into (name or index); empty = the other class of a two-class model")
    public String target = "";

    @Parameter(min = "0", max = "1", persist = false,
        description = "Noise depth: fraction of the schedule the image is noised to (larger = bigger changes)")
    public double depth = 0.3;

    // 10: on the bundled models (depth 0.3, 8 unseen phantoms per direction) scale 1, 3, 5, 10 flipped 4, 5, 5, 8 of 8
    // lesion -> healthy and 7, 8, 8, 8 of 8 healthy -> lesion, median L1 0.036-0.080 (docs/guidance.md)
    @Parameter(min = "0", persist = false, description = "Guidance scale (strength of the classifier gradient)")
    public double scale = 10;

    @Parameter(min = "0", persist = false, description = "Weight of the L1 closeness to the input")
    public double closeness = 0.05;

    @Parameter(min = "1", persist = false, description = "Denoising steps of the full schedule (about depth x steps run)")
    public int steps = 50;

    @Parameter(persist = false, description = "Random seed of the noise (image i: its own stream)")
    public long seed = 0;

    @Parameter(min = "1", persist = false, description = "Images per model call")
    public int batch = 8;

    @Parameter(choices = {"pad", "crop", "stretch"}, persist = false, description = Fit.KEY_DESCRIPTION)
    public String fit = Fit.KEY_DEFAULT;

    // input: the difference output keeps its plain meaning (what changed in the image); unguided is the classifier's
    // part only (docs/guidance.md, "Counterfactual maps in Compare Explanation Methods")
    @Parameter(choices = {INPUT, UNGUIDED}, persist = false, description = REFERENCE_DESCRIPTION)
    public String reference = INPUT;

    @Parameter(style = "model:classifier", required = false, persist = false,
        description = GuidedModels.CHECK_DESCRIPTION)
    public String check = "";
  }

  /** What a run produced. */
  public static final class Result {
    public final List<GuidedSampler.Trace> traces;
    public final ResultImage counterfactuals;
    public final ResultImage difference;
    public final Table table;
    public final Table steps;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(List<GuidedSampler.Trace> traces, ResultImage counterfactuals, ResultImage difference, Table table,
        Table steps, Map<String, String> provenance, List<Path> files) {
      this.traces = traces;
      this.counterfactuals = counterfactuals;
      this.difference = difference;
      this.table = table;
      this.steps = steps;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().image(counterfactuals).image(difference).table("results", "Counterfactuals", table)
          .table("steps", "Counterfactual steps", steps);
    }
  }

  private CounterfactualRun() {}

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
    DifferentiableClassifier classifier = c.get();
    Denoiser denoiser = d.get();
    List<String> classes = c.classNames();
    int fixedTarget = ClassNames.target(classes, r.target, c.name());
    if (fixedTarget < 0 && classes.size() != 2) {
      throw new UserException("Model " + c.name() + " has " + classes.size() + " classes; give the class to turn each"
          + " image into, e.g. target=" + classes.get(0) + ".");
    }
    InputImages in = ImageKeys.read(env, "image", r.image, ImageInput.Settings.size(denoiser.width(),
        denoiser.height()).fit(Fit.of(r.fit)).channels(denoiser.channels()), env.progress);
    String imageName = ImageKeys.name(env, "image", r.image, in);
    FloatStack image = in.stack();
    int n = image.sampleCount();
    float[] all = image.toNHWC();
    int size = denoiser.height() * denoiser.width() * denoiser.channels();
    float[][] inputs = new float[n][];
    for (int i = 0; i < n; i++) inputs[i] = Arrays.copyOfRange(all, i * size, (i + 1) * size);
    float[][] inLogits = classifier.logits(all, n);
    // the target per image: the given class, or the other class of the image's prediction
    int[] target = new int[n];
    for (int i = 0; i < n; i++) {
      target[i] = fixedTarget >= 0 ? fixedTarget : otherClass(inLogits[i], GuidedSampler.argmax(toDouble(inLogits[i])));
    }
    try (OutputFolder out = OutputFolder.open(r, COMMAND, IMAGES_FILE, DIFFERENCE_FILE, TABLE_FILE, STEPS_FILE,
        PROVENANCE_FILE)) {
      long t0 = System.nanoTime();
      boolean unguided = unguided(r.reference);
      float[][] reference = unguided ? new float[n][] : inputs;
      GuidedSampler.Trace[] traces = counterfactuals(d, classifier, classes, inputs, target, r.depth, r.scale,
          r.closeness, r.steps, r.seed, r.batch, unguided ? reference : null, env.progress);
      double seconds = (System.nanoTime() - t0) / 1e9;
      env.progress.checkCancelled();
      Map<String, String> prov = GuidedModels.provenance(COMMAND, r, d, c);
      prov.putAll(in.summary().toStrings());
      prov.put("image", imageName);
      prov.put("target_class", fixedTarget >= 0 ? classes.get(fixedTarget) : "the other class of each image's prediction");
      prov.put("method", "DDIM (eta 0) from depth tau with classifier guidance on x0_pred plus L1 closeness; stop at"
          + " the first step whose guided x0_pred is classified as the target (docs/guidance.md)");
      prov.put("noise", "image i: Seeds.gaussian(seed, \"counterfactual\", i)");
      prov.put("difference", unguided ? "counterfactual - unguided reconstruction (the same input, noise, depth, steps"
          + " and denoiser labels without guidance, x0_pred at the step where the counterfactual stopped, the final x0"
          + " where it never flipped): what the guidance changed" : "counterfactual - input");
      prov.put("seconds", String.format(Locale.ROOT, "%.3f", seconds));
      prov.put("probability", GuidedModels.probabilityNote(classifier));
      GuidedModels.checkProvenance(prov, check);
      float[][] cf = new float[n][];
      float[][] diff = new float[n][];
      for (int i = 0; i < n; i++) {
        cf[i] = traces[i].image;
        diff[i] = new float[size];
        for (int j = 0; j < size; j++) diff[i][j] = cf[i][j] - reference[i][j];
      }
      Map<String, String> info = Map.of("Info", InfoText.of(prov));
      ResultImage images = ResultImage.of("counterfactual", "Counterfactual", stack(image, cf, "counterfactual"),
          info, Look.GREY);
      ResultImage difference = ResultImage.of("difference", "Counterfactual difference", stack(image, diff,
          "difference"), info, Look.SIGNED);
      Table table = table(image, inputs, inLogits, List.of(traces), classifier, check == null ? null : check.get(),
          classes, target, denoiser.width(), denoiser.height());
      Table steps = stepsTable(image, List.of(traces), classifier);
      if (out.active()) {
        out.tiff(IMAGES_FILE, images);
        out.tiff(DIFFERENCE_FILE, difference);
        out.csv(TABLE_FILE, table);
        out.csv(STEPS_FILE, steps);
        out.json(PROVENANCE_FILE, prov);
      }
      return new Result(List.of(traces), images, difference, table, steps, prov, out.commit());
    }
  }

  /**
   * The counterfactual of each input (image units) towards its target class: the images of each target class in one
   * guided run ({@link GuidedSampler#counterfactual}, DDIM η 0, stopping at the flip), image i drawing its noise from
   * stream i whatever its group. Shared by Counterfactual and Compare Explanation Methods.
   *
   * @param reconstructions null, or receives per image the unguided reconstruction at the step where its
   *     counterfactual stopped ({@link GuidedSampler#reconstruction}: same noise, steps and labels, scale 0)
   */
  static GuidedSampler.Trace[] counterfactuals(LoadedModel<Denoiser> d, DifferentiableClassifier classifier,
      List<String> classes, float[][] inputs, int[] target, double depth, double scale, double closeness, int steps,
      long seed, int batch, float[][] reconstructions, org.diffxai.core.Progress progress) {
    int n = inputs.length;
    GuidedSampler.Trace[] traces = new GuidedSampler.Trace[n];
    for (int k = 0; k < classes.size(); k++) {
      int count = 0;
      for (int i = 0; i < n; i++) if (target[i] == k) count++;
      if (count == 0) continue;
      int[] idx = new int[count];
      float[][] group = new float[count][];
      count = 0;
      for (int i = 0; i < n; i++) {
        if (target[i] == k) {
          idx[count] = i;
          group[count++] = inputs[i];
        }
      }
      GuidedSampler sampler = new GuidedSampler(d.get(), DiffusionScheduler.create("ddim", d.scheduler(), 0),
          classifier, d.intensity()).target(Kind.LOG_PROBABILITY, k, k).scale(scale).closeness(closeness)
          .steps(steps).seed(seed).batchSize(batch).labels(labels(d, classes.get(k), count)).stopOnFlip(true);
      List<GuidedSampler.Trace> got = sampler.counterfactual(group, depth, idx, progress);
      for (int j = 0; j < count; j++) traces[idx[j]] = got.get(j);
      if (reconstructions != null) {
        int[] stops = new int[count];
        for (int j = 0; j < count; j++) stops[j] = got.get(j).flipStep; // stopOnFlip: it stopped there, or ran out
        float[][] rec = sampler.reconstruction(group, depth, idx, stops, progress);
        for (int j = 0; j < count; j++) reconstructions[idx[j]] = rec[j];
      }
    }
    return traces;
  }

  /** True for reference {@link #UNGUIDED}, false for {@link #INPUT} (the key's choices are checked before). */
  static boolean unguided(String reference) {
    String k = reference == null ? INPUT : reference.trim().toLowerCase(Locale.ROOT);
    if (!k.equals(INPUT) && !k.equals(UNGUIDED)) {
      throw new UserException("reference=" + reference + " is not a choice; use " + INPUT + " or " + UNGUIDED + ".");
    }
    return k.equals(UNGUIDED);
  }

  /** Counterfactuals of a stack's images with the maps of what they changed. */
  static final class Changes {
    final GuidedSampler.Trace[] traces;
    /** Per image: |counterfactual − reference| per pixel, summed over channels. */
    final float[][] maps;

    Changes(GuidedSampler.Trace[] traces, float[][] maps) {
      this.traces = traces;
      this.maps = maps;
    }
  }

  /**
   * The counterfactual of every image of {@code images} towards {@code target[i]} ({@link #counterfactuals}, noise
   * stream i for image i) and the map of what it changed: against the input, or with {@code unguided} against the
   * unguided reconstruction, which leaves only what the classifier's guidance changed (docs/guidance.md). Shared by
   * Compare Explanation Methods and Bias Report.
   *
   * @throws UserException when the denoiser makes images of another size than the stack's
   */
  static Changes changes(LoadedModel<Denoiser> d, DifferentiableClassifier c, FloatStack images, int[] target,
      double depth, double scale, double closeness, int steps, long seed, int batch, boolean unguided,
      org.diffxai.core.Progress progress) {
    Denoiser den = d.get();
    if (den.width() != images.width || den.height() != images.height || den.channels() != images.channels) {
      throw new UserException("The counterfactual denoiser " + d.name() + " makes " + den.width() + "x"
          + den.height() + "x" + den.channels() + " images but the classifier takes " + images.width + "x"
          + images.height + "x" + images.channels + ". Use a denoiser trained on images of the classifier's size.");
    }
    int n = images.sampleCount(), size = images.width * images.height * images.channels;
    float[] all = images.toNHWC();
    float[][] in = new float[n][];
    for (int i = 0; i < n; i++) in[i] = Arrays.copyOfRange(all, i * size, (i + 1) * size);
    float[][] ref = unguided ? new float[n][] : in;
    GuidedSampler.Trace[] t = counterfactuals(d, c, c.classNames(), in, target, depth, scale, closeness, steps, seed,
        batch, unguided ? ref : null, progress);
    float[][] maps = new float[n][images.width * images.height];
    int ch = images.channels;
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < size; p++) maps[i][p / ch] += Math.abs(t[i].image[p] - ref[i][p]);
    }
    return new Changes(t, maps);
  }

  /** The counterfactuals' targets: the other class ({@link #otherClass}) of each image's explained class. */
  static int[] otherClasses(Classifier c, FloatStack images, int[] explained) {
    int n = images.sampleCount();
    float[][] logits = c.logits(images.toNHWC(), n);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) out[i] = otherClass(logits[i], explained[i]);
    return out;
  }

  /** The class with the largest logit other than {@code from} (for two classes: the other one). */
  static int otherClass(float[] logits, int from) {
    int best = -1;
    for (int k = 0; k < logits.length; k++) {
      if (k != from && (best < 0 || logits[k] > logits[best])) best = k;
    }
    return best;
  }

  private static double[] toDouble(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) d[i] = v[i];
    return d;
  }

  /** Class labels for a class-conditional denoiser (the target class, by name), or null. */
  static int[] labels(LoadedModel<Denoiser> d, String className, int n) {
    if (!d.get().classConditional()) return null;
    int label = d.classNames().indexOf(className);
    if (label < 0) {
      throw new UserException("The denoiser " + d.name() + " has the classes " + d.classNames() + " but the target"
          + " class is " + className + ". Use a denoiser trained on the classifier's classes.");
    }
    int[] l = new int[n];
    Arrays.fill(l, label);
    return l;
  }

  private static FloatStack stack(FloatStack like, float[][] images, String what) {
    int c = like.channels;
    int n = images.length;
    int hw = like.width * like.height;
    float[][] planes = new float[n * c][hw];
    String[] labels = new String[n * c];
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < hw; p++) planes[i * c + ch][p] = images[i][p * c + ch];
        labels[i * c + ch] = what + " " + (i + 1) + (like.label(i * c) == null ? "" : " " + like.label(i * c));
      }
    }
    return new FloatStack(like.width, like.height, c, n, 1, planes, labels);
  }

  /**
   * One row per image; the probabilities are the classifier's calibrated ones where its bundle has a temperature, as
   * the column names say ({@link GuidedModels#probabilityColumn}).
   */
  static Table table(FloatStack image, float[][] inputs, float[][] inLogits, List<GuidedSampler.Trace> traces,
      Classifier c, Classifier check, List<String> classes, int[] target, int w, int h) {
    Table t = new Table();
    String pIn = GuidedModels.probabilityColumn(c, "target_input");
    String pCf = GuidedModels.probabilityColumn(c, "target_counterfactual");
    String pCheck = check == null ? null : "check_" + GuidedModels.probabilityColumn(check, "target_counterfactual");
    for (int i = 0; i < traces.size(); i++) {
      GuidedSampler.Trace tr = traces.get(i);
      double[] p = c.confidence().probabilities(inLogits[i]);
      int predicted = GuidedSampler.argmax(p);
      t.incrementCounter();
      t.addValue("image", image.label(i * image.channels) == null ? "slice " + (i + 1) : image.label(i * image.channels));
      t.addValue("slice", i + 1);
      t.addValue("predicted", classes.get(predicted));
      t.addValue("target", classes.get(target[i]));
      t.addValue(pIn, p[target[i]]);
      t.addValue(pCf, tr.finalProbability());
      t.addValue("flipped", tr.flipStep >= 0 ? 1 : 0);
      t.addValue("flip_step", tr.flipStep >= 0 ? tr.flipStep + 1 : -1);
      t.addValue("steps_used", tr.stepsUsed());
      double l1 = 0;
      for (int j = 0; j < tr.image.length; j++) l1 += Math.abs(tr.image[j] - inputs[i][j]);
      t.addValue("l1", l1 / tr.image.length);
      t.addValue("ssim", image.channels == 1 ? ImageMetrics.ssim(tr.image, inputs[i], w, h, range(inputs[i]))
          : Double.NaN);
      if (check != null) {
        double[] q = check.probabilities(tr.image, 1)[0];
        t.addValue(pCheck, q[target[i]]);
        t.addValue("check_flipped", GuidedSampler.argmax(q) == target[i] ? 1 : 0);
      }
    }
    for (String col : new String[] {pIn, pCf, "l1", "ssim"}) {
      t.setDecimalPlaces(col, 6);
    }
    if (pCheck != null) t.setDecimalPlaces(pCheck, 6);
    return t;
  }

  /** The input's intensity range (at least a tiny positive number), the SSIM data range. */
  private static double range(float[] v) {
    float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
    for (float x : v) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    return Math.max(hi - lo, 1e-6);
  }

  static Table stepsTable(FloatStack image, List<GuidedSampler.Trace> traces, Classifier c) {
    Table t = new Table();
    String col = GuidedModels.probabilityColumn(c, "target");
    for (int i = 0; i < traces.size(); i++) {
      GuidedSampler.Trace tr = traces.get(i);
      for (int s = 0; s < tr.stepsUsed(); s++) {
        t.incrementCounter();
        t.addValue("slice", i + 1);
        t.addValue("step", s + 1);
        t.addValue("t", tr.timesteps[s]);
        t.addValue(col, tr.probability[s]);
        t.addValue("log_p_target_x0", tr.objective[s]);
      }
    }
    t.setDecimalPlaces(col, 6);
    t.setDecimalPlaces("log_p_target_x0", 6);
    return t;
  }
}
