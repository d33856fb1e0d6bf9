package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.FaithfulnessScoreRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Faithfulness Score} menu entry, macro and command line: keys in {@link FaithfulnessScoreRun.Request}. */
@Plugin(type = Command.class, label = FaithfulnessScoreRun.COMMAND, headless = true, description = "Scores how"
    + " faithful an explanation map is to a classifier by removing the pixels it points at and watching the output.")
public class FaithfulnessScoreCommand extends FaithfulnessScoreRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus curves;

  @Override
  public void run() {
    Present.show(FaithfulnessScoreRun.run(this, Ui.env()).outputs(), this);
  }
}
