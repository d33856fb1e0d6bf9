package org.diffxai.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.ClassNames;
import org.diffxai.core.ClassifierFreeGuidance;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DiffusionSampler;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.InfoText;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.KeptStep;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.Table;
import org.diffxai.core.TrajectoryFrame;
import org.diffxai.core.TrajectorySink;
import org.diffxai.core.UserException;
import org.diffxai.guidance.GuidedSampler;
import org.diffxai.io.FloatStack;
import org.diffxai.io.OmeTiffWriter;
import org.diffxai.io.Planes;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.io.StreamingTiffWriter.Compression;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.run.ResultImage.Look;
import org.diffxai.trajectory.Trajectory;
import org.scijava.plugin.Parameter;

/**
 * Synthesize: samples images with a diffusion denoiser bundle (DDPM or DDIM, diffusers-exact) and keeps the
 * denoising trajectory.
 *
 * <p>Outputs: the final samples in image units (the bundle's intensity mapping), a trajectory hyperstack (channels
 * x_t, x̂₀ and optionally ε̂ per model channel, slices = samples, frames = kept steps; x_t and x̂₀ in image units, ε̂ in
 * model units; see {@link Trajectory}) and a table with one row per sample. With an output folder the trajectory is
 * streamed to {@code trajectory.ome.tif} and {@code trajectory.tif} as the sampler produces it (never held whole in
 * memory); {@code samples.tif}, {@code synthesis.csv} and {@code synthesis.json} (provenance) follow at the end.
 */
public final class SynthesizeRun {
  public static final String COMMAND = "Synthesize";
  public static final String SAMPLES_FILE = "samples.tif";
  public static final String TRAJECTORY_FILE = "trajectory.tif";
  public static final String TRAJECTORY_OME_FILE = "trajectory.ome.tif";
  public static final String TABLE_FILE = "synthesis.csv";
  public static final String PROVENANCE_FILE = "synthesis.json";
  /**
   * cfg_scale=auto on a model with a "no class" label. Measured on the bundled sample (DDIM 50, 32 samples per label,
   * seed 1; docs/training.md): w = 0, 1, 3 give 66-73 %, 84-91 %, 100 % of healthy-labelled and 69-72 %, 78 %, 91-94 %
   * of lesion-labelled samples classified as their label by the three sample networks, at SSIM to the nearest
   * training phantom 0.606, 0.598, 0.582.
   */
  static final double CFG_AUTO = 3;

  /** The keys of Synthesize, with their defaults. */
  public static class Request extends ModelKeys {
    @Parameter(style = "model:denoiser", persist = false,
        description = "Denoiser bundle folder, or 'sample' for the bundled sample model")
    public String model = "sample";

    @Parameter(min = "1", persist = false, description = "Number of images to synthesize")
    public int samples = 4;

    @Parameter(min = "1", persist = false, description = "Denoising steps (1 to the model's num_train_timesteps)")
    public int steps = 50;

    @Parameter(choices = {"DDIM", "DDPM"}, persist = false, description = "Sampler")
    public String sampler = "DDIM";

    @Parameter(persist = false, description = "DDIM's noise level eta: 0 = deterministic, 1 = as much noise as DDPM")
    public double eta = 0;

    @Parameter(persist = false, description = "Random seed; sample i draws its noise from its own stream (seed, i)")
    public long seed = 0;

    @Parameter(required = false, persist = false,
        description = "Class name or index for class-conditional models; empty cycles through the classes")
    public String label = "";

    @Parameter(persist = false, description = "Classifier-free guidance w (Ho & Salimans 2022): each step uses"
        + " (1+w)*model(label) - w*model(no class), so samples follow their label more closely; needs a model trained"
        + " with label_dropout. 'auto' = " + CFG_AUTO + " for such models (the bundled sample is one), else 0; 0 = off")
    public String cfg_scale = "auto";

