package org.diffxai.fiji;

import ij.ImagePlus;
import ij.WindowManager;
import ij.measure.ResultsTable;
import java.nio.file.Paths;
import org.diffxai.core.UserException;
import org.diffxai.explain.ExplainInput;
import org.diffxai.explain.ExplainRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Explains a prototype network's classification of an image (every slice of a stack): the {@code Explain with
 * Prototypes} menu entry, macro and CLI command. See {@link ExplainRun}.
 */
@Plugin(type = Command.class, label = "Explain with Prototypes", headless = true)
public class ExplainPrototypesCommand implements Command {

  @Parameter(description = "Image to explain: an open image's title or an image file; empty = the active image."
      + " A stack explains every slice.", required = false, persist = false)
  String image = "";

  @Parameter(description = "Prototype network bundle directory, or 'sample-ppnet' for the bundled sample",
      persist = false)
  String model = "sample-ppnet";

  @Parameter(description = "Number of prototypes to show per slice, largest contribution first (all of them when"
      + " the model has fewer)", min = "1", persist = false)
  int top = 5;

  @Parameter(description = "Class to explain (name or index); empty = each slice's predicted class",
      required = false, persist = false)
  String target = "";

  @Parameter(description = "Slices per model call", min = "1", persist = false)
  int batch = 32;

  @Parameter(description = "Device", choices = {"auto", "cpu", "gpu"}, persist = false)
  String device = "auto";

  @Parameter(description = "Optional output directory for explain.csv, overlays.tif and explain.json",
      required = false, persist = false)
  String output = "";

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus explanation;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    ExplainRun.Request r = new ExplainRun.Request();
    ImagePlus imp;
    if (blank(image)) {
      imp = Ui.headless() ? null : WindowManager.getCurrentImage();
      if (imp == null) {
        throw new UserException("No image to explain. Give image=<title of an open image or an image file>.");
      }
      r.imageName = imp.getTitle();
    } else {
      imp = Ui.openImage(image.trim(), "image");
      r.imageName = image.trim();
    }
    r.image = ExplainInput.grayPlanes(imp, r.imageName);
    r.top = top;
    r.target = target;
    r.batch = batch;
    if (!blank(output)) r.output = Paths.get(output.trim()).toAbsolutePath();
    ExplainRun.Result res;
    try (ExplainRun.Model m = ExplainRun.open(model, device, batch, Ui.progress())) {
      res = ExplainRun.run(r, m, Ui.progress());
    }
    explanation = res.overlays;
    results = res.table;
    Ui.show(explanation);
    Ui.show(results, "Prototype explanation");
  }

  private static boolean blank(String s) {
    return s == null || s.trim().isEmpty();
  }
}
