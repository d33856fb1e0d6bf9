package org.diffxai.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.Chart;
import org.diffxai.core.Foreground;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Fit;
import org.diffxai.io.ImageFolder;
import org.diffxai.io.ImageInput;
import org.diffxai.io.MaskFiles;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.phantom.Tissue;
import org.diffxai.tf.proto.ProtoBundleWriter;
import org.diffxai.tf.proto.ProtoConfig;
import org.diffxai.tf.proto.ProtoTrainer;
import org.diffxai.tf.proto.ProtoTrainingOptions;
import org.diffxai.tf.proto.PrototypeTraining;
import org.scijava.plugin.Parameter;

/**
 * Train Prototype Network: trains a prototype network (PPNet, EPPNet or ProtoPool) on a folder of labelled 2-D images
 * (one sub-folder per class), holds out a validation split (accuracy, temperature calibration and OOD thresholds are
 * measured there), and writes the classifier bundle into the output folder (docs/classifiers.md,
 * docs/prototype-networks.md, docs/confidence.md). The decoded images are cached (the {@code datasets} folder of the
 * model cache), so a second training on the same folder skips the decoding. Result: the per-epoch table and a chart
 * of loss and accuracy.
 */
public final class TrainPrototypesRun {
  public static final String COMMAND = "Train Prototype Network";

  /** The keys of Train Prototype Network. */
  public static class Request extends OutputKeys {
    @Parameter(style = "directory", persist = false, description = "Folder of training images with one sub-folder"
        + " per class (e.g. healthy/, lesion/)")
    public String images = "";

    @Parameter(choices = {"PPNet", "EPPNet", "ProtoPool"}, persist = false, description = "PPNet (ProtoPNet), EPPNet"
        + " (normalised ProtoPNet) or ProtoPool (shared prototype pool)")
    public String method = "PPNet";

    @Parameter(min = "1", persist = false, description = "PPNet/EPPNet: prototypes per class")
    public int prototypes_per_class = 5;

    @Parameter(min = "2", persist = false,
        description = "ProtoPool: number of shared prototypes to train; the bundle keeps those some slot chose")
    public int pool_size = 10;

    @Parameter(min = "1", persist = false, description = "ProtoPool: slots per class (each picks one pool prototype)")
    public int slots_per_class = 3;

    @Parameter(min = "16", persist = false, description = "Side length in pixels the images are brought to (square;"
        + " 64 to 256)")
    public int size = 64;

    @Parameter(choices = {"pad", "crop", "stretch"}, persist = false, description = Fit.KEY_DESCRIPTION)
    public String fit = Fit.KEY_DEFAULT;

    @Parameter(min = "1", persist = false, description = "Training epochs (warm-up and joint; pushes and last-layer"
        + " epochs come on top)")
    public int epochs = 30;

    @Parameter(min = "1", persist = false, description = "Images per optimisation step")
    public int batch = 32;

    @Parameter(persist = false, description = "Adam learning rate of the joint epochs")
    public double learning_rate = 3e-4;

    @Parameter(min = "1", persist = false, description = "Push the prototypes every this many joint epochs (and after"
        + " the last)")
    public int push_every = 10;

    @Parameter(min = "0", persist = false, description = "Epochs of last-layer-only training after every push")
    public int last_layer_epochs = 5;

    @Parameter(min = "1", persist = false, description = "Channels of the first backbone convolution")
    public int base_channels = 16;

    @Parameter(min = "1", persist = false, description = "Depth D of latent patches and prototypes")
    public int feature_depth = 32;

    @Parameter(persist = false, description = "Fraction of each class held out for validation, calibration and the"
        + " OOD thresholds (0 to 0.9)")
    public double validation = 0.2;

    @Parameter(persist = false, description = "Random seed: the same seed and data give the same network on the same"
        + " machine")
    public long seed = 1;

    @Parameter(persist = false, description = "Randomly mirror training batches left-right")
    public boolean flip;

    @Parameter(persist = false, description = "Noise augmentation: Gaussian noise of a standard deviation drawn from"
        + " [0, noise] (model units, images span -1..1) on every training image; 0 switches it off")
    public double noise = new ProtoTrainingOptions().noise();

    @Parameter(persist = false, description = "Intensity augmentation: contrast a in [1-j, 1+j] and brightness b in"
        + " [-j, j] (model units) on every training image; 0 switches it off")
    public double intensity = new ProtoTrainingOptions().intensity();

