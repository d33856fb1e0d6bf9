package org.diffxai.run;

import java.nio.file.Path;
import java.nio.file.Paths;
import org.scijava.plugin.Parameter;

/**
 * The keys of every command that writes a folder of results: {@code output} and {@code overwrite}. Declared once here;
 * a request extends this class (or {@link ModelKeys}) to have them. See {@link OutputFolder} for what they mean.
 */
public abstract class OutputKeys {

  @Parameter(style = "directory", required = false, persist = false,
      description = "Folder for the result files; empty = results are only shown")
  public String output = "";

  @Parameter(persist = false, description = "Replace the results of an earlier run in the output folder")
  public boolean overwrite;

  /** The output folder as an absolute path, or null when none is given. */
  public Path outputPath() {
    return output == null || output.trim().isEmpty() ? null : Paths.get(output.trim()).toAbsolutePath().normalize();
  }
}
