package org.diffxai.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.Chart;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Fit;
import org.diffxai.io.ImageFolder;
import org.diffxai.io.ImageInput;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.tf.BundleWriter;
import org.diffxai.tf.DenoiserCheckpoint;
import org.diffxai.tf.DenoiserTrainer;
import org.diffxai.tf.TrainingData;
import org.diffxai.tf.TrainingOptions;
import org.diffxai.tf.UNetConfig;
import org.scijava.plugin.Parameter;

/**
 * Train Denoiser: trains a diffusion denoiser (DDPM UNet, ε or v prediction) on a folder of 2-D images and saves it as
 * a denoiser bundle in the output folder (SavedModel + scheduler_config.json + model.json + training.csv; see
 * docs/training.md), written through {@link OutputFolder} (staged, moved into place at the end; a failed or cancelled
 * run leaves no bundle). The result is the loss log as a table and a chart.
 *
 * <p>Checkpoints live BESIDE the bundle, in {@code <output>.checkpoint} ({@link DenoiserCheckpoint}): they must
 * survive a cancel or a crash, which is exactly what OutputFolder's staging undoes, and they are rewritten during the
 * run, while a result folder only changes at commit. Each checkpoint is itself written atomically.
 */
public final class TrainDenoiserRun {
  public static final String COMMAND = "Train Denoiser";

  /** Lower and upper intensity percentiles mapped to model values −1 and +1. */
  static final double LOW_PERCENT = 0.5;
  static final double HIGH_PERCENT = 99.5;
  static final String AUTO = "auto";
  /** Self-attention only while the lowest level has at most this many positions (its cost grows with their square). */
  static final int MAX_ATTENTION_POSITIONS = 32 * 32;

  /** The keys of Train Denoiser; {@code output} is the bundle folder to create. */
  public static class Request extends OutputKeys {
    @Parameter(style = "directory", persist = false, description = "Folder of training images (TIFF, PNG, JPEG,"
        + " DICOM, ...); with labels, one sub-folder per class")
    public String images = "";

    @Parameter(min = "8", persist = false, description = "Side length in pixels the images are brought to (square)")
    public int size = 64;

    @Parameter(choices = {"pad", "crop", "stretch"}, persist = false, description = Fit.KEY_DESCRIPTION)
    public String fit = Fit.KEY_DEFAULT;

    @Parameter(min = "1", persist = false, description = "Training iterations (optimizer steps); ignored when"
        + " epochs > 0")
    public int iterations = 3000;

    @Parameter(min = "0", persist = false, description = "If > 0: train this many passes over the images instead of"
        + " 'iterations'")
    public int epochs = 0;

    @Parameter(min = "1", persist = false, description = "Images per iteration")
    public int batch = 16;

    @Parameter(persist = false, description = "Adam learning rate")
    public double learning_rate = 5e-4;

    @Parameter(persist = false, description = "Random seed: the same seed and data give the same training run on the"
        + " same machine")
    public long seed = 1;

    @Parameter(persist = false, description = "Use sub-folder names as classes (class-conditional model)")
    public boolean labels;

    @Parameter(min = "8", persist = false, description = "Channels of the first UNet level (a multiple of 8)")
    public int base_channels = 32;

    @Parameter(persist = false, description = "Channel multiplier per resolution level, comma-separated (e.g. 1,2,4),"
        + " or 'auto': halve down to 16 pixels with 1,2,4,4,4")
    public String channel_multipliers = AUTO;

    @Parameter(persist = false, description = "Decay of the exponential moving average of the weights that is saved")
    public double ema_decay = 0.999;

    @Parameter(persist = false, description = "Randomly mirror training images left-right")
    public boolean flip;

    @Parameter(choices = {"epsilon", "v_prediction"}, persist = false,
        description = "What the network predicts: epsilon (the noise) or v_prediction (the velocity)")
    public String prediction = "epsilon";

    @Parameter(choices = {"linear", "squaredcos_cap_v2"}, persist = false,
        description = "Noise schedule: linear (DDPM) or squaredcos_cap_v2 (cosine)")
    public String schedule = "linear";

    @Parameter(min = "0", persist = false, description = "Min-SNR loss weighting gamma (e.g. 5); 0 = off")
    public double min_snr_gamma = 0;

    @Parameter(min = "0", persist = false, description = "Share of samples trained without their class label (e.g."
        + " 0.1), so the model also learns the unconditional model classifier-free guidance needs; 0 = none")
    public double label_dropout = 0;

    @Parameter(persist = false, description = "Classifier-free guidance scale built into the saved model (e.g. 1);"
        + " needs label_dropout > 0; 0 = none")
    public double guidance_scale = 0;

    @Parameter(min = "0", persist = false, description = "Learning-rate warm-up iterations")
    public int warmup = 100;

    @Parameter(min = "0", persist = false, description = "Write a checkpoint (to resume from) to <output>.checkpoint"
        + " every this many iterations, at the end and on cancel; 0 = no checkpoint")
    public int checkpoint_every = 500;

