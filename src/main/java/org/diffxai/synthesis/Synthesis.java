package org.diffxai.synthesis;

import com.google.gson.GsonBuilder;
import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.ResultsTable;
import ij.process.FloatProcessor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.Version;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DiffusionSampler;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.KeptStep;
import org.diffxai.core.Progress;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.TrajectoryFrame;
import org.diffxai.core.TrajectorySink;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Csv;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;
import org.diffxai.io.OmeTiffWriter;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.io.StreamingTiffWriter.Compression;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.DjlDenoiser;
import org.diffxai.trajectory.Trajectory;

/**
 * One synthesis run: opens a denoiser bundle, samples N images with DDPM or DDIM, keeps the trajectory, and writes the
 * outputs. The {@code Synthesize} command is a thin front over this class.
 *
 * <p>Outputs: the final samples in image units (bundle's intensity mapping), a trajectory hyperstack (channels x_t,
 * x̂₀ and optionally ε̂ per model channel, slices = samples, frames = kept steps; x_t and x̂₀ also in image units, so x̂₀
 * is comparable with the result; see {@link Trajectory}) and a table with one row per sample. With an output directory
 * the trajectory is streamed to {@code trajectory.ome.tif} and {@code trajectory.tif} as the sampler produces it (never
 * held whole in memory) and {@code samples.tif}, {@code synthesis.csv} and {@code synthesis.json} (provenance) are
 * written at the end; every file appears atomically, and a failed or cancelled run leaves none.
 */
public final class Synthesis {

  /** What to run. Field names follow the command's macro keys. */
  public static final class Request {
    public String model = "sample";
    public int samples = 4;
    public int steps = 50;
    public String sampler = "DDIM";
    public double eta = 0;
    public long seed = 0;
    /** Class name or index; empty: class-conditional models cycle through their classes. */
    public String label = "";
    /** Condition channels (K channels × 1 or N slices), or null. */
    public FloatStack condition;
    /** Name of the condition's source, for the record. */
    public String conditionSource = "";
    /** x_T in model space (N slices × C channels), or null to draw it from the seed. */
    public FloatStack init;
    public String initSource = "";
    public int keepEvery = 0;
    /** Also keep the predicted noise ε̂ as a third trajectory channel. */
    public boolean keepNoise;
    public int batch = 8;
    public String device = "auto";
    /** Output directory, or null. */
    public Path output;
    /** A denoiser to use instead of loading {@link #model} (benchmarks, tests); its bundle fields come from model. */
    public Denoiser denoiserOverride;
    public SchedulerConfig schedulerOverride;
  }

  /** What a run produced. */
  public static final class Result {
    /** Final samples in image units (N slices × C channels). */
    public ImagePlus synthesized;
    /** Trajectory hyperstack, or null when keep_every = 0 (virtual, read from disk, when written to a directory). */
    public ImagePlus trajectory;
    public ResultsTable table;
    /** Final samples in model space, [sample][H·W·C]. */
    public float[][] modelSpace;
    public Map<String, String> provenance;
    public double seconds;
  }

  public static final String SAMPLES_FILE = "samples.tif";
  public static final String TRAJECTORY_FILE = "trajectory.tif";
  public static final String TRAJECTORY_OME_FILE = "trajectory.ome.tif";
  public static final String TABLE_FILE = "synthesis.csv";
  public static final String PROVENANCE_FILE = "synthesis.json";

  private Synthesis() {}

  public static Result run(Request r, Progress progress) throws IOException {
    if (progress == null) progress = Progress.NONE;
    if (r.output != null) AtomicFiles.ensureDirectory(r.output);

    progress.report("Opening model " + r.model, Double.NaN);
    DenoiserBundle bundle = DenoiserBundle.open(r.model);
    SchedulerConfig config =
        r.schedulerOverride != null ? r.schedulerOverride : SchedulerConfig.fromJson(bundle.schedulerConfigJson());
    DiffusionScheduler scheduler = DiffusionScheduler.create(r.sampler, config, r.eta);

    Denoiser denoiser = r.denoiserOverride;
    boolean owned = denoiser == null;
    if (owned) {
      int[] shape = r.init == null ? null : new int[] {r.init.height, r.init.width, r.init.channels};
      denoiser = DjlDenoiser.load(bundle, r.device, shape);
    }
    try {
      return sample(r, bundle, config, scheduler, denoiser, progress);
    } finally {
      if (owned) denoiser.close();
    }
  }

