package org.diffxai.fiji;

import ij.ImagePlus;
import org.diffxai.run.GeneratePhantomsRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The {@code Generate Phantoms} menu entry, macro and command line: keys in {@link GeneratePhantomsRun.Request}. */
@Plugin(type = Command.class, label = GeneratePhantomsRun.COMMAND, headless = true, description = "Generates"
    + " synthetic brain MRI slices (healthy and with a lesion) with their lesion masks, for training and testing.")
public class GeneratePhantomsCommand extends GeneratePhantomsRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus phantoms;

  @Override
  public void run() {
    Present.show(GeneratePhantomsRun.run(this, Ui.env()).outputs(), this);
  }
}