    @Parameter(choices = {"keep", "randomize", "mask"}, persist = false, description = "Pixels outside the anatomy"
        + " during training: keep them, replace them by random noise (background randomisation), or set them to the"
        + " darkest value")
    public String background = "keep";

    @Parameter(required = false, persist = false, description = "With background randomize or mask, where the"
        + " anatomy comes from: estimate (from each image), labels (the name_labels.tif maps Generate Phantoms"
        + " writes), or a folder of masks")
    public String foreground = ProtoTrainingOptions.ESTIMATE;

    @Parameter(choices = {"auto", "cpu", "gpu"}, persist = false, description = "Where TensorFlow trains: auto = a"
        + " GPU when the runtime sees one, else the CPU")
    public String device = "auto";

    @Parameter(required = false, persist = false, description = "Model name for model.json (default: the output"
        + " folder name)")
    public String name = "";

    @Parameter(required = false, persist = false, description = "Free-text description for model.json")
    public String description = "";

    @Parameter(required = false, persist = false, description = "Authors for model.json")
    public String authors = "";

    @Parameter(required = false, persist = false, description = "License of the trained model for model.json")
    public String license = "";

    /** The architecture the keys describe (size and class count are set from the images). */
    public ProtoConfig net() {
      return new ProtoConfig().method(ProtoConfig.Method.parse(method)).prototypesPerClass(prototypes_per_class)
          .poolSize(pool_size).slotsPerClass(slots_per_class).baseChannels(base_channels)
          .featureDepth(feature_depth).size(size, size).validate();
    }

    /** The schedule and augmentation the keys describe. */
    public ProtoTrainingOptions options() {
      return new ProtoTrainingOptions().epochs(epochs).batch(batch).learningRate(learning_rate).pushEvery(push_every)
          .lastLayerEpochs(last_layer_epochs).seed(seed).flip(flip).noise(noise).intensity(intensity)
          .background(ProtoTrainingOptions.Background.parse(background)).foreground(foreground)
          .device(DeviceChoice.parse(device)).validate();
    }
  }

  /** What a run produced. */
  public static final class Result {
    /** The bundle folder (the output folder). */
    public final Path bundle;
    public final PrototypeTraining.Result training;
    /** One row per epoch: epoch, phase, loss, accuracy, seconds. */
    public final Table table;
    /** Loss and training accuracy per epoch. */
    public final Chart chart;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(Path bundle, PrototypeTraining.Result training, Table table, Chart chart, Map<String, String> provenance,
        List<Path> files) {
      this.bundle = bundle;
      this.training = training;
      this.table = table;
      this.chart = chart;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().table("training", "Prototype Training", table).chart("curve", chart);
    }
  }