    @Parameter(required = false, style = "directory", persist = false, description = "Continue training from this"
        + " checkpoint folder or bundle (its checkpoint beside it); 'iterations' is the new total")
    public String resume = "";

    @Parameter(required = false, persist = false, description = "Model name for model.json (default: the output"
        + " folder name)")
    public String name = "";

    @Parameter(required = false, persist = false, description = "Free-text description for model.json")
    public String description = "";

    @Parameter(required = false, persist = false, description = "Authors for model.json")
    public String authors = "";

    @Parameter(required = false, persist = false, description = "License of the trained model for model.json")
    public String license = "";
  }

  /** What a run produced. */
  public static final class Result {
    /** The bundle folder (the output folder). */
    public final Path bundle;
    /** One row per iteration of this model's whole training (resumed runs included): iteration, loss, seconds. */
    public final Table losses;
    public final Chart chart;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(Path bundle, Table losses, Chart chart, Map<String, String> provenance, List<Path> files) {
      this.bundle = bundle;
      this.losses = losses;
      this.chart = chart;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().table("training", "Training", losses).chart("loss", chart);
    }
  }

  private TrainDenoiserRun() {}

  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    Path out = r.outputPath();
    if (out == null) throw new UserException("No output given. Set output=... to the bundle folder to create.");
    Path in = folder(r.images, "images", "the folder of training images");
    int[] mult = AUTO.equalsIgnoreCase(nz(r.channel_multipliers).trim()) ? autoMultipliers(r.size)
        : parseMultipliers(r.channel_multipliers);
    check(r, mult.length);
    Fit fit = Fit.of(r.fit);
    Path besideOutput = out.resolveSibling(out.getFileName() + DenoiserCheckpoint.SUFFIX);
    Path checkpointDir = r.checkpoint_every > 0 ? besideOutput : null;
    DenoiserCheckpoint checkpoint = nz(r.resume).trim().isEmpty() ? null
        : DenoiserCheckpoint.read(folder(r.resume, "resume", "the checkpoint to continue"));
    // An earlier run's checkpoint beside the output is only replaced with overwrite (or continued with resume).
    boolean stale = Files.exists(besideOutput) && (checkpoint == null || !checkpoint.directory().equals(besideOutput));
    if (stale && !r.overwrite) {
      throw new UserException("The checkpoint folder " + besideOutput + " of an earlier run exists. Continue it with"
          + " resume=" + besideOutput + ", or add overwrite to replace that run, or choose another output.");
    }

