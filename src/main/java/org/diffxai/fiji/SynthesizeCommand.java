package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.diffxai.core.UserException;
import org.diffxai.io.ImageReaders;
import org.diffxai.synthesis.Synthesis;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** Synthesizes images with a diffusion denoiser bundle: the {@code Synthesize} menu entry, macro and CLI command. */
@Plugin(type = Command.class, label = "Synthesize", headless = true)
public class SynthesizeCommand implements Command {

  @Parameter(description = "Denoiser bundle directory, or 'sample' for the bundled sample model", persist = false)
  String model = "sample";

  @Parameter(description = "Number of images to synthesize", min = "1", persist = false)
  int samples = 4;

  @Parameter(description = "Number of denoising steps (1 to the model's num_train_timesteps)", min = "1", persist = false)
  int steps = 50;

  @Parameter(description = "Sampler", choices = {"DDIM", "DDPM"}, persist = false)
  String sampler = "DDIM";

  @Parameter(description = "DDIM eta: 0 = deterministic, 1 = DDPM-like noise (DDIM only)", persist = false)
  double eta = 0;

  @Parameter(description = "Random seed; sample i uses its own noise stream derived from (seed, i)", persist = false)
  long seed = 0;

  @Parameter(description = "Class name or index for class-conditional models; empty cycles through the classes",
      required = false, persist = false)
  String label = "";

  @Parameter(description = "Condition channels (masks): an open image's title or a file; empty for none",
      required = false, persist = false)
  String condition = "";

  @Parameter(description = "Optional float32 TIFF holding x_T in model space (N slices x C channels)",
      required = false, persist = false)
  String init = "";

  @Parameter(description = "Keep every k-th step as the trajectory (plus first and last); 0 = no trajectory",
      min = "0", persist = false)
  int keep_every = 0;

  @Parameter(description = "Also keep the predicted noise eps_pred as a third trajectory channel", persist = false)
  boolean keep_noise;

  @Parameter(description = "Samples per model call", min = "1", persist = false)
  int batch = 8;

  @Parameter(description = "Device", choices = {"auto", "cpu", "gpu"}, persist = false)
  String device = "auto";

  @Parameter(description = "Optional output directory for samples.tif, trajectory.tif, trajectory.ome.tif,"
      + " synthesis.csv and synthesis.json", required = false, persist = false)
  String output = "";

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus synthesized;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus trajectory;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    Synthesis.Request r = new Synthesis.Request();
    r.model = model;
    r.samples = samples;
    r.steps = steps;
    r.sampler = sampler;
    r.eta = eta;
    r.seed = seed;
    r.label = label;
    r.keepEvery = keep_every;
    r.keepNoise = keep_noise;
    r.batch = batch;
    r.device = device;
    if (!blank(output)) r.output = Paths.get(output.trim()).toAbsolutePath();
    if (!blank(init)) {
      Path p = Paths.get(init.trim());
      r.init = ImageReaders.readFloatStack(p);
      r.initSource = p.toAbsolutePath().toString();
    }
    if (!blank(condition)) {
      ImagePlus imp = Ui.openImage(condition, "condition");
      r.condition = ImageReaders.toFloatStack(imp);
      r.conditionSource = condition.trim();
    }
    Synthesis.Result res;
    try {
      res = Synthesis.run(r, Ui.progress());
    } catch (IOException e) {
      throw new UserException("Could not write the output: " + e.getMessage()
          + ". Check free disk space and permissions of the output directory.", e);
    }
    synthesized = res.synthesized;
    trajectory = res.trajectory;
    results = res.table;
    Ui.show(synthesized);
    Ui.show(trajectory);
    Ui.show(results, "Synthesis");
  }

  private static boolean blank(String s) {
    return s == null || s.trim().isEmpty();
  }
}
