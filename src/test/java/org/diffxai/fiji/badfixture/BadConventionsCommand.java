package org.diffxai.fiji.badfixture;

import org.scijava.command.Command;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** Breaks every command convention, so CommandSpecTest can check each is reported. Not a usable command. */
@Plugin(type = Command.class, menuPath = "Plugins>Bad", headless = false)
public class BadConventionsCommand implements Command {

  @Parameter(label = "My count")
  private int myCount = 1;

  @Parameter
  private boolean on = true;

  @Parameter
  private LogService log;

  @Parameter(choices = {"a", "b"})
  private String pick = "c";

  @Parameter(min = "1")
  private int n = 0;

  @Parameter(min = "one")
  private int m = 2;

  @Parameter(choices = {"1", "2"})
  private int numbered = 1;

  @Override
  public void run() {}
}
