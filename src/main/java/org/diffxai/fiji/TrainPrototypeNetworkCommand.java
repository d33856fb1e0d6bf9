package org.diffxai.fiji;

import ij.measure.ResultsTable;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.model.TensorFlowRuntime;
import org.diffxai.tf.proto.ProtoBundleWriter;
import org.diffxai.tf.proto.ProtoConfig;
import org.diffxai.tf.proto.ProtoTrainer;
import org.diffxai.tf.proto.ProtoTrainingOptions;
import org.diffxai.tf.proto.PrototypeTraining;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Trains a prototype network (PPNet, EPPNet or ProtoPool) on a folder of labelled 2-D images (one sub-folder per
 * class), holds out a validation split, and saves a classifier bundle with the prototypes' provenance
 * (docs/classifiers.md, docs/prototype-networks.md). Shows the per-epoch log as the "Prototype Training" table.
 */
@Plugin(type = Command.class, label = "Train Prototype Network", headless = true, description = "Trains a"
    + " classifier that explains itself with prototypes (image parts learned from the training images) on a folder"
    + " with one sub-folder per class.")
public class TrainPrototypeNetworkCommand implements Command {

  @Parameter(style = "directory", description = "Folder of training images with one sub-folder per class (e.g."
      + " healthy/, lesion/).", persist = false)
  private String images;

  @Parameter(choices = {"PPNet", "EPPNet", "ProtoPool"}, description = "Prototype method: PPNet"
      + " (ProtoPNet), EPPNet (normalised ProtoPNet with a diversity term) or ProtoPool (shared prototype pool).", persist = false)
  private String method = "PPNet";

  @Parameter(min = "1", description = "Prototypes per class (PPNet, EPPNet).", persist = false)
  private int prototypes_per_class = 5;

  @Parameter(min = "2", description = "Number of shared prototypes (ProtoPool).", persist = false)
  private int pool_size = 10;

  @Parameter(min = "1", description = "Slots per class (ProtoPool; each picks one pool prototype).", persist = false)
  private int slots_per_class = 3;

  @Parameter(min = "16", description = "Side length in pixels the images are resized to (square; 64 to 256).",
      persist = false)
  private int size = 64;

  @Parameter(min = "1", description = "Training epochs (warm-up and joint; pushes and last-layer epochs come on top).",
      persist = false)
  private int epochs = 30;

  @Parameter(min = "1", description = "Images per optimisation step.", persist = false)
  private int batch = 32;

  @Parameter(description = "Adam learning rate of the joint epochs.", persist = false)
  private double learning_rate = 3e-4;

  @Parameter(min = "1", description = "Push the prototypes every this many joint epochs (and after the last).",
      persist = false)
  private int push_every = 10;

  @Parameter(min = "0", description = "Epochs of last-layer-only training after every push.", persist = false)
  private int last_layer_epochs = 5;

  @Parameter(min = "1", description = "Channels of the first backbone convolution.", persist = false)
  private int base_channels = 16;

  @Parameter(min = "1", description = "Depth D of latent patches and prototypes.", persist = false)
  private int feature_depth = 32;

  @Parameter(description = "Fraction of each class held out for validation (0 to 0.9).", persist = false)
  private double validation = 0.2;

  @Parameter(description = "Random seed: the same seed and data give the same network on the same machine.",
      persist = false)
  private int seed = 1;

  @Parameter(description = "Randomly mirror training batches left-right (off unless given).", persist = false)
  private boolean flip = false;

  @Parameter(choices = {"auto", "cpu", "gpu"}, description = "Where TensorFlow trains.", persist = false)
  private String device = "auto";

  @Parameter(style = "directory", description = "Bundle folder to create (must not exist yet).", persist = false)
  private String output;

  @Parameter(required = false, description = "Model name for model.json (default: the output folder name).",
      persist = false)
  private String name = "";

  @Parameter(required = false, description = "Free-text description for model.json.", persist = false)
  private String description = "";

  @Parameter(required = false, description = "Authors for model.json.", persist = false)
  private String authors = "";

  @Parameter(required = false, description = "License of the trained model for model.json.", persist = false)
  private String license = "";

  private PrototypeTraining.Result result;
  private ResultsTable table;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    Path in = TrainDenoiserCommand.path(images, "images", "the folder of training images (one sub-folder per class)");
    Path out = TrainDenoiserCommand.path(output, "output", "the bundle folder to create");
    ProtoConfig net = new ProtoConfig().method(ProtoConfig.Method.parse(method))
        .prototypesPerClass(prototypes_per_class).poolSize(pool_size).slotsPerClass(slots_per_class)
        .baseChannels(base_channels).featureDepth(feature_depth).size(size, size).validate();
    ProtoTrainingOptions opts = new ProtoTrainingOptions().epochs(epochs).batch(batch).learningRate(learning_rate)
        .pushEvery(push_every).lastLayerEpochs(last_layer_epochs).seed(seed).flip(flip)
        .device(TensorFlowRuntime.DeviceChoice.parse(device)).validate();
    String modelName = name == null || name.trim().isEmpty() ? out.getFileName().toString() : name.trim();
    ProtoBundleWriter.Metadata meta = new ProtoBundleWriter.Metadata().name(modelName).description(TrainDenoiserCommand.nz(description))
        .authors(TrainDenoiserCommand.nz(authors)).license(TrainDenoiserCommand.nz(license));
    Progress p = Ui.progress();
    result = PrototypeTraining.run(in, size, net, opts, validation, out, meta, p);
    table = epochTable(result);
    p.report(String.format(Locale.ROOT, "Saved %s %s: training accuracy %.3f, validation accuracy %.3f (%d images)",
        net.method(), result.bundle, result.trainingAccuracy, result.validationAccuracy, result.validationImages), 1);
    Ui.show(table, "Prototype Training");
  }

  /** What the last run produced (null before). */
  public PrototypeTraining.Result result() {
    return result;
  }

  /** The per-epoch table of the last run (null before). */
  public ResultsTable table() {
    return table;
  }

  static ResultsTable epochTable(PrototypeTraining.Result r) {
    ResultsTable rt = new ResultsTable();
    for (ProtoTrainer.Epoch e : r.epochs) {
      rt.incrementCounter();
      rt.addValue("epoch", e.index);
      rt.addValue("phase", e.phase);
      rt.addValue("loss", e.loss);
      rt.addValue("accuracy", e.accuracy);
      rt.addValue("seconds", e.seconds);
    }
    return rt;
  }
}
