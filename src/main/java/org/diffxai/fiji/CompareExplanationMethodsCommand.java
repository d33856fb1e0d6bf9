package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.diffxai.compare.CompareRun;
import org.diffxai.compare.ModelRandomization;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageFolder;
import org.diffxai.io.ImageReaders;
import org.diffxai.metrics.Baseline;
import org.diffxai.metrics.FaithfulnessRun;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.synthesis.Synthesis;
import org.diffxai.tf.proto.RandomizedPrototypeNetwork;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Compares the explanations of several prototype networks on the same images with the faithfulness metrics, against
 * a random map and a randomised network: the {@code Compare Explanation Methods} menu entry, macro and CLI command.
 */
@Plugin(type = Command.class, label = "Compare Explanation Methods", headless = true)
public class CompareExplanationMethodsCommand implements Command {

  @Parameter(description = "The images: a folder of images (resized to the models' size), an open stack's title or"
      + " an image file; or leave empty and set denoiser", required = false, persist = false)
  String images = "";

  @Parameter(description = "Instead of images: a denoiser bundle (or 'sample') that synthesizes the images",
      required = false, persist = false)
  String denoiser = "";

  @Parameter(description = "With denoiser: number of images to synthesize", min = "1", persist = false)
  int samples = 16;

  @Parameter(description = "With denoiser: DDIM steps", min = "1", persist = false)
  int steps = 50;

  @Parameter(description = "Prototype bundles to compare, comma-separated (directories or sample-<x>)",
      persist = false)
  String models = "sample-ppnet,sample-eppnet,sample-protopool";

  @Parameter(description = "A metric (faithfulness_correlation, deletion, insertion, monotonicity,"
      + " region_perturbation, prototype_perturbation, nis) or all", persist = false)
  String metric = "all";

  @Parameter(description = "What removed pixels become", choices = {"blur", "zero", "min", "mean"}, persist = false)
  String baseline = "blur";

  @Parameter(description = "Faithfulness correlation: random pixel subsets per image", min = "3", persist = false)
  int runs = 100;

  @Parameter(description = "Faithfulness correlation: pixels per subset; 0 = the image width", min = "0",
      persist = false)
  int subset_size = 0;

  @Parameter(description = "Deletion, insertion, monotonicity: pixels per step; 0 = the image width", min = "0",
      persist = false)
  int step = 0;

  @Parameter(description = "Region perturbation: patch side; 0 = min(height, width)/16", min = "0", persist = false)
  int patch_size = 0;

  @Parameter(description = "Prototype perturbation: prototypes tested per image", min = "1", persist = false)
  int top = 10;

  @Parameter(description = "Bootstrap resamples of each 95% interval", min = "1", persist = false)
  int bootstrap = 2000;

  @Parameter(description = "Model-randomisation control: re-initialise the head (top), every layer (full), both"
      + " or none", choices = {"both", "top", "full", "none"}, persist = false)
  String randomization = "both";

  @Parameter(description = "Random seed: synthesis, metric subsets, random maps, randomised weights, bootstrap",
      persist = false)
  long seed = 0;

  @Parameter(description = "Class name or index to explain; empty = each image's predicted class", required = false,
      persist = false)
  String target = "";

  @Parameter(description = "Device", choices = {"auto", "cpu", "gpu"}, persist = false)
  String device = "auto";

