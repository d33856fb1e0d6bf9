package org.diffxai.tf;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.Version;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.UserException;
import org.diffxai.io.Checksums;

/**
 * Writes a trained denoiser as a bundle: ONE directory that is itself a TensorFlow SavedModel ({@code saved_model.pb}
 * + {@code variables/}, EMA weights only) plus {@code scheduler_config.json} (diffusers DDPMScheduler keys),
 * {@code training.csv} (loss log) and {@code model.json} (format {@value #FORMAT}: sizes, intensity mapping, classes,
 * provenance, and the SHA-256 of every other file).
 *
 * <p>The bundle is written into a hidden temporary directory beside the target and renamed at the end: a failure or a
 * cancel leaves nothing behind.
 */
public final class BundleWriter {
  public static final String FORMAT = "diffusion-xai-denoiser/1";
  public static final String MODEL_JSON = "model.json";
  public static final String SCHEDULER_JSON = "scheduler_config.json";
  public static final String TRAINING_CSV = "training.csv";

  private BundleWriter() {}

  /** Descriptive fields of model.json. */
  public static final class Metadata {
    private String name = "denoiser";
    private String description = "";
    private String authors = "";
    private String license = "";
    private IntensityMapping intensity = IntensityMapping.IDENTITY;
    private List<String> classNames = Collections.emptyList();
    private int images;
    private String source = "";
    /** What the input reader did (org.diffxai.io.InputImages.Summary#toMap), or empty. */
    private Map<String, Object> input = new LinkedHashMap<>();

    public Metadata name(String v) {
      name = v;
      return this;
    }

    public Metadata description(String v) {
      description = v;
      return this;
    }

    public Metadata authors(String v) {
      authors = v;
      return this;
    }

    public Metadata license(String v) {
      license = v;
      return this;
    }

    /** image = model · scale + offset. */
    public Metadata intensity(IntensityMapping v) {
      intensity = v;
      return this;
    }

    /** Class names in label order (empty when unconditional). */
    public Metadata classNames(List<String> v) {
      classNames = new ArrayList<>(v);
      return this;
    }

    /** Number of training images. */
    public Metadata images(int v) {
      images = v;
      return this;
    }

    /** Where the training images came from (e.g. a folder name), for provenance. */
    public Metadata source(String v) {
      source = v;
      return this;
    }

    /**
     * The input summary of the training images (conversions, resizing, fit), recorded under {@code training.input}
     * in model.json, e.g. {@code folder.input().summary().toMap()}.
     */
    public Metadata input(Map<String, Object> v) {
      input = new LinkedHashMap<>(v);
      return this;
    }
  }

