package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.TrainDenoiserRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Train Denoiser} menu entry, macro and command line: keys in {@link TrainDenoiserRun.Request}. */
@Plugin(type = Command.class, label = TrainDenoiserRun.COMMAND, headless = true, description = "Trains a diffusion"
    + " denoiser on a folder of images and saves it as a model bundle that Synthesize can load.")
public class TrainDenoiserCommand extends TrainDenoiserRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable training;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus loss;

  @Override
  public void run() {
    Present.show(TrainDenoiserRun.run(this, Ui.env()).outputs(), this);
  }
}
