package org.diffxai.fiji;

import ij.IJ;
import ij.Macro;
import ij.plugin.PlugIn;
import org.diffxai.model.EngineProbe;

/**
 * A test-only ImageJ plugin: opens the bundles named in the macro options ({@code bundles=[denoiser:DIR
 * classifier:DIR ...]}) through the model layer inside the real ImageJ application and logs one line per bundle
 * ({@link EngineProbe}).
 */
public class EngineProbePlugin implements PlugIn {
  @Override
  public void run(String arg) {
    String options = Macro.getOptions();
    String bundles = Macro.getValue(options == null ? "" : options, "bundles", "");
    for (String line : EngineProbe.probe(bundles.trim().split("\\s+"))) IJ.log(line);
  }
}
