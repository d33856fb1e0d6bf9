package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.CompareMethodsRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * The {@code Compare Explanation Methods} menu entry, macro and command line: keys in
 * {@link CompareMethodsRun.Request}.
 */
@Plugin(type = Command.class, label = CompareMethodsRun.COMMAND, headless = true, description = "Compares the"
    + " explanations of several prototype networks on the same images with every faithfulness metric, against a"
    + " random map and a randomised network.")
public class CompareExplanationMethodsCommand extends CompareMethodsRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable comparison;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus plots;

  @Override
  public void run() {
    Present.show(CompareMethodsRun.run(this, Ui.env()).outputs(), this);
  }
}
