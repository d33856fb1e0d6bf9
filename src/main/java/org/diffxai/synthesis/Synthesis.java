package org.diffxai.synthesis;

import com.google.gson.GsonBuilder;
import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.ResultsTable;
import ij.process.FloatProcessor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
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
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.DjlDenoiser;

/**
 * One synthesis run: opens a denoiser bundle, samples N images with DDPM or DDIM, keeps the trajectory, and writes the
 * outputs. The {@code Synthesize} command is a thin front over this class.
 *
 * <p>Outputs: the final samples in image units (bundle's intensity mapping), a trajectory hyperstack (channels x_t and
 * x̂₀ per model channel, slices = samples, frames = kept steps; also in image units, so x̂₀ is comparable with the
 * result) and a table with one row per sample. With an output directory the trajectory is streamed to
 * {@code trajectory.tif} as the sampler produces it (never held whole in memory) and {@code samples.tif},
 * {@code synthesis.csv} and {@code synthesis.json} (provenance) are written at the end; every file appears atomically,
 * and a failed or cancelled run leaves none.
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
    String info = infoText(prov);
    IntensityMapping map = bundle.intensity();
    List<KeptStep> plan = sampler.keptSteps();

    long t0 = System.nanoTime();
    Result result = new Result();
    result.provenance = prov;
    TrajectoryStacker stacker = null;
    StreamingTiffWriter writer = null;
    try {
      if (!plan.isEmpty()) {
        if (r.output != null) {
          writer = new StreamingTiffWriter(r.output.resolve(TRAJECTORY_FILE), w, h, 2 * c, n, plan.size());
          writer.info(info);
          for (Map.Entry<String, String> e : prov.entrySet()) writer.property(e.getKey(), e.getValue());
        }
        stacker = new TrajectoryStacker(w, h, c, n, map, writer);
      }
      float[][] x0 = sampler.run(stacker, progress);
      result.seconds = (System.nanoTime() - t0) / 1e9;
      progress.checkCancelled();
      result.modelSpace = x0;
      result.synthesized = samplesImage(x0, w, h, c, map, labels, classes);
      result.synthesized.setProperty("Info", info);
      result.table = table(result.synthesized, r, labels, classes, result.seconds / n, c);
      if (writer != null) {
        writer.close();
        writer = null;
      }
      if (stacker != null) {
        result.trajectory = r.output != null ? TrajectoryStacker.openVirtual(r.output.resolve(TRAJECTORY_FILE))
            : stacker.toImage(plan);
        result.trajectory.setProperty("Info", info);
      }
      if (r.output != null) writeOutputs(r.output, result);
    } catch (RuntimeException | IOException | Error e) {
      if (writer != null) writer.abort();
      throw e;
    }
    progress.report("Synthesized " + n + " sample" + (n == 1 ? "" : "s") + " in "
        + String.format(Locale.ROOT, "%.1f s", result.seconds), 1);
    return result;
  }

  private static void writeOutputs(Path dir, Result result) {
    StreamingTiffWriter.writeStack(dir.resolve(SAMPLES_FILE), result.synthesized);
    AtomicFiles.writeString(dir.resolve(TABLE_FILE), Csv.of(result.table));
    AtomicFiles.writeString(dir.resolve(PROVENANCE_FILE),
        new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(result.provenance) + "\n");
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

  static String infoText(Map<String, String> prov) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : prov.entrySet()) {
      sb.append(e.getKey()).append(" = ").append(e.getValue()).append('\n');
    }
    return sb.toString();
  }

  /**
   * Turns trajectory frames into planes (x_t then x̂₀ per model channel, per sample, in image units): into a
   * streaming TIFF when writing to disk, else into an in-memory stack.
   */
  static final class TrajectoryStacker implements TrajectorySink {
    private final int w, h, c, n;
    private final IntensityMapping map;
    private final StreamingTiffWriter writer;
    private final ImageStack stack;

    TrajectoryStacker(int w, int h, int c, int n, IntensityMapping map, StreamingTiffWriter writer) {
      this.w = w;
      this.h = h;
      this.c = c;
      this.n = n;
      this.map = map;
      this.writer = writer;
      this.stack = writer == null ? new ImageStack(w, h) : null;
    }

    @Override
    public void accept(TrajectoryFrame f) {
      String when = String.format(Locale.ROOT, "step %d t=%d abar=%.6g", f.stepIndex + 1, f.timestep,
          f.alphaCumprod);
      for (int i = 0; i < n; i++) {
        for (int kind = 0; kind < 2; kind++) {
          float[] sample = kind == 0 ? f.xt[i] : f.predOriginal[i];
          for (int ch = 0; ch < c; ch++) {
            float[] p = map.toImage(plane(sample, ch, c, w * h));
            String label = (kind == 0 ? "x_t" : "x0_pred") + (c > 1 ? "[" + (ch + 1) + "]" : "") + " sample "
                + (i + 1) + " " + when;
            if (writer != null) writer.writePlane(p, label);
            else stack.addSlice(label, new FloatProcessor(w, h, p));
          }
        }
      }
    }

    ImagePlus toImage(List<KeptStep> plan) {
      ImagePlus imp = new ImagePlus("Trajectory", stack);
      imp.setDimensions(2 * c, n, plan.size());
      imp.setOpenAsHyperStack(true);
      imp.resetDisplayRange();
      return imp;
    }

    static ImagePlus openVirtual(Path file) {
      ImagePlus imp = ij.IJ.openVirtual(file.toString());
      if (imp == null) imp = ij.IJ.openImage(file.toString());
      if (imp == null) throw new UserException("Could not reopen " + file + " after writing it.");
      imp.setTitle("Trajectory");
      return imp;
    }
  }
}
