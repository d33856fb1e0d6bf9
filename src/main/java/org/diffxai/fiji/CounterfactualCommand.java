package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.CounterfactualRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Counterfactual} menu entry, macro and command line: keys in {@link CounterfactualRun.Request}. */
@Plugin(type = Command.class, label = CounterfactualRun.COMMAND, headless = true, description = "Shows what would"
    + " have to change in an image for the classifier to decide another class: a diffusion counterfactual and its"
    + " difference map.")
public class CounterfactualCommand extends CounterfactualRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus counterfactual;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus difference;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable steps;

  @Override
  public void run() {
    Present.show(CounterfactualRun.run(this, Ui.env()).outputs(), this);
  }
}