    @Parameter(style = "image", required = false, persist = false,
        description = "Condition channels (masks) for guided models: an open image or an image file; empty for none")
    public String condition = "";

    @Parameter(style = "file", required = false, persist = false,
        description = "Optional float32 TIFF holding the starting noise x_T in model space (N slices x C channels)")
    public String init = "";

    @Parameter(min = "0", persist = false,
        description = "Keep every k-th step as the trajectory (and always the last); 0 = no trajectory")
    public int keep_every = 0;

    @Parameter(persist = false, description = "Also keep the predicted noise eps_pred as a third trajectory channel")
    public boolean keep_noise;

    @Parameter(min = "1", persist = false, description = "Samples per model call (see docs: results depend on it"
        + " only within float tolerance)")
    public int batch = 8;

    @Parameter(style = "model:classifier", required = false, persist = false, description = "Classifier that guides"
        + " the sampling (a bundle folder or a bundled sample, e.g. sample-ppnet; it must give input gradients);"
        + " empty = unguided")
    public String guidance = "";

    @Parameter(required = false, persist = false, description = "Class the guidance maximises (name or index); empty"
        + " = the label; with a prototype, the class whose probability is reported")
    public String guidance_class = "";

    @Parameter(min = "-1", persist = false, description = "Prototype whose score the guidance maximises; -1 = the"
        + " class's log-probability")
    public int guidance_prototype = -1;

    @Parameter(min = "0", persist = false, description = "Guidance scale (strength of the classifier gradient)")
    public double guidance_scale = 10;
  }

  /** What a run produced. */
  public static final class Result {
    /** Final samples in image units (N slices × C channels). */
    public final FloatStack samples;
    /** Final samples in model space, [sample][H·W·C]. */
    public final float[][] modelSpace;
    public final Table table;
    public final Map<String, String> provenance;
    /** The images shown: the samples and the trajectory (null when keep_every = 0). */
    public final ResultImage synthesized;
    public final ResultImage trajectory;
    /** Files written (empty without an output folder). */
    public final List<Path> files;

    Result(FloatStack samples, float[][] modelSpace, Table table, Map<String, String> provenance,
        ResultImage synthesized, ResultImage trajectory, List<Path> files) {
      this.samples = samples;
      this.modelSpace = modelSpace;
      this.table = table;
      this.provenance = provenance;
      this.synthesized = synthesized;
      this.trajectory = trajectory;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().image(synthesized).image(trajectory).table("results", "Synthesis", table);
    }
  }

  private SynthesizeRun() {}

  /** Opens the request's model (and guidance classifier), samples, writes, closes the models. */
  public static Result run(Request r, Env env) {
    check(r);
    Planes init = blank(r.init) ? null : Inputs.file("init", java.nio.file.Paths.get(r.init.trim()));
    int[] shape = init == null ? null : new int[] {init.height(), init.width(), init.channels()};
    try (LoadedModel<Denoiser> m = Models.denoiser(r.model, r.deviceChoice(), shape, r.trust, env.progress)) {
      return run(r, m, env);
    }
  }

  /**
   * Samples with an opened denoiser (the caller closes it), opening and closing the {@code guidance} classifier when
   * one is given: the benchmark and tests give their own denoisers.
   */
  public static Result run(Request r, LoadedModel<Denoiser> m, Env env) {
    check(r);
    if (blank(r.guidance)) return run(r, m, null, env);
    try (LoadedModel<DifferentiableClassifier> g = Models.differentiableClassifier(r.guidance.trim(),
        r.deviceChoice(), r.batch, r.trust, env.progress)) {
      return run(r, m, g, env);
    }
  }