  private static Result sample(Request r, DenoiserBundle bundle, SchedulerConfig config, DiffusionScheduler scheduler,
      Denoiser denoiser, Progress progress) throws IOException {
    final int h = denoiser.height(), w = denoiser.width(), c = denoiser.channels();
    final int n = r.samples;
    DiffusionSampler sampler = new DiffusionSampler(denoiser, scheduler).steps(r.steps).samples(n).seed(r.seed)
        .batchSize(r.batch).keepEvery(r.keepEvery);

    int[] labels = null;
    List<String> classes = bundle.classNames();
    if (denoiser.classConditional()) {
      labels = new int[n];
      if (r.label == null || r.label.trim().isEmpty()) {
        for (int i = 0; i < n; i++) labels[i] = i % Math.max(1, classes.size());
      } else {
        java.util.Arrays.fill(labels, bundle.labelIndex(r.label));
      }
      sampler.labels(labels);
    } else if (r.label != null && !r.label.trim().isEmpty()) {
      throw new UserException("Model " + bundle.name() + " is not class-conditional; remove label=" + r.label + ".");
    }
    if (r.init != null) {
      checkSize("init", r.init, h, w, c);
      if (r.init.sampleCount() != n) {
        throw new UserException("The init image holds " + r.init.sampleCount() + " samples (slices) but samples=" + n
            + ". Set samples=" + r.init.sampleCount() + " or give one init slice per sample.");
      }
      sampler.init(split(r.init.toNHWC(), n));
    }
    if (r.condition != null) {
      int k = denoiser.conditionChannels();
      if (k == 0) {
        throw new UserException("Model " + bundle.name() + " takes no condition input; remove condition="
            + r.conditionSource + ".");
      }
      checkSize("condition", r.condition, h, w, k);
      int m = r.condition.sampleCount();
      if (m == 1) sampler.condition(r.condition.toNHWC());
      else if (m == n) sampler.condition(split(r.condition.toNHWC(), n));
      else {
        throw new UserException("The condition image holds " + m + " slices for " + n + " samples. Give one slice for"
            + " all samples or one per sample.");
      }
    }

    Map<String, String> prov = provenance(r, bundle, config, denoiser, labels, classes);
    String info = Trajectory.infoText(prov);
    IntensityMapping map = bundle.intensity();
    List<KeptStep> plan = sampler.keptSteps();
    Trajectory trajectory = plan.isEmpty() ? null : new Trajectory(w, h, r.keepNoise
        ? List.of(Trajectory.X_T, Trajectory.X0_PRED, Trajectory.EPS_PRED) : List.of(Trajectory.X_T,
        Trajectory.X0_PRED), c, n, plan, prov);

    long t0 = System.nanoTime();
    Result result = new Result();
    result.provenance = prov;
    TrajectoryStacker stacker = null;
    List<Path> committed = new ArrayList<>();
    try {
      if (trajectory != null) stacker = new TrajectoryStacker(trajectory, map, r.output, progress);
      float[][] x0 = sampler.run(stacker, progress);
      result.seconds = (System.nanoTime() - t0) / 1e9;
      progress.checkCancelled();
      result.modelSpace = x0;
      result.synthesized = samplesImage(x0, w, h, c, map, labels, classes);
      result.synthesized.setProperty("Info", info);
      result.table = table(result.synthesized, r, labels, classes, result.seconds / n, c);
      if (stacker != null) {
        stacker.close(committed);
        Path tif = r.output == null ? null : r.output.resolve(TRAJECTORY_FILE);
        if (tif == null) result.trajectory = trajectory.describe(stacker.toImage());
        else if (committed.contains(tif)) result.trajectory = ImageReaders.openVirtual(tif);
        if (result.trajectory != null) result.trajectory.setTitle("Trajectory");
      }
      if (r.output != null) writeOutputs(r.output, result, committed);
    } catch (RuntimeException | IOException | Error e) {
      if (stacker != null) stacker.abort();
      for (Path f : committed) AtomicFiles.deleteRecursively(f); // a failed run leaves no file behind
      throw e;
    }
    progress.report("Synthesized " + n + " sample" + (n == 1 ? "" : "s") + " in "
        + String.format(Locale.ROOT, "%.1f s", result.seconds), 1);
    return result;
  }

