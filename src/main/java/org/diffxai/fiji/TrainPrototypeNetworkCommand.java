package org.diffxai.fiji;

import ij.measure.ResultsTable;
import org.diffxai.run.TrainPrototypesRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * The {@code Train Prototype Network} menu entry, macro and command line: keys in {@link TrainPrototypesRun.Request}.
 */
@Plugin(type = Command.class, label = TrainPrototypesRun.COMMAND, headless = true, description = "Trains a prototype"
    + " network (PPNet, EPPNet or ProtoPool) on a folder with one sub-folder per class and saves it as a calibrated"
    + " classifier bundle.")
public class TrainPrototypeNetworkCommand extends TrainPrototypesRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable training;

  @Override
  public void run() {
    Present.show(TrainPrototypesRun.run(this, Ui.env()).outputs(), this);
  }
}