  /**
   * Samples with an opened denoiser and an opened guidance classifier (null = unguided; the caller closes both).
   * Guidance is {@link GuidedSampler}'s update applied inside the unguided loop, so the trajectory, DDPM, η, init and
   * condition work as without it.
   */
  public static Result run(Request r, LoadedModel<Denoiser> m, LoadedModel<DifferentiableClassifier> guide, Env env) {
    check(r);
    Progress progress = env.progress;
    double cfg = cfgScale(r.cfg_scale, m.get());
    Denoiser denoiser = ClassifierFreeGuidance.wrap(m.get(), cfg);
    SchedulerConfig config = m.scheduler();
    DiffusionScheduler scheduler = DiffusionScheduler.create(r.sampler, config, r.eta);
    final int h = denoiser.height(), w = denoiser.width(), c = denoiser.channels();
    final int n = r.samples;
    checkMemory(r, h, w, c);
    DiffusionSampler sampler = new DiffusionSampler(denoiser, scheduler).steps(r.steps).samples(n).seed(r.seed)
        .batchSize(r.batch).keepEvery(r.keep_every);

    int[] labels = null;
    List<String> classes = m.classNames();
    if (guide == null && (!blank(r.guidance_class) || r.guidance_prototype >= 0)) {
      throw new UserException("guidance_class and guidance_prototype steer by a classifier, but no guidance= is given."
          + " Set guidance=<classifier bundle> (e.g. guidance=sample-ppnet), or remove them for unguided sampling.");
    }
    Guidance guidance = guide == null ? null : Guidance.of(r, guide);
    if (denoiser.classConditional()) {
      labels = new int[n];
      if (blank(r.label) && guidance != null) {
        labels = CounterfactualRun.labels(m, guidance.className, n);
      } else if (blank(r.label)) {
        for (int i = 0; i < n; i++) labels[i] = i % Math.max(1, classes.size());
      } else {
        Arrays.fill(labels, ClassNames.index(classes, r.label, m.name(), "label"));
      }
      sampler.labels(labels);
    } else if (!blank(r.label)) {
      throw new UserException("Model " + m.name() + " is not class-conditional; remove label=" + r.label.trim() + ".");
    }
    if (!blank(r.init)) {
      FloatStack init = Inputs.file("init", java.nio.file.Paths.get(r.init.trim())).toFloatStack();
      if (init.bitDepth() != 32) throw new UserException("init=" + r.init + " must be a 32-bit float TIFF.");
      org.diffxai.io.ImageReaders.requireFinite(init, java.nio.file.Paths.get(r.init.trim()));
      checkSize("init", init, h, w, c);
      if (init.sampleCount() != n) {
        throw new UserException("The init image holds " + init.sampleCount() + " samples (slices) but samples=" + n
            + ". Set samples=" + init.sampleCount() + " or give one init slice per sample.");
      }
      sampler.init(split(init.toNHWC(), n));
    }
    if (!blank(r.condition)) {
      FloatStack cond = env.inputs.image("condition", r.condition).toFloatStack();
      int k = denoiser.conditionChannels();
      if (k == 0) {
        throw new UserException("Model " + m.name() + " takes no condition input; remove condition="
            + r.condition.trim() + ".");
      }
      checkSize("condition", cond, h, w, k);
      int count = cond.sampleCount();
      if (count == 1) sampler.condition(cond.toNHWC());
      else if (count == n) sampler.condition(split(cond.toNHWC(), n));
      else {
        throw new UserException("The condition image holds " + count + " slices for " + n + " samples. Give one slice"
            + " for all samples or one per sample.");
      }
    }

    GuidedSampler.Recorder recorder = null;
    if (guidance != null) {
      recorder = new GuidedSampler(denoiser, scheduler, guide.get(), m.intensity())
          .target(guidance.kind, guidance.index, guidance.classIndex).scale(r.guidance_scale).recorder(n, false);
      sampler.guide(recorder);
    }
    Map<String, String> prov = Provenance.of(COMMAND, r);
    prov.putAll(m.provenance());
    if (guidance != null) guidance.provenance(prov, r, guide);
    prov.put("scheduler_config", config.toJson().replaceAll("\\s+", " "));
    prov.put("cfg_scale.used", Double.toString(cfg));
    prov.put("noise", "sample i uses GaussianNoise.forSample(seed, i); its first H*W*C values are x_T");
    if (labels != null) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < labels.length; i++) sb.append(i == 0 ? "" : ",").append(labelName(labels, classes, i));
      prov.put("labels", sb.toString());
    }
    prov.put("units", "image units (model.json intensity mapping applied to model space)");
    IntensityMapping map = m.intensity();
    List<KeptStep> plan = sampler.keptSteps();
    Trajectory trajectory = plan.isEmpty() ? null : new Trajectory(w, h, r.keep_noise
        ? List.of(Trajectory.X_T, Trajectory.X0_PRED, Trajectory.EPS_PRED) : List.of(Trajectory.X_T,
        Trajectory.X0_PRED), c, n, plan, prov);

    try (OutputFolder out = OutputFolder.open(r, COMMAND, SAMPLES_FILE, TRAJECTORY_FILE, TRAJECTORY_OME_FILE,
        TABLE_FILE, PROVENANCE_FILE)) {
      TrajectoryStacker stacker = trajectory == null ? null : new TrajectoryStacker(trajectory, map, out, progress);
      long t0 = System.nanoTime();
      float[][] x0;
      try {
        x0 = sampler.run(stacker, progress);
        if (stacker != null) stacker.close();
      } catch (java.io.IOException e) {
        throw org.diffxai.io.AtomicFiles.cannotWrite(out.dir(), e);
      } finally {
        if (stacker != null) stacker.abort();
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      progress.checkCancelled();
      prov.put("seconds", String.format(Locale.ROOT, "%.3f", seconds));
      FloatStack samples = samplesStack(x0, w, h, c, map, labels, classes);
      Map<String, String> info = Map.of("Info", InfoText.of(prov));
      ResultImage synthesized = ResultImage.of("synthesized", "Synthesized", samples, info, Look.GREY);
      Table table = table(samples, r, labels, classes, c, guidance == null ? Map.of()
          : guidance.columns(samples, recorder, guide.get()));
      ResultImage shownTrajectory = null;
      if (out.active()) {
        out.tiff(SAMPLES_FILE, synthesized);
        out.csv(TABLE_FILE, table);
        out.json(PROVENANCE_FILE, prov);
      }
      List<Path> files = out.commit();
      if (trajectory != null) {
        Path tif = out.active() ? out.target(TRAJECTORY_FILE) : null;
        if (!out.active()) {
          shownTrajectory = ResultImage.of("trajectory", "Trajectory", stacker.inMemory(),
              trajectory.imageProperties(), trajectoryLooks(trajectory));
        } else if (files.contains(tif)) {
          shownTrajectory = ResultImage.ofFile("trajectory", "Trajectory", tif, trajectory.channels(),
              trajectory.imageProperties(), trajectoryLooks(trajectory));
        }
      }
      progress.report("Synthesized " + n + " sample" + (n == 1 ? "" : "s") + " in "
          + String.format(Locale.ROOT, "%.1f s", seconds), 1);
      return new Result(samples, x0, table, prov, synthesized, shownTrajectory, files);
    }
  }

  private static void check(Request r) {
    RequestKeys.of(Request.class).validate(r);
  }

  /** The guidance weight w of the key: 'auto' (see {@link #CFG_AUTO}) or a number >= 0. */
  static double cfgScale(String key, Denoiser d) {
    String k = key == null ? "" : key.trim();
    if (k.isEmpty() || k.equalsIgnoreCase("auto")) return d.classConditional() && d.unconditionalLabel() >= 0 ? CFG_AUTO : 0;
    try {
      return Double.parseDouble(k);
    } catch (NumberFormatException e) {
      throw new UserException("cfg_scale=" + k + " is not a number. Give a number >= 0 (e.g. cfg_scale=3), 0 for no "
          + "classifier-free guidance, or auto.");
    }
  }

  /**
   * Refuses a run whose images would not fit in memory, before it starts: the final samples (model space and image
   * units) and, without an output folder, the kept trajectory are held in memory.
   */
  private static void checkMemory(Request r, int h, int w, int c) {
    long perSample = (long) h * w * c * 4;
    long kept = r.keep_every == 0 ? 0 : r.steps / r.keep_every + 2;
    long channels = r.keep_noise ? 3 : 2;
    long bytes = perSample * r.samples * 3 + (r.outputPath() == null ? perSample * r.samples * kept * channels : 0);
    long max = Runtime.getRuntime().maxMemory();
    if (bytes > 0.8 * max) {
      throw new UserException(String.format(Locale.ROOT, "samples=%d needs about %.1f GB of memory for its images but"
          + " Java may use %.1f GB. Synthesize fewer samples per run%s.", r.samples, bytes / 1e9, max / 1e9,
          r.outputPath() == null && kept > 0 ? ", keep fewer steps, or give an output folder (the trajectory is then"
              + " streamed to disk)" : ""));
    }
  }

  private static Look[] trajectoryLooks(Trajectory tr) {
    Look[] looks = new Look[tr.channels()];
    for (int k = 0; k < tr.kinds().size(); k++) {
      for (int c = 0; c < tr.modelChannels(); c++) {
        looks[k * tr.modelChannels() + c] = tr.kinds().get(k).equals(Trajectory.EPS_PRED) ? Look.SIGNED : Look.GREY;
      }
    }
    return looks;
  }

  private static boolean blank(String s) {
    return s == null || s.trim().isEmpty();
  }

  private static void checkSize(String what, FloatStack s, int h, int w, int channels) {
    if (s.width != w || s.height != h || s.channels != channels) {
      throw new UserException("The " + what + " image is " + s.width + "x" + s.height + " with " + s.channels
          + " channel(s) but the model needs " + w + "x" + h + " with " + channels + " channel(s). Resize it or use"
          + " Image > Hyperstacks to set its channels.");
    }
  }

  private static float[][] split(float[] nhwc, int n) {
    int d = nhwc.length / n;
    float[][] out = new float[n][d];
    for (int i = 0; i < n; i++) System.arraycopy(nhwc, i * d, out[i], 0, d);
    return out;
  }

  /** Channel {@code ch} of an NHWC sample as a row-major plane. */
  static float[] plane(float[] sample, int ch, int channels, int hw) {
    float[] p = new float[hw];
    for (int i = 0; i < hw; i++) p[i] = sample[i * channels + ch];
    return p;
  }

  private static String labelName(int[] labels, List<String> classes, int i) {
    if (labels == null) return "";
    int l = labels[i];
    return l < classes.size() ? classes.get(l) : Integer.toString(l);
  }

  private static FloatStack samplesStack(float[][] x0, int w, int h, int c, IntensityMapping map, int[] labels,
      List<String> classes) {
    float[][] planes = new float[x0.length * c][];
    String[] names = new String[planes.length];
    for (int i = 0; i < x0.length; i++) {
      String lab = labelName(labels, classes, i);
      for (int ch = 0; ch < c; ch++) {
        planes[i * c + ch] = map.toImage(plane(x0[i], ch, c, w * h));
        names[i * c + ch] = "sample " + (i + 1) + (lab.isEmpty() ? "" : " " + lab) + (c > 1 ? " c" + (ch + 1) : "");
      }
    }
    return new FloatStack(w, h, c, x0.length, 1, planes, names);
  }

  /**
   * One row per sample: sample, seed, label, steps, sampler, eta, mean, sd, min, max (image units), then the
   * {@code extra} columns (the guidance's).
   */
  private static Table table(FloatStack samples, Request r, int[] labels, List<String> classes, int c,
      Map<String, double[]> extra) {
    Table t = new Table();
    for (int i = 0; i < r.samples; i++) {
      double sum = 0, sum2 = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
      long count = 0;
      for (int ch = 0; ch < c; ch++) {
        for (float v : samples.plane(i * c + ch)) {
          sum += v;
          sum2 += (double) v * v;
          min = Math.min(min, v);
          max = Math.max(max, v);
          count++;
        }
      }
      double mean = sum / count;
      double sd = Math.sqrt(Math.max(0, (sum2 - count * mean * mean) / Math.max(1, count - 1)));
      t.incrementCounter();
      t.addValue("sample", i + 1);
      t.addValue("seed", r.seed);
      t.addValue("label", labelName(labels, classes, i));
      t.addValue("steps", r.steps);
      t.addValue("sampler", r.sampler.toUpperCase(Locale.ROOT));
      t.addValue("eta", r.eta);
      t.addValue("mean", mean);
      t.addValue("sd", sd);
      t.addValue("min", min);
      t.addValue("max", max);
      for (Map.Entry<String, double[]> e : extra.entrySet()) t.addValue(e.getKey(), e.getValue()[i]);
    }
    for (String col : extra.keySet()) t.setDecimalPlaces(col, 6);
    return t;
  }

  /**
   * Turns trajectory frames into planes (per sample: x_t, x̂₀ and, when kept, ε̂, each per model channel; x_t and x̂₀
   * in image units, ε̂ in model units). With an output folder the planes stream into {@code trajectory.ome.tif} and,
   * when it fits in an ImageJ TIFF (4 GB), {@code trajectory.tif}; without one they are kept in memory.
   */
  static final class TrajectoryStacker implements TrajectorySink {
    private final Trajectory tr;
    private final IntensityMapping map;
    private final StreamingTiffWriter imagej;
    private final OmeTiffWriter ome;
    private final List<float[]> planes;
    private final List<String> labels;

    TrajectoryStacker(Trajectory tr, IntensityMapping map, OutputFolder out, Progress progress) {
      this.tr = tr;
      this.map = map;
      boolean files = out.active();
      this.planes = files ? null : new ArrayList<>();
      this.labels = files ? null : new ArrayList<>();
      this.ome = files ? tr.omeTiffWriter(out.path(TRAJECTORY_OME_FILE), Compression.NONE) : null;
      boolean fits = StreamingTiffWriter.fitsImageJ(tr.width(), tr.height(), tr.planeCount());
      if (files && !fits) {
        progress.report("The trajectory is too large for an ImageJ TIFF (4 GB): only " + TRAJECTORY_OME_FILE
            + " is written (BigTIFF; open it with Bio-Formats, napari or tifffile).", Double.NaN);
      }
      StreamingTiffWriter ij = null;
      try {
        if (files && fits) ij = tr.imagejWriter(out.path(TRAJECTORY_FILE));
      } catch (RuntimeException e) {
        if (ome != null) ome.abort();
        throw e;
      }
      this.imagej = ij;
    }

    @Override
    public void accept(TrajectoryFrame f) {
      int c = tr.modelChannels(), hw = tr.width() * tr.height();
      for (int i = 0; i < tr.samples(); i++) {
        for (String kind : tr.kinds()) {
          float[] sample = kind.equals(Trajectory.X_T) ? f.xt[i] : kind.equals(Trajectory.X0_PRED)
              ? f.predOriginal[i] : f.predEpsilon[i];
          for (int ch = 0; ch < c; ch++) {
            float[] p = plane(sample, ch, c, hw);
            if (!kind.equals(Trajectory.EPS_PRED)) p = map.toImage(p);
            String label = tr.label(tr.channel(kind, ch), i, f.keptIndex);
            if (ome != null) ome.writePlane(p, label);
            if (imagej != null) imagej.writePlane(p, label);
            if (planes != null) {
              planes.add(p);
              labels.add(label);
            }
          }
        }
      }
    }

    /** Finishes the files (they appear in the output folder when it commits). */
    void close() {
      if (ome != null) ome.close();
      if (imagej != null) imagej.close();
    }

    /** Drops unfinished files; harmless after {@link #close()}. */
    void abort() {
      if (ome != null) ome.abort();
      if (imagej != null) imagej.abort();
    }

    FloatStack inMemory() {
      return new FloatStack(tr.width(), tr.height(), tr.channels(), tr.samples(), tr.steps().size(),
          planes.toArray(new float[0][]), labels.toArray(new String[0]));
    }
  }

  /** What the guidance keys ask for, resolved against the classifier. */
  static final class Guidance {
    final Kind kind;
    final int index;
    final int classIndex;
    final String className;

    private Guidance(Kind kind, int index, int classIndex, String className) {
      this.kind = kind;
      this.index = index;
      this.classIndex = classIndex;
      this.className = className;
    }

    /**
     * The class is guidance_class, else the label, else (with a prototype of a prototype network) the prototype's
     * class.
     *
     * @throws UserException when none of them names the class
     */
    static Guidance of(Request r, LoadedModel<DifferentiableClassifier> g) {
      String key = blank(r.guidance_class) ? r.label : r.guidance_class;
      if (blank(key) && r.guidance_prototype >= 0 && g.get() instanceof PrototypeClassifier) {
        PrototypeClassifier pc = (PrototypeClassifier) g.get();
        if (r.guidance_prototype < pc.prototypes()) key = Integer.toString(pc.prototype(r.guidance_prototype).classIndex);
      }
      if (blank(key)) {
        throw new UserException("guidance=" + r.guidance.trim() + " needs the class to guide towards: give"
            + " guidance_class=<name or index> (one of " + g.classNames() + "), or label=<class>.");
      }
      String keyName = blank(r.guidance_class) ? "label" : "guidance_class";
      int c = ClassNames.index(g.classNames(), key.trim(), g.name(), keyName);
      Kind kind = r.guidance_prototype >= 0 ? Kind.PROTOTYPE_SCORE : Kind.LOG_PROBABILITY;
      return new Guidance(kind, r.guidance_prototype >= 0 ? r.guidance_prototype : c, c, g.classNames().get(c));
    }

    void provenance(Map<String, String> prov, Request r, LoadedModel<DifferentiableClassifier> g) {
      g.provenance().forEach((k, v) -> prov.put("guidance." + k, v));
      prov.put("guidance.objective", kind == Kind.PROTOTYPE_SCORE ? "score of prototype " + index
          : "log p(" + className + " | x0_pred)");
      prov.put("guidance.method", "classifier guidance on x0_pred (Dhariwal & Nichol 2021, x0 form; docs/guidance.md),"
          + " scale " + r.guidance_scale + ", inside the " + r.sampler.toUpperCase(Locale.ROOT) + " loop; the"
          + " trajectory's x0_pred and eps_pred are the guided ones");
      prov.put("guidance.probability", GuidedModels.probabilityNote(g.get()));
    }

    /** Table columns: the guided class's probability of each final sample, the objective at the last step. */
    Map<String, double[]> columns(FloatStack samples, GuidedSampler.Recorder rec, DifferentiableClassifier c) {
      int n = samples.sampleCount();
      double[][] p = c.confidence().probabilities(c.logits(samples.toNHWC(), n));
      double[] pc = new double[n];
      double[] f = new double[n];
      for (int i = 0; i < n; i++) {
        GuidedSampler.Trace tr = rec.trace(i, null, -1);
        pc[i] = p[i][classIndex];
        f[i] = tr.objective[tr.objective.length - 1];
      }
      Map<String, double[]> out = new java.util.LinkedHashMap<>();
      out.put(GuidedModels.probabilityColumn(c, className), pc);
      out.put("objective_last_step", f);
      return out;
    }
  }
}