    Progress p = env.progress;
    // The bundle's files: a SavedModel (saved_model.pb, fingerprint.pb, variables/, assets/) and its descriptors.
    try (OutputFolder folder = OutputFolder.open(r, COMMAND, "*", "variables/*", "assets/*")) {
      ImageFolder images = ImageFolder.load(in, ImageInput.Settings.size(r.size, r.size).fit(fit)
          .cache(DenoiserBundle.defaultCacheDir().resolve("datasets")), r.labels, p.sub(0, 0.05));
      IntensityMapping mapping = images.percentileMapping(LOW_PERCENT, HIGH_PERCENT);
      TrainingData data = TrainingData.of(r.size, r.size, 1, images.toModelSpace(mapping));
      if (r.labels) data = data.withLabels(images.labels(), images.classNames());

      int iters = r.epochs > 0 ? (int) Math.max(1, Math.ceil((double) r.epochs * images.count() / r.batch))
          : r.iterations;
      int levels = mult.length;
      UNetConfig net = new UNetConfig().size(r.size, r.size).channels(1)
          .numClasses(r.labels ? images.classNames().size() : 0).baseChannels(r.base_channels)
          .channelMultipliers(mult).groups(8).layersPerBlock(1)
          .attention(Math.pow(r.size >> (levels - 1), 2) <= MAX_ATTENTION_POSITIONS)
          .unconditionalLabel(r.label_dropout > 0);
      TrainingOptions opts = new TrainingOptions().iterations(iters).batch(r.batch).learningRate(r.learning_rate)
          .warmupIterations(r.warmup).seed(r.seed).emaDecay(r.ema_decay).flip(r.flip).predictionType(r.prediction)
          .betaSchedule(r.schedule).minSnrGamma(r.min_snr_gamma).labelDropout(r.label_dropout);

      String modelName = nz(r.name).trim().isEmpty() ? out.getFileName().toString() : r.name.trim();
      Map<String, String> prov = Provenance.of(COMMAND, r);
      try (DenoiserTrainer trainer = new DenoiserTrainer(net, opts)) {
        if (checkpoint != null) trainer.restore(checkpoint, data);
        trainer.checkpoints(checkpointDir, r.checkpoint_every);
        trainer.train(data, p.sub(0.05, 0.97));
        BundleWriter.Metadata meta = new BundleWriter.Metadata().name(modelName).description(nz(r.description))
            .authors(nz(r.authors)).license(nz(r.license)).intensity(mapping).classNames(images.classNames())
            .images(images.count()).source(in.getFileName() == null ? "" : in.getFileName().toString())
            .guidanceScale(r.guidance_scale).input(images.input().summary().toMap());
        try {
          for (String f : BundleWriter.writeFiles(folder.root(), trainer, meta, p.sub(0.97, 1.0))) folder.adopt(f);
        } catch (IOException e) {
          throw AtomicFiles.cannotWrite(out, e);
        }
        List<Path> files = folder.commit();
        // with overwrite and no new checkpoints, the earlier run's checkpoint would not belong to the new bundle
        if (stale && checkpointDir == null) AtomicFiles.deleteRecursively(besideOutput);
        Table losses = lossTable(trainer);
        prov.put("iterations_completed", String.valueOf(trainer.completedIterations()));
        prov.putAll(images.input().summary().toStrings());
        p.report(String.format(Locale.ROOT, "Saved denoiser %s (%d iterations, final loss %.4f)", out,
            trainer.completedIterations(), trainer.losses()[trainer.completedIterations() - 1]), 1.0);
        return new Result(folder.dir(), losses, lossChart(losses, modelName), prov, files);
      }
    }
  }

  private static void check(Request r, int levels) {
    if (r.size % (1 << (levels - 1)) != 0) {
      throw new UserException("size=" + r.size + " must be at least 8 and divisible by " + (1 << (levels - 1))
          + " (the UNet halves it " + (levels - 1) + " times). Use e.g. size=64.");
    }
    if (r.base_channels % 8 != 0) {
      throw new UserException("base_channels=" + r.base_channels + " must be a multiple of 8 (GroupNorm uses 8"
          + " groups). Use e.g. base_channels=32.");
    }
    if (!(r.learning_rate > 0 && r.learning_rate < 1)) {
      throw new UserException("learning_rate=" + r.learning_rate + " must be between 0 and 1, e.g. 0.0005.");
    }
    if (!(r.ema_decay >= 0 && r.ema_decay < 1)) {
      throw new UserException("ema_decay=" + r.ema_decay + " must be in [0, 1), e.g. 0.999.");
    }
    if (!(r.label_dropout >= 0 && r.label_dropout < 1) || r.label_dropout > 0 && !r.labels) {
      throw new UserException("label_dropout=" + r.label_dropout + " must be in [0, 1) and needs labels (class"
          + " sub-folders), e.g. label_dropout=0.1 labels.");
    }
    if (r.guidance_scale != 0 && r.label_dropout == 0) {
      throw new UserException("guidance_scale=" + r.guidance_scale + " needs a model trained with label_dropout > 0"
          + " (e.g. 0.1). Set label_dropout or leave guidance_scale at 0.");
    }
  }

  /** The loss log: iteration, loss and seconds per iteration. */
  static Table lossTable(DenoiserTrainer trainer) {
    Table t = new Table();
    float[] l = trainer.losses();
    double[] s = trainer.iterationSeconds();
    for (int i = 0; i < l.length; i++) {
      t.incrementCounter();
      t.addValue("iteration", i + 1);
      t.addValue("loss", l[i]);
      t.addValue("seconds", s[i]);
    }
    t.setDecimalPlaces("loss", 6);
    t.setDecimalPlaces("seconds", 3);
    return t;
  }

  static Chart lossChart(Table losses, String model) {
    double[] x = new double[losses.size()], y = new double[losses.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = losses.getValue("iteration", i);
      y[i] = losses.getValue("loss", i);
    }
    return new Chart("Training loss of " + model, "iteration", "loss")
        .add("loss", x, y, Chart.Style.LINE, Chart.PALETTE[0]);
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  /** The absolute path the user gave for {@code key}; a clear error when none. */
  private static Path folder(String s, String key, String what) {
    if (s == null || s.trim().isEmpty()) {
      throw new UserException("No " + key + " given. Set " + key + "=... to " + what + ".");
    }
    return Paths.get(s.trim()).toAbsolutePath().normalize();
  }

  /** Levels until the lowest resolution is 16 pixels or less (at most 5), multipliers 1,2,4,4,4. */
  static int[] autoMultipliers(int size) {
    int levels = 1;
    while (levels < 5 && (size >> (levels - 1)) > 16 && (size >> levels) << levels == size) levels++;
    return Arrays.copyOf(new int[] {1, 2, 4, 4, 4}, levels);
  }

  static int[] parseMultipliers(String s) {
    String[] parts = (s == null ? "" : s.trim()).split("\\s*,\\s*");
    int[] m = new int[parts.length];
    try {
      for (int i = 0; i < parts.length; i++) m[i] = Integer.parseInt(parts[i].trim());
    } catch (NumberFormatException e) {
      m = new int[0];
    }
    boolean ok = m.length >= 1 && m.length <= 5;
    for (int v : m) ok &= v >= 1 && v <= 16;
    if (!ok) {
      throw new UserException("channel_multipliers=" + s + " must be 1 to 5 comma-separated integers from 1 to 16,"
          + " e.g. 1,2,2.");
    }
    return m;
  }
}
