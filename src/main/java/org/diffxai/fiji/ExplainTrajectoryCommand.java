package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.ExplainTrajectoryRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Explain Trajectory} menu entry, macro and command line: keys in {@link ExplainTrajectoryRun.Request}. */
@Plugin(type = Command.class, label = ExplainTrajectoryRun.COMMAND, headless = true, description = "Follows how a"
    + " prototype network's decision forms along a denoising trajectory: class probability and prototype similarity"
    + " at every kept step, and when the class is decided.")
public class ExplainTrajectoryCommand extends ExplainTrajectoryRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable table;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus plots;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus heatmaps;

  @Override
  public void run() {
    Present.show(ExplainTrajectoryRun.run(this, Ui.env()).outputs(), this);
  }
}
