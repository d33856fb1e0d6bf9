package org.diffxai.fiji;

import ij.measure.ResultsTable;
import org.diffxai.run.ExportBioImageIoRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Export bioimage.io} menu entry, macro and command line: keys in {@link ExportBioImageIoRun.Request}. */
@Plugin(type = Command.class, label = ExportBioImageIoRun.COMMAND, headless = true, description = "Exports a denoiser"
    + " or classifier bundle as a bioimage.io model package (folder and zip), tested before it is written.")
public class ExportBioImageIoCommand extends ExportBioImageIoRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable exported;

  @Override
  public void run() {
    Present.show(ExportBioImageIoRun.run(this, Ui.env()).outputs(), this);
  }
}
