package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.BiasReportRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Bias Report} menu entry, macro and command line: keys in {@link BiasReportRun.Request}. */
@Plugin(type = Command.class, label = BiasReportRun.COMMAND, headless = true, description = "Checks whether a"
    + " prototype network's evidence lies outside the anatomy, and names the place when it concentrates there (a"
    + " shortcut such as a mark or text in a corner).")
public class BiasReportCommand extends BiasReportRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus bias_evidence;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable prototypes;

  @Override
  public void run() {
    Present.show(BiasReportRun.run(this, Ui.env()).outputs(), this);
  }
}
