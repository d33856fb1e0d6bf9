package org.diffxai.fiji;

import ij.measure.ResultsTable;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.ImageFolder;
import org.diffxai.tf.BundleWriter;
import org.diffxai.tf.DenoiserTrainer;
import org.diffxai.tf.TrainingData;
import org.diffxai.tf.TrainingOptions;
import org.diffxai.tf.UNetConfig;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Trains a diffusion denoiser (DDPM ε-prediction UNet) on a folder of 2-D images and saves it as a denoiser bundle
 * (SavedModel + scheduler_config.json + model.json + training.csv). Shows the loss log as the "Training" table.
 */
@Plugin(type = Command.class, label = "Train Denoiser", headless = true, description = "Trains a diffusion denoiser"
    + " on a folder of images and saves it as a model folder that Synthesize can use.")
public class TrainDenoiserCommand implements Command {

  /** Lower and upper intensity percentiles mapped to model values −1 and +1. */
  static final double LOW_PERCENT = 0.5;
  static final double HIGH_PERCENT = 99.5;
  static final String AUTO = "auto";
  /** Self-attention only while the lowest level has at most this many positions (its cost grows with their square). */
  static final int MAX_ATTENTION_POSITIONS = 32 * 32;

  @Parameter(style = "directory", description = "Folder of training images (TIFF, PNG, JPEG, DICOM, ...); with"
      + " labels=true one sub-folder per class.", persist = false)
  private String images;

  @Parameter(style = "directory", description = "Bundle folder to create (must not exist yet).", persist = false)
  private String output;

  @Parameter(min = "8", description = "Side length in pixels the images are resized to (square).", persist = false)
  private int size = 64;

  @Parameter(min = "1", description = "Training iterations (optimizer steps); ignored when epochs > 0.", persist = false)
  private int iterations = 3000;

  @Parameter(min = "0", description = "Passes over the images to train instead of iterations; 0 = use iterations.", persist = false)
  private int epochs = 0;

  @Parameter(min = "1", description = "Images per iteration.", persist = false)
  private int batch = 16;

  @Parameter(description = "Adam learning rate.", persist = false)
  private double learning_rate = 5e-4;

  @Parameter(description = "Random seed: the same seed and data give the same training run on the same machine.", persist = false)
  private int seed = 1;

  @Parameter(description = "Use sub-folder names as classes (class-conditional model).", persist = false)
  private boolean labels = false;

  @Parameter(min = "8", description = "Channels of the first UNet level (a multiple of 8).", persist = false)
  private int base_channels = 32;

  @Parameter(description = "Channel multiplier per resolution level, comma-separated (e.g. 1,2,4), or 'auto':"
      + " halve down to 16 pixels with 1,2,4,4,4.", persist = false)
  private String channel_multipliers = AUTO;

  @Parameter(description = "Decay of the exponential moving average of the weights that is saved.", persist = false)
  private double ema_decay = 0.999;

  @Parameter(description = "Randomly mirror training images left-right (off unless given).", persist = false)
  private boolean flip = false;

  @Parameter(required = false, description = "Model name for model.json (default: the output folder name).", persist = false)
  private String name = "";

  @Parameter(required = false, description = "Free-text description for model.json.", persist = false)
  private String description = "";

  @Parameter(required = false, description = "Authors for model.json.", persist = false)
  private String authors = "";

  @Parameter(required = false, description = "License of the trained model for model.json.", persist = false)
  private String license = "";

  private Path bundle;
  private ResultsTable table;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    Path in = path(images, "images", "the folder of training images");
    Path out = path(output, "output", "the bundle folder to create");
    int[] mult = AUTO.equalsIgnoreCase(nz(channel_multipliers).trim()) ? autoMultipliers(size)
        : parseMultipliers(channel_multipliers);
    int levels = mult.length;
    if (size < 8 || size % (1 << (levels - 1)) != 0) {
      throw new UserException("size=" + size + " must be at least 8 and divisible by " + (1 << (levels - 1))
          + " (the UNet halves it " + (levels - 1) + " times). Use e.g. size=64.");
    }
    if (base_channels < 8 || base_channels % 8 != 0) {
      throw new UserException("base_channels=" + base_channels + " must be a multiple of 8 (GroupNorm uses 8 groups)."
          + " Use e.g. base_channels=32.");
    }
    if (batch < 1 || iterations < 1 || epochs < 0) {
      throw new UserException("batch and iterations must be at least 1 and epochs at least 0. Fix the values.");
    }
    if (!(learning_rate > 0 && learning_rate < 1)) {
      throw new UserException("learning_rate=" + learning_rate + " must be between 0 and 1, e.g. 0.0005.");
    }
    if (!(ema_decay >= 0 && ema_decay < 1)) {
      throw new UserException("ema_decay=" + ema_decay + " must be in [0, 1), e.g. 0.999.");
    }
    if (java.nio.file.Files.exists(out)) {
      throw new UserException("Output " + out + " already exists. Choose a new output folder or delete the old one.");
    }

