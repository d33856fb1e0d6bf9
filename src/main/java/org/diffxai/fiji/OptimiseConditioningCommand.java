package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.OptimiseConditioningRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Optimise Conditioning} menu entry, macro and command line: keys in {@link OptimiseConditioningRun.Request}. */
@Plugin(type = Command.class, label = OptimiseConditioningRun.COMMAND, headless = true, description = "Moves the"
    + " denoiser's class embedding by gradient ascent on a classifier's class log-probability, kept near the learned"
    + " embedding, and shows the images before and after: a global explanation without text (DiffExplainer).")
public class OptimiseConditioningCommand extends OptimiseConditioningRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus conditioning;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable per_image;

  @Override
  public void run() {
    Present.show(OptimiseConditioningRun.run(this, Ui.env()).outputs(), this);
  }
}
