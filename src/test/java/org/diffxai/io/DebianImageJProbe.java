package org.diffxai.io;

import ij.IJ;
import ij.ImagePlus;

/**
 * Run in a separate JVM against Debian's ImageJ ({@code java -cp /usr/share/java/ij.jar:test-classes ...}): opens a
 * file with that ImageJ and prints what it sees, one "key=value" per line, pixel values as IEEE bit patterns.
 * Uses only ImageJ API that exists in 1.53.
 */
public final class DebianImageJProbe {
  private DebianImageJProbe() {}

  public static void main(String[] args) {
    ImagePlus imp = IJ.openImage(args[0]);
    if (imp == null) {
      System.out.println("open=failed");
      return;
    }
    System.out.println("version=" + IJ.getVersion());
    System.out.println("bitDepth=" + imp.getBitDepth());
    System.out.println("dims=" + imp.getWidth() + " " + imp.getHeight() + " " + imp.getNChannels() + " "
        + imp.getNSlices() + " " + imp.getNFrames());
    System.out.println("hyperstack=" + imp.isHyperStack());
    System.out.println("unit=" + imp.getCalibration().getUnit() + " " + imp.getCalibration().pixelWidth);
    for (int i = 1; i <= imp.getStackSize(); i++) {
      System.out.println("label" + i + "=" + imp.getStack().getSliceLabel(i));
      float[] px = (float[]) imp.getStack().getPixels(i);
      StringBuilder sb = new StringBuilder("bits" + i + "=");
      for (float v : px) sb.append(Integer.toHexString(Float.floatToRawIntBits(v))).append(',');
      System.out.println(sb);
    }
  }
}
