package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import java.nio.file.Paths;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;
import org.diffxai.metrics.Baseline;
import org.diffxai.metrics.FaithfulnessRun;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlClassifier;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Scores how faithful an attribution map (or a prototype network's own explanation) is to a classifier, with the
 * perturbation metrics of docs/faithfulness.md: the {@code Faithfulness Score} menu entry, macro and CLI command.
 */
@Plugin(type = Command.class, label = "Faithfulness Score", headless = true)
public class FaithfulnessScoreCommand implements Command {

  @Parameter(description = "Classifier bundle directory, or the name of a bundled sample classifier", persist = false)
  String model;

  @Parameter(description = "Images to score: an open image's title or an image file; every slice is one image",
      persist = false)
  String image;

  @Parameter(description = "Attribution map: an open image or a file with one slice per image; 'prototypes' for a"
      + " prototype network's own map; empty for none (prototype metrics only)", required = false, persist = false)
  String attribution = "";

  @Parameter(description = "Class name or index; empty = each image's predicted class", required = false,
      persist = false)
  String target = "";

  @Parameter(description = "Metric, or all that the inputs allow", choices = {"all", "faithfulness_correlation",
      "deletion", "insertion", "monotonicity", "region_perturbation", "prototype_perturbation", "nis"},
      persist = false)
  String metric = "all";

  @Parameter(description = "What removed pixels become; blur = Gaussian of sigma min(width, height)/16",
      choices = {"blur", "zero", "min", "mean"}, persist = false)
  String baseline = "blur";

  @Parameter(description = "Random pixel subsets of faithfulness_correlation", min = "3", persist = false)
  int runs = 100;

  @Parameter(description = "Pixels per random subset; 0 = the image width", min = "0", persist = false)
  int subset_size = 0;

  @Parameter(description = "Pixels moved per step of deletion, insertion and monotonicity; 0 = the image width",
      min = "0", persist = false)
  int step = 0;

  @Parameter(description = "Patch side of region_perturbation; 0 = min(width, height)/16", min = "0",
      persist = false)
  int patch_size = 0;

  @Parameter(description = "Random seed: faithfulness_correlation subsets (image i: stream (seed, i)) and the"
      + " bootstrap of the mean", persist = false)
  long seed = 0;

  @Parameter(description = "Prototypes tested by prototype_perturbation, largest contribution first (at most the"
      + " model's)", min = "1", persist = false)
  int top = 10;

  @Parameter(description = "NIS references: images (open image or file) whose pooled features replace the prototype"
      + " vectors; empty = the prototype vectors", required = false, persist = false)
  String references = "";

  @Parameter(description = "Images per model call", min = "1", persist = false)
  int batch = 32;

  @Parameter(description = "Device", choices = {"auto", "cpu", "gpu"}, persist = false)
  String device = "auto";

  @Parameter(description = "Optional output directory for faithfulness.csv, faithfulness_curves.csv,"
      + " faithfulness.json and faithfulness_<metric>.png", required = false, persist = false)
  String output = "";

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus curves;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    if (blank(model)) throw new UserException("Give model= (a classifier bundle directory).");
    if (blank(image)) throw new UserException("Give image= (an open image's title or an image file).");
    FaithfulnessRun.Request r = new FaithfulnessRun.Request();
    r.image = ImageReaders.toFloatStack(Ui.openImage(image.trim(), "image"));
    r.imageName = image.trim();
    String a = attribution == null ? "" : attribution.trim();
    r.attributionName = a;
    if (a.equalsIgnoreCase(FaithfulnessRun.PROTOTYPES)) r.prototypeAttribution = true;
    else if (!a.isEmpty()) r.attribution = ImageReaders.toFloatStack(Ui.openImage(a, "attribution"));
    if (!blank(references)) {
      r.references = ImageReaders.toFloatStack(Ui.openImage(references.trim(), "references"));
      r.referencesName = references.trim();
    }
    r.target = target == null ? "" : target;
    r.metric = metric;
    r.settings.baseline = Baseline.of(baseline);
    r.settings.runs = runs;
    r.settings.subsetSize = subset_size;
    r.settings.step = step;
    r.settings.patchSize = patch_size;
    r.settings.batch = batch;
    r.seed = seed;
    r.top = top;
    if (!blank(output)) r.output = Paths.get(output.trim()).toAbsolutePath();
    ClassifierBundle bundle = ClassifierBundle.open(model.trim());
    FaithfulnessRun.Result res;
    try (DjlClassifier c = ClassifierModels.load(bundle, device)) {
      c.batchSize(batch);
      res = FaithfulnessRun.run(r, new FaithfulnessRun.Model(c, bundle.name(), c.provenance()), Ui.progress());
    }
    results = res.table;
    curves = res.curves;
    Ui.show(results, "Faithfulness");
    Ui.show(curves);
  }

  private static boolean blank(String s) {
    return s == null || s.trim().isEmpty();
  }
}
