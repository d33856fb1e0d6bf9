package org.diffxai.fiji;

import ij.measure.ResultsTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import org.diffxai.core.CancelledException;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * A tiny real command for front-end tests: writes its parameters (and what it sees of its environment) to the file
 * {@code output}, via a {@code .partial} file that is removed on cancel. {@code fail} makes it throw a UserException
 * ("user"), a bug ("bug") or cancel ("cancel"); {@code wait_ms} makes it poll progress/cancel for that long.
 */
@Plugin(type = Command.class, label = "Diffusion Test Write", headless = true,
    description = "Writes its parameters to a file (front-end test command).")
public class TestWriteCommand implements Command {

  @Parameter(persist = false, description = "A whole number.", min = "0", max = "100")
  private int count = 1;

  @Parameter(persist = false, description = "Some text, may contain spaces.")
  private String text = "x";

  @Parameter(persist = false, description = "A choice.", choices = {"fast", "slow"})
  private String mode = "fast";

  @Parameter(persist = false, description = "A real number.")
  private double scale = 0.5;

  @Parameter(persist = false, description = "A flag.")
  private boolean flag = false;

  @Parameter(persist = false, description = "Fail on purpose.", choices = {"none", "user", "bug", "cancel"})
  private String fail = "none";

  @Parameter(persist = false, description = "Milliseconds to wait, polling for cancel.", min = "0")
  private int wait_ms = 0;

  @Parameter(persist = false, description = "File to write.")
  private String output = "";

  @Parameter(required = false)
  private LogService log;

  @Parameter(type = ItemIO.OUTPUT)
  private ResultsTable table;

  @Parameter(type = ItemIO.OUTPUT)
  private String summary;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this); // scripts (CommandService) get the checks macros get
    Progress progress = Ui.progress();
    if (output.isEmpty()) throw new UserException("No output file given. Add output=<file path>.");
    if (fail.equals("user")) throw new UserException("Failure requested with fail=user. Use fail=none to succeed.");
    if (fail.equals("bug")) throw new IllegalStateException("deliberate bug for testing");
    Path out = Paths.get(output);
    Path partial = Paths.get(output + ".partial");
    try {
      Files.write(partial, "partial".getBytes(StandardCharsets.UTF_8));
      try {
        for (int waited = 0; waited < wait_ms; waited += 50) {
          progress.report("Waiting " + waited + " ms", waited / (double) wait_ms);
          progress.checkCancelled();
          try {
            Thread.sleep(50);
          } catch (InterruptedException e) {
            throw new CancelledException();
          }
        }
        if (fail.equals("cancel")) throw new CancelledException();
        ClassLoader tccl = Thread.currentThread().getContextClassLoader();
        summary = "count=" + count + "\ntext=" + text + "\nmode=" + mode + "\nscale=" + scale + "\nflag=" + flag
            + "\ncontext_class_loader=" + (tccl == null ? "null" : tccl.getClass().getName())
            + "\nsame_loader=" + (tccl == getClass().getClassLoader())
            + "\nlog_service=" + (log != null) + "\nheadless=" + Ui.headless() + "\n";
        Files.write(partial, summary.getBytes(StandardCharsets.UTF_8));
        Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING);
        progress.report("Done", 1.0);
      } finally {
        Files.deleteIfExists(partial);
      }
    } catch (IOException e) {
      throw new UserException("Cannot write " + output + ": " + e.getMessage() + ". Choose a writable output path.", e);
    }
    table = new ResultsTable();
    table.incrementCounter();
    table.addValue("count", count);
    table.addValue("scale", scale);
    Ui.show(table, "Diffusion Test Write");
  }
}
