package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.AttributionMapsRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Attribution Maps} menu entry, macro and command line: keys in {@link AttributionMapsRun.Request}. */
@Plugin(type = Command.class, label = AttributionMapsRun.COMMAND, headless = true, description = "Shows which pixels"
    + " a classifier's score for a class depends on, by Integrated Gradients, Saliency, SmoothGrad, Grad-CAM or"
    + " Occlusion.")
public class AttributionMapsCommand extends AttributionMapsRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus attributions;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Override
  public void run() {
    Present.show(AttributionMapsRun.run(this, Ui.env()).outputs(), this);
  }
}