  @Parameter(description = "Optional output directory for compare.csv, compare_images.csv, compare.json and"
      + " compare_<metric>.png", required = false, persist = false)
  String output = "";

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable comparison;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus plots;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    CompareRun.Request r = new CompareRun.Request();
    if (!blank(output)) r.output = Paths.get(output.trim()).toAbsolutePath();
    r.metric = metric;
    r.settings.baseline = Baseline.of(baseline);
    r.settings.runs = runs;
    r.settings.subsetSize = subset_size;
    r.settings.step = step;
    r.settings.patchSize = patch_size;
    r.top = top;
    r.bootstrap = bootstrap;
    r.randomization = ModelRandomization.Stage.parse(randomization);
    r.seed = seed;
    r.target = target;
    if (blank(images) == blank(denoiser)) {
      throw new UserException(blank(images) ? "No images given. Set images= (a folder, an open stack or an image"
          + " file) or denoiser= (a denoiser bundle that synthesizes them, e.g. denoiser=sample)."
          : "Both images= and denoiser= are set. Give one of them: images to compare on existing images, denoiser to"
          + " synthesize new ones.");
    }
    List<ClassifierBundle> bundles = new ArrayList<>();
    for (String key : models.split(",")) {
      if (!key.trim().isEmpty()) bundles.add(ClassifierBundle.open(key.trim()));
    }
    if (bundles.isEmpty()) {
      throw new UserException("models= is empty. Give one or more prototype bundles, e.g."
          + " models=sample-ppnet,sample-eppnet,sample-protopool.");
    }
    List<FaithfulnessRun.Model> loaded = new ArrayList<>();
    try {
      for (ClassifierBundle b : bundles) {
        DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(b, device);
        loaded.add(new FaithfulnessRun.Model(c, b.name(), c.provenance()));
      }
      DjlPrototypeClassifier first = (DjlPrototypeClassifier) loaded.get(0).classifier;
      for (FaithfulnessRun.Model m : loaded) {
        if (m.classifier.width() != first.width() || m.classifier.height() != first.height()) {
          throw new UserException("Model " + m.name + " takes " + m.classifier.width() + "x" + m.classifier.height()
              + " images but " + loaded.get(0).name + " takes " + first.width() + "x" + first.height() + ". Compare"
              + " models of the same input size.");
        }
      }
      readImages(r, first.width(), first.height());
      CompareRun.Result res = CompareRun.run(r, loaded,
          (i, stage, s) -> RandomizedPrototypeNetwork.of(bundles.get(i), stage, s), Ui.progress());
      comparison = res.table;
      plots = res.plots;
    } finally {
      for (FaithfulnessRun.Model m : loaded) m.classifier.close();
    }
    Ui.show(comparison, "Compare Explanation Methods");
    Ui.show(plots);
  }

  /** The images from the folder, stack or file of {@code images}, or synthesized by {@code denoiser}. */
  private void readImages(CompareRun.Request r, int width, int height) {
    if (!blank(images)) {
      Path p = Paths.get(images.trim());
      if (Files.isDirectory(p)) {
        if (width != height) {
          throw new UserException("images= is a folder, whose images are resized to a square, but the models take "
              + width + "x" + height + ". Give a stack of " + width + "x" + height + " images instead.");
        }
        ImageFolder f = ImageFolder.load(p, width, false, Ui.progress());
        float[][] planes = f.images().toArray(new float[0][]);
        String[] labels = new String[planes.length];
        for (int i = 0; i < labels.length; i++) labels[i] = f.root().relativize(f.files().get(i)).toString();
        r.images = new FloatStack(width, width, 1, planes.length, 1, planes, labels);
        r.imagesName = p.toAbsolutePath().toString();
        r.imagesProvenance.put("source", "folder of " + planes.length + " images, resized bilinear to " + width + "x"
            + width);
      } else {
        ImagePlus imp = Ui.openImage(images, "images");
        r.images = ImageReaders.toFloatStack(imp);
        r.imagesName = images.trim();
      }
      return;
    }
    Synthesis.Request s = new Synthesis.Request();
    s.model = denoiser.trim();
    s.samples = samples;
    s.steps = steps;
    s.sampler = "DDIM";
    s.seed = seed;
    s.device = device;
    Synthesis.Result res;
    try {
      res = Synthesis.run(s, Ui.progress());
    } catch (IOException e) {
      throw new UserException("Synthesis failed: " + e.getMessage(), e);
    }
    r.images = ImageReaders.toFloatStack(res.synthesized);
    r.imagesName = String.format(Locale.ROOT, "%d samples of %s (DDIM %d steps, seed %d)", samples, denoiser.trim(),
        steps, seed);
    r.imagesProvenance.putAll(res.provenance);
  }

  private static boolean blank(String s) {
    return s == null || s.trim().isEmpty();
  }
}