  private static void writeOutputs(Path dir, Result result, List<Path> committed) {
    committed.add(StreamingTiffWriter.writeStack(dir.resolve(SAMPLES_FILE), result.synthesized));
    committed.add(AtomicFiles.writeString(dir.resolve(TABLE_FILE), Csv.of(result.table)));
    committed.add(AtomicFiles.writeString(dir.resolve(PROVENANCE_FILE),
        new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(result.provenance) + "\n"));
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

  private static ImagePlus samplesImage(float[][] x0, int w, int h, int c, IntensityMapping map, int[] labels,
      List<String> classes) {
    ImageStack stack = new ImageStack(w, h);
    for (int i = 0; i < x0.length; i++) {
      for (int ch = 0; ch < c; ch++) {
        float[] p = map.toImage(plane(x0[i], ch, c, w * h));
        String lab = labelName(labels, classes, i);
        stack.addSlice("sample " + (i + 1) + (lab.isEmpty() ? "" : " " + lab) + (c > 1 ? " c" + (ch + 1) : ""),
            new FloatProcessor(w, h, p));
      }
    }
    ImagePlus imp = new ImagePlus("Synthesized", stack);
    imp.setDimensions(c, x0.length, 1);
    if (c > 1) imp.setOpenAsHyperStack(true);
    imp.resetDisplayRange();
    return imp;
  }

  private static ResultsTable table(ImagePlus samples, Request r, int[] labels, List<String> classes,
      double secondsPerSample, int c) {
    ResultsTable rt = new ResultsTable();
    ImageStack stack = samples.getStack();
    for (int i = 0; i < r.samples; i++) {
      double sum = 0, sum2 = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
      long count = 0;
      for (int ch = 0; ch < c; ch++) {
        float[] p = (float[]) stack.getPixels(i * c + ch + 1);
        for (float v : p) {
          sum += v;
          sum2 += (double) v * v;
          min = Math.min(min, v);
          max = Math.max(max, v);
          count++;
        }
      }
      double mean = sum / count;
      double sd = Math.sqrt(Math.max(0, (sum2 - count * mean * mean) / Math.max(1, count - 1)));
      rt.incrementCounter();
      rt.addValue("sample", i + 1);
      rt.addValue("seed", r.seed);
      rt.addValue("label", labelName(labels, classes, i));
      rt.addValue("steps", r.steps);
      rt.addValue("sampler", r.sampler.toUpperCase(Locale.ROOT));
      rt.addValue("eta", r.eta);
      rt.addValue("seconds", secondsPerSample);
      rt.addValue("mean", mean);
      rt.addValue("sd", sd);
      rt.addValue("min", min);
      rt.addValue("max", max);
    }
    rt.setDecimalPlaces(rt.getColumnIndex("seconds"), 4);
    return rt;
  }

  private static Map<String, String> provenance(Request r, DenoiserBundle bundle, SchedulerConfig config,
      Denoiser denoiser, int[] labels, List<String> classes) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("software", "Diffusion XAI for Fiji " + Version.get());
    m.put("command", "Synthesize");
    m.put("date", OffsetDateTime.now().toString());
    if (denoiser instanceof DjlDenoiser) m.putAll(((DjlDenoiser) denoiser).provenance());
    else m.putAll(bundle.provenance());
    m.put("scheduler_config", config.toJson().replaceAll("\\s+", " "));
    m.put("sampler", r.sampler.toUpperCase(Locale.ROOT));
    m.put("steps", Integer.toString(r.steps));
    m.put("eta", Double.toString(r.eta));
    m.put("seed", Long.toString(r.seed));
    m.put("noise", "sample i uses GaussianNoise.forSample(seed, i); its first H*W*C values are x_T");
    m.put("samples", Integer.toString(r.samples));
    m.put("batch", Integer.toString(r.batch));
    m.put("keep_every", Integer.toString(r.keepEvery));
    m.put("keep_noise", Boolean.toString(r.keepNoise));
    if (labels != null) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < labels.length; i++) sb.append(i == 0 ? "" : ",").append(labelName(labels, classes, i));
      m.put("labels", sb.toString());
    }
    m.put("condition", r.condition == null ? "" : r.conditionSource);
    m.put("init", r.init == null ? "" : r.initSource);
    m.put("units", "image units (model.json intensity mapping applied to model space)");
    return m;
  }

  /**
   * Turns trajectory frames into planes (per sample: x_t, x̂₀ and, when kept, ε̂, each per model channel; x_t and x̂₀
   * in image units, ε̂ in model units). With an output directory the planes stream into {@code trajectory.ome.tif}
   * and, when it fits in an ImageJ TIFF (4 GB), {@code trajectory.tif}; without one they go into an in-memory stack.
   */
  static final class TrajectoryStacker implements TrajectorySink {
    private final Trajectory tr;
    private final IntensityMapping map;
    private final StreamingTiffWriter imagej;
    private final OmeTiffWriter ome;
    private final ImageStack stack;

    TrajectoryStacker(Trajectory tr, IntensityMapping map, Path output, Progress progress) {
      this.tr = tr;
      this.map = map;
      this.stack = output == null ? new ImageStack(tr.width(), tr.height()) : null;
      this.ome = output == null ? null : tr.omeTiffWriter(output.resolve(TRAJECTORY_OME_FILE), Compression.NONE);
      boolean fits = StreamingTiffWriter.fitsImageJ(tr.width(), tr.height(), tr.planeCount());
      if (output != null && !fits) {
        progress.report("The trajectory is too large for an ImageJ TIFF (4 GB): only " + TRAJECTORY_OME_FILE
            + " is written (BigTIFF; open it with Bio-Formats, napari or tifffile).", Double.NaN);
      }
      StreamingTiffWriter ij = null;
      try {
        if (output != null && fits) ij = tr.imagejWriter(output.resolve(TRAJECTORY_FILE));
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
            if (stack != null) stack.addSlice(label, new FloatProcessor(tr.width(), tr.height(), p));
          }
        }
      }
    }

    /** Commits the files, adding each to {@code committed} as soon as it is in place. */
    void close(List<Path> committed) {
      if (ome != null) {
        ome.close();
        committed.add(ome.target());
      }
      if (imagej != null) {
        imagej.close();
        committed.add(imagej.target());
      }
    }

    void abort() {
      if (ome != null) ome.abort();
      if (imagej != null) imagej.abort();
    }

    ImagePlus toImage() {
      ImagePlus imp = new ImagePlus("Trajectory", stack);
      imp.resetDisplayRange();
      return imp;
    }
  }
}
