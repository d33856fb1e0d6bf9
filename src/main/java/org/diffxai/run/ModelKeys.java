package org.diffxai.run;

import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.scijava.plugin.Parameter;

/** The keys of every command that runs a model: {@code device}, plus {@link OutputKeys}. */
public abstract class ModelKeys extends OutputKeys {

  @Parameter(choices = {"auto", "cpu", "gpu"}, persist = false,
      description = "Where the model runs: auto = a GPU when the runtime sees one, else the CPU")
  public String device = "auto";

  /** The device, parsed once. */
  public DeviceChoice deviceChoice() {
    return DeviceChoice.parse(device);
  }
}
