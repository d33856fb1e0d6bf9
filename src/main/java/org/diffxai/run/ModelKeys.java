package org.diffxai.run;

import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.scijava.plugin.Parameter;

/** The keys of every command that runs a model: {@code device} and {@code trust}, plus {@link OutputKeys}. */
public abstract class ModelKeys extends OutputKeys {

  @Parameter(choices = {"auto", "cpu", "gpu"}, persist = false,
      description = "Where the model runs: auto = a GPU when the runtime sees one, else the CPU")
  public String device = "auto";

  @Parameter(persist = false, description = "Run a model whose graph uses operations outside the allow-list (file,"
      + " network or other side effects); only for models you trust (docs/security.md)")
  public boolean trust;

  /** The device, parsed once. */
  public DeviceChoice deviceChoice() {
    return DeviceChoice.parse(device);
  }
}
