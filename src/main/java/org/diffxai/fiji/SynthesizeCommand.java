package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.SynthesizeRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Synthesize} menu entry, macro and command line: keys in {@link SynthesizeRun.Request}. */
@Plugin(type = Command.class, label = SynthesizeRun.COMMAND, headless = true, description = "Synthesizes images with a"
    + " diffusion denoiser and keeps how each image formed, step by step (the denoising trajectory).")
public class SynthesizeCommand extends SynthesizeRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus synthesized;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus trajectory;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Override
  public void run() {
    Present.show(SynthesizeRun.run(this, Ui.env()).outputs(), this);
  }
}