  private TrainPrototypesRun() {}

  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    if (r.images == null || r.images.trim().isEmpty()) {
      throw new UserException("images is empty. Give the folder of training images (one sub-folder per class).");
    }
    Path images = Paths.get(r.images.trim());
    Path output = r.outputPath();
    if (output == null) {
      throw new UserException("output is empty. Give the bundle folder to create, e.g. output=models/my-ppnet.");
    }
    ProtoConfig net = r.net();
    ProtoTrainingOptions options = r.options();
    if (!(r.validation >= 0 && r.validation <= 0.9)) {
      throw new UserException("validation must be a fraction between 0 and 0.9, got " + r.validation + ".");
    }
    String fg = options.foreground();
    boolean masked = options.background() != ProtoTrainingOptions.Background.KEEP;
    if (masked && !fg.equalsIgnoreCase(ProtoTrainingOptions.ESTIMATE)
        && !fg.equalsIgnoreCase(ProtoTrainingOptions.LABELS) && !Files.exists(Paths.get(fg))) {
      throw new UserException("foreground=" + fg + " does not exist. Give foreground=estimate (from each image), "
          + "foreground=labels (the label maps Generate Phantoms writes) or a folder or file of masks.");
    }
    try (OutputFolder out = OutputFolder.open(r, COMMAND, "*.json", "*.tif", "*.csv", "*.pb", "variables/*")) {
      ImageFolder folder = ImageFolder.load(images, ImageInput.Settings.size(r.size, r.size).fit(Fit.of(r.fit))
          .cache(DenoiserBundle.defaultCacheDir().resolve("datasets")), true, env.progress.sub(0, 0.05));
      String modelName = r.name == null || r.name.trim().isEmpty() ? output.getFileName().toString() : r.name.trim();
      Map<String, Object> input = folder.input().summary().toMap();
      ProtoBundleWriter.Metadata meta = new ProtoBundleWriter.Metadata().name(modelName).description(nz(
          r.description)).authors(nz(r.authors)).license(nz(r.license)).input(input);
      IntFunction<boolean[]> anatomy = masked ? i -> foreground(folder, i, fg) : null;
      PrototypeTraining.Result t = PrototypeTraining.run(folder, anatomy, net, options, r.validation, out.root(),
          meta, env.progress.sub(0.05, 1));
      for (String f : files(out.root())) out.adopt(f);
      Map<String, String> prov = Provenance.of(COMMAND, r);
      prov.putAll(folder.input().summary().toStrings());
      List<Path> written = out.commit();
      env.progress.report(String.format(Locale.ROOT, "Saved %s %s: training accuracy %.3f, validation accuracy %.3f"
          + " (%d images)", net.method(), output, t.trainingAccuracy, t.validationAccuracy, t.validationImages), 1);
      return new Result(output, t, table(t.epochs), chart(t.epochs), prov, written);
    }
  }

  /** The per-epoch log as a table. */
  static Table table(List<ProtoTrainer.Epoch> epochs) {
    Table t = new Table();
    for (ProtoTrainer.Epoch e : epochs) {
      t.incrementCounter();
      t.addValue("epoch", e.index);
      t.addValue("phase", e.phase);
      t.addValue("loss", e.loss);
      t.addValue("accuracy", e.accuracy);
      t.addValue("seconds", e.seconds);
    }
    return t;
  }

  static Chart chart(List<ProtoTrainer.Epoch> epochs) {
    double[] x = new double[epochs.size()];
    double[] loss = new double[x.length];
    double[] acc = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = epochs.get(i).index;
      loss[i] = epochs.get(i).loss;
      acc[i] = epochs.get(i).accuracy;
    }
    return new Chart("Prototype training", "epoch", "loss, accuracy")
        .add("loss", x, loss, Chart.Style.LINE, Chart.PALETTE[0])
        .add("training accuracy", x, acc, Chart.Style.LINE, Chart.PALETTE[1]);
  }

  /**
   * The anatomy of training image {@code i} at training size ({@link ProtoTrainingOptions#foreground(String)}).
   *
   * @throws UserException when a mask file is missing or unreadable
   */
  static boolean[] foreground(ImageFolder folder, int i, String source) {
    int s = folder.size();
    Path file = folder.files().get(i);
    if (source.equalsIgnoreCase(ProtoTrainingOptions.LABELS)) {
      Path labels = MaskFiles.find(file, "auto", MaskFiles.Kind.LABELS).orElseThrow(() -> new UserException(
          "foreground=labels but " + file + " has no label map " + MaskFiles.companion(file, MaskFiles.Kind.LABELS)
              .getFileName() + " beside it. Generate the phantoms with masks, or use foreground=estimate."));
      return anatomy(MaskFiles.readLabels(labels), labels, s);
    }
    if (source.equalsIgnoreCase(ProtoTrainingOptions.ESTIMATE)) return Foreground.estimate(folder.image(i), s, s);
    Path mask = MaskFiles.find(file, source, MaskFiles.Kind.LABELS).orElseThrow(() -> new UserException(
        "foreground=" + source + " has no mask for " + file + ". Give a folder with a mask per training image (same "
            + "file name), or foreground=estimate."));
    return MaskFiles.read(mask, 0, s, s);
  }

  /** Anatomy of a phantom label map at training size: every tissue code but background and shortcut. */
  private static boolean[] anatomy(int[] labels, Path file, int size) {
    if (labels.length != size * size) {
      throw new UserException("The label map " + file + " has another size than its image after resizing to "
          + size + ". Use foreground=estimate, or label maps of the images' size.");
    }
    return Tissue.anatomy(labels);
  }

  /** Every regular file below {@code dir}, '/'-separated and relative to it. */
  private static List<String> files(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/')).sorted()
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw AtomicFiles.cannotWrite(dir, e);
    }
  }

  private static String nz(String s) {
    return s == null ? "" : s.trim();
  }
}