    Progress p = Ui.progress();
    ImageFolder folder = ImageFolder.load(in, size, labels, p.sub(0, 0.05));
    IntensityMapping mapping = folder.percentileMapping(LOW_PERCENT, HIGH_PERCENT);
    TrainingData data = TrainingData.of(size, size, 1, folder.toModelSpace(mapping));
    if (labels) data = data.withLabels(folder.labels(), folder.classNames());

    int iters = epochs > 0 ? (int) Math.max(1, Math.ceil((double) epochs * folder.count() / batch)) : iterations;
    UNetConfig net = new UNetConfig().size(size, size).channels(1).numClasses(labels ? folder.classNames().size() : 0)
        .baseChannels(base_channels).channelMultipliers(mult).groups(8).layersPerBlock(1)
        .attention(Math.pow(size >> (levels - 1), 2) <= MAX_ATTENTION_POSITIONS);
    TrainingOptions opts = new TrainingOptions().iterations(iters).batch(batch).learningRate(learning_rate)
        .warmupIterations(Math.min(100, iters / 10)).seed(seed).emaDecay(ema_decay).flip(flip);

    String modelName = name == null || name.trim().isEmpty() ? out.getFileName().toString() : name.trim();
    try (DenoiserTrainer trainer = new DenoiserTrainer(net, opts)) {
      trainer.train(data, p.sub(0.05, 0.97));
      BundleWriter.Metadata meta = new BundleWriter.Metadata().name(modelName).description(nz(description))
          .authors(nz(authors)).license(nz(license)).intensity(mapping).classNames(folder.classNames())
          .images(folder.count()).source(in.getFileName() == null ? "" : in.getFileName().toString());
      bundle = BundleWriter.write(out, trainer, meta, p.sub(0.97, 1.0));
      table = lossTable(trainer);
      p.report(String.format(Locale.ROOT, "Saved denoiser %s (%d iterations, final loss %.4f)", bundle,
          trainer.completedIterations(), trainer.losses()[trainer.completedIterations() - 1]), 1.0);
    }
    Ui.show(table, "Training");
  }

  /** The bundle directory written by the last run (null before). */
  public Path bundle() {
    return bundle;
  }

  /** The loss table of the last run (null before). */
  public ResultsTable table() {
    return table;
  }

  static ResultsTable lossTable(DenoiserTrainer trainer) {
    ResultsTable rt = new ResultsTable();
    float[] l = trainer.losses();
    double[] s = trainer.iterationSeconds();
    for (int i = 0; i < l.length; i++) {
      rt.incrementCounter();
      rt.addValue("iteration", i + 1);
      rt.addValue("loss", l[i]);
      rt.addValue("seconds", s[i]);
    }
    return rt;
  }

  static String nz(String s) {
    return s == null ? "" : s;
  }

  /** The absolute path the user gave for {@code key}; a clear error when none. */
  static Path path(String s, String key, String what) {
    if (s == null || s.trim().isEmpty()) {
      throw new UserException("No " + key + " given. Set " + key + "=... to " + what + ".");
    }
    return Paths.get(s.trim()).toAbsolutePath().normalize();
  }

  /** Levels until the lowest resolution is 16 pixels or less (at most 5), multipliers 1,2,4,4,4. */
  static int[] autoMultipliers(int size) {
    int levels = 1;
    while (levels < 5 && (size >> (levels - 1)) > 16 && (size >> levels) << levels == size) levels++;
    int[] all = {1, 2, 4, 4, 4};
    return java.util.Arrays.copyOf(all, levels);
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
