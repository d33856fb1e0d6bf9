package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.TrajectoryProfileRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Trajectory Profile} menu entry, macro and command line: keys in {@link TrajectoryProfileRun.Request}. */
@Plugin(type = Command.class, label = TrajectoryProfileRun.COMMAND, headless = true, description = "Measures how the"
    + " images of a trajectory formed: one row per kept step and a plot against the diffusion timestep.")
public class TrajectoryProfileCommand extends TrajectoryProfileRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable profile;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus plot;

  @Override
  public void run() {
    Present.show(TrajectoryProfileRun.run(this, Ui.env()).outputs(), this);
  }
}
