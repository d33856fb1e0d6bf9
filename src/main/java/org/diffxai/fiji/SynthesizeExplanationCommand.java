package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.SynthesizeExplanationRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Synthesize Explanation} menu entry, macro and command line: keys in {@link SynthesizeExplanationRun.Request}. */
@Plugin(type = Command.class, label = SynthesizeExplanationRun.COMMAND, headless = true, description = "Synthesizes"
    + " images a classifier finds most typical of a class (or most like one prototype), beside unguided samples with"
    + " the same seeds: a global explanation.")
public class SynthesizeExplanationCommand extends SynthesizeExplanationRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus explanation;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable steps;

  @Override
  public void run() {
    Present.show(SynthesizeExplanationRun.run(this, Ui.env()).outputs(), this);
  }
}
