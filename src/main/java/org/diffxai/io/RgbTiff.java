package org.diffxai.io;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.io.FileSaver;
import ij.process.ColorProcessor;
import java.io.IOException;
import java.nio.file.Path;

/** RGB pictures as an ImageJ TIFF stack (ImageJ's own writer), with slice labels and an Info text. */
public final class RgbTiff {
  private RgbTiff() {}

  /** The pictures as an ImageJ image (title, labels, Info). */
  public static ImagePlus image(String title, RgbStack s, String info) {
    ImageStack stack = new ImageStack(s.width, s.height);
    for (int i = 0; i < s.planeCount(); i++) {
      stack.addSlice(s.label(i), new ColorProcessor(s.width, s.height, s.plane(i).clone()));
    }
    ImagePlus imp = new ImagePlus(title, stack);
    if (info != null) imp.setProperty("Info", info);
    return imp;
  }

  /** Writes the file as given (atomicity is the caller's, see run.OutputFolder). */
  public static void write(Path file, RgbStack s, String info) throws IOException {
    ImagePlus imp = image(file.getFileName().toString(), s, info);
    IJ.redirectErrorMessages();
    boolean ok = s.planeCount() == 1 ? new FileSaver(imp).saveAsTiff(file.toString())
        : new FileSaver(imp).saveAsTiffStack(file.toString());
    if (!ok) throw new IOException("ImageJ could not save the TIFF");
  }
}
