package org.diffxai.fiji;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import org.diffxai.run.ExplainPrototypesRun;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * The {@code Explain with Prototypes} menu entry, macro and command line: keys in
 * {@link ExplainPrototypesRun.Request}.
 */
@Plugin(type = Command.class, label = ExplainPrototypesRun.COMMAND, headless = true, description = "Shows why a"
    + " prototype network classified each slice: the training-image parts it found alike, where, and how much each"
    + " counted.")
public class ExplainPrototypesCommand extends ExplainPrototypesRun.Request implements Command {

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus explanation;

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable results;

  @Override
  public void run() {
    Present.show(ExplainPrototypesRun.run(this, Ui.env()).outputs(), this);
  }
}