  /**
   * Writes the bundle of {@code trainer}'s EMA weights to {@code target}, which must not exist yet.
   *
   * @return the bundle directory
   * @throws UserException when the target exists or cannot be written
   * @throws org.diffxai.core.CancelledException when cancelled (nothing is left behind)
   */
  public static Path write(Path target, DenoiserTrainer trainer, Metadata meta, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    UNetConfig net = trainer.netConfig();
    if (meta.classNames.size() != net.numClasses()) {
      throw new IllegalArgumentException("Metadata has " + meta.classNames.size() + " class names, the network "
          + net.numClasses() + " classes");
    }
    Path dest = target.toAbsolutePath().normalize();
    if (Files.exists(dest)) {
      throw new UserException("Output " + dest + " already exists. Choose a new output folder or delete the old one.");
    }
    Path parent = dest.getParent();
    Path tmp;
    try {
      Files.createDirectories(parent);
      // Not Files.createTempDirectory: its 0700 permissions would end up on the bundle.
      tmp = Files.createDirectory(parent.resolve("." + dest.getFileName() + ".tmp-"
          + Long.toHexString(Double.doubleToLongBits(Math.random()))));
    } catch (IOException e) {
      throw new UserException("Cannot create the output folder " + dest + ": " + e.getMessage()
          + ". Choose a writable location.", e);
    }
    boolean done = false;
    try {
      progress.report("Saving denoiser bundle", Double.NaN);
      trainer.exportSavedModel(tmp);
      progress.checkCancelled();
      writeString(tmp.resolve(SCHEDULER_JSON), schedulerConfigJson());
      writeString(tmp.resolve(TRAINING_CSV), trainingCsv(trainer));
      Map<String, Object> model = modelJson(trainer, meta);
      model.put("sha256", checksums(tmp));
      writeString(tmp.resolve(MODEL_JSON), gson().toJson(model) + "\n");
      progress.checkCancelled();
      try {
        Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, dest);
      }
      done = true;
      return dest;
    } catch (FileAlreadyExistsException e) {
      throw new UserException("Output " + dest + " appeared while saving. Choose a new output folder.", e);
    } catch (IOException e) {
      throw new UserException("Cannot write the bundle to " + dest + ": " + e.getMessage()
          + ". Check free space and permissions.", e);
    } finally {
      if (!done) deleteRecursively(tmp);
    }
  }

  /**
   * The training schedule as a diffusers DDPMScheduler configuration: 1000 steps, linear β from 1e-4 to 0.02, ε
   * prediction, clip_sample, leading spacing (diffusers' defaults; Ho et al. 2020). The trainer draws ᾱ_t from the
   * same object, so training and sampling cannot disagree.
   */
  public static SchedulerConfig trainingSchedule() {
    return new SchedulerConfig().className("DDPMScheduler").setAlphaToOne(false);
  }

  /** {@link #trainingSchedule()} as scheduler_config.json text. */
  public static String schedulerConfigJson() {
    return trainingSchedule().toJson();
  }

  static String trainingCsv(DenoiserTrainer trainer) {
    float[] l = trainer.losses();
    double[] s = trainer.iterationSeconds();
    StringBuilder sb = new StringBuilder("iteration,loss,seconds\n");
    for (int i = 0; i < l.length; i++) {
      sb.append(i + 1).append(',').append(l[i]).append(',').append(String.format(Locale.ROOT, "%.3f", s[i]))
          .append('\n');
    }
    return sb.toString();
  }

  private static Map<String, Object> modelJson(DenoiserTrainer trainer, Metadata meta) {
    UNetConfig net = trainer.netConfig();
    TrainingOptions opts = trainer.options();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", FORMAT);
    m.put("name", meta.name);
    m.put("description", meta.description);
    m.put("sample_size", new int[] {net.height(), net.width()});
    m.put("channels", net.channels());
    Map<String, Object> intensity = new LinkedHashMap<>();
    intensity.put("scale", meta.intensity.scale);
    intensity.put("offset", meta.intensity.offset);
    m.put("intensity", intensity);
    m.put("class_names", meta.classNames);
    m.put("condition_channels", net.conditionChannels());
    m.put("authors", meta.authors);
    m.put("license", meta.license);
    Map<String, Object> sig = new LinkedHashMap<>();
    sig.put("tag", "serve");
    sig.put("key", "serving_default");
    List<String> inputs = new ArrayList<>();
    inputs.add("x");
    inputs.add("t");
    if (net.numClasses() > 0) inputs.add("label");
    if (net.conditionChannels() > 0) inputs.add("condition");
    sig.put("inputs", inputs);
    sig.put("output", DenoiserTrainer.OUTPUT_NAME);
    m.put("signature", sig);

    Map<String, Object> tr = new LinkedHashMap<>();
    tr.put("iterations", trainer.completedIterations());
    tr.put("batch", opts.batch());
    tr.put("learning_rate", decimal(opts.learningRate()));
    tr.put("seed", opts.seed());
    tr.put("ema_decay", decimal(opts.emaDecay()));
    tr.put("images", meta.images);
    tr.putAll(net.describe());
    Map<String, Object> rest = opts.describe();
    for (String k : new String[] {"iterations", "batch", "learning_rate", "seed", "ema_decay"}) rest.remove(k);
    for (Map.Entry<String, Object> e : rest.entrySet()) {
      tr.put(e.getKey(), e.getValue() instanceof Double ? decimal((Double) e.getValue()) : e.getValue());
    }
    tr.put("parameters", trainer.parameterCount());
    tr.put("final_loss", finalLoss(trainer.losses()));
    tr.put("final_loss_window", Math.min(50, trainer.completedIterations()));
    tr.put("seconds", Math.round(trainer.seconds() * 10) / 10.0);
    if (!meta.source.isEmpty()) tr.put("source", meta.source);
    if (!meta.input.isEmpty()) tr.put("input", meta.input);
    tr.put("software", "diffusion-xai " + Version.get());
    tr.put("tensorflow", org.tensorflow.TensorFlow.version());
    m.put("training", tr);
    return m;
  }

  /** Mean loss of the last (up to) 50 iterations: a single iteration's loss is too noisy to report. */
  static double finalLoss(float[] l) {
    int n = Math.min(50, l.length);
    if (n == 0) return Double.NaN;
    double s = 0;
    for (int i = l.length - n; i < l.length; i++) s += l[i];
    return new BigDecimal(s / n).round(new java.math.MathContext(6)).doubleValue();
  }

  /** Fractional values as plain decimals ("0.0002", not "2.0E-4"); others unchanged. */
  private static Object decimal(double d) {
    BigDecimal b = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    return b.scale() > 0 ? b : (Object) d;
  }

  /** SHA-256 (lower-case hex) of every regular file below dir except model.json, keyed by '/'-separated path. */
  public static Map<String, String> checksums(Path dir) throws IOException {
    Map<String, String> out = Checksums.fileHashes(dir);
    out.remove(MODEL_JSON);
    return out;
  }


  private static Gson gson() {
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
  }

  private static void writeString(Path p, String s) throws IOException {
    try (Writer w = Files.newBufferedWriter(p, StandardCharsets.UTF_8)) {
      w.write(s);
    }
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) Files.deleteIfExists(p);
    } catch (IOException e) {
      // Best effort: a leftover hidden temp folder is harmless and named after the target.
    }
  }
}
