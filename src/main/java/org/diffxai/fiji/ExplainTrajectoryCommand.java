package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import java.nio.file.Paths;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.trajectory.Trajectory;
import org.diffxai.trajexplain.TrajectoryExplainRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Explains the predicted clean image x̂₀ at every kept step of a denoising trajectory with a prototype network: the
 * {@code Explain Trajectory} menu entry, macro and CLI command.
 */
@Plugin(type = Command.class, label = "Explain Trajectory", headless = true)
public class ExplainTrajectoryCommand implements Command {

  @Parameter(description = "The trajectory: an open image's title or a trajectory file (trajectory.tif,"
      + " trajectory.ome.tif); empty: the active image", required = false, persist = false)
  String trajectory = "";

  @Parameter(description = "Prototype bundle directory, or sample-<x> for a bundled one", persist = false)
  String model = "sample-ppnet";

  @Parameter(description = "Prototypes followed per sample: the final x0_pred's top prototypes", min = "1",
      persist = false)
  int top = 3;

  @Parameter(description = "Class name or index to follow; empty = each sample's final predicted class",
      required = false, persist = false)
  String target = "";

  @Parameter(description = "1-based sample to explain; 0 = all samples", min = "0", persist = false)
  int sample = 0;

  @Parameter(description = "Device", choices = {"auto", "cpu", "gpu"}, persist = false)
  String device = "auto";

  @Parameter(description = "Optional output directory for explain_trajectory.csv, explain_trajectory.json, the"
      + " plots (PNG), heatmaps.tif and heatmaps.ome.tif", required = false, persist = false)
  String output = "";

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable table;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus plots;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus heatmaps;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    TrajectoryExplainRun.Request r = new TrajectoryExplainRun.Request();
    if (output != null && !output.trim().isEmpty()) r.output = Paths.get(output.trim()).toAbsolutePath();
    r.image = Ui.openImage(trajectory, "trajectory");
    r.trajectory = Trajectory.of(r.image);
    r.trajectoryName = trajectory == null || trajectory.trim().isEmpty() ? r.image.getTitle() : trajectory.trim();
    r.top = top;
    r.target = target;
    r.sample = sample;
    ClassifierBundle bundle = ClassifierBundle.open(model);
    TrajectoryExplainRun.Result res;
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(bundle, device)) {
      res = TrajectoryExplainRun.run(r, new TrajectoryExplainRun.Model(c, bundle.name(), c.provenance()),
          Ui.progress());
    }
    table = res.table;
    plots = res.plots;
    heatmaps = res.heatmaps;
    Ui.show(table, "Explain Trajectory");
    Ui.show(plots);
    Ui.show(heatmaps);
  }
}
