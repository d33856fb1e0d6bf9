package org.diffxai.io;

import ij.ImagePlus;
import ij.ImageStack;
import ij.io.FileInfo;
import ij.process.ColorProcessor;
import ij.process.ImageProcessor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An ImageJ image (an open window, or a file ImageJ opened, virtual stacks included) as {@link Planes}: planes are
 * read and converted to float when asked for, so a virtual stack stays on disk.
 */
public final class ImagePlusPlanes implements Planes {
  private final ImagePlus imp;
  private final String name;

  public ImagePlusPlanes(ImagePlus imp, String name) {
    this.imp = imp;
    this.name = name;
  }

  /** The ImageJ image behind these planes. */
  public ImagePlus image() {
    return imp;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int width() {
    return imp.getWidth();
  }

  @Override
  public int height() {
    return imp.getHeight();
  }

  private boolean consistent() {
    return (long) imp.getNChannels() * imp.getNSlices() * imp.getNFrames() == imp.getStackSize();
  }

  @Override
  public int channels() {
    return consistent() ? imp.getNChannels() : 1;
  }

  @Override
  public int slices() {
    return consistent() ? imp.getNSlices() : imp.getStackSize();
  }

  @Override
  public int frames() {
    return consistent() ? imp.getNFrames() : 1;
  }

  @Override
  public int bitDepth() {
    return imp.getBitDepth();
  }

  @Override
  public float[] plane(int index) {
    ImageStack stack = imp.getStack();
    ImageProcessor ip = stack.getProcessor(index + 1);
    if (ip.getBitDepth() == 32) return (float[]) ip.getPixels();
    if (ip.getBitDepth() != 24) ip.setCalibrationTable(imp.getCalibration().getCTable());
    return (float[]) ip.convertToFloat().getPixels();
  }

  @Override
  public int[] rgbPlane(int index) {
    ImageProcessor ip = imp.getStack().getProcessor(index + 1);
    return ip instanceof ColorProcessor ? (int[]) ip.getPixels() : null;
  }

  @Override
  public String label(int index) {
    return imp.getStack().getSliceLabel(index + 1);
  }

  @Override
  public Map<String, String> properties() {
    Map<String, String> m = new LinkedHashMap<>();
    String[] props = imp.getPropertiesAsArray();
    if (props == null) { // a virtual TIFF stack keeps the file's properties in its FileInfo
      FileInfo fi = imp.getOriginalFileInfo();
      props = fi == null ? null : fi.properties;
    }
    if (props != null) {
      for (int i = 0; i + 1 < props.length; i += 2) {
        if (props[i] != null && props[i + 1] != null) m.put(props[i], props[i + 1]);
      }
    }
    String info = imp.getInfoProperty();
    if (info != null) m.putIfAbsent("Info", info);
    return Collections.unmodifiableMap(m);
  }

  @Override
  public double[] pixelSize() {
    ij.measure.Calibration cal = imp.getCalibration();
    return cal != null && cal.scaled() ? new double[] {cal.pixelWidth, cal.pixelHeight} : null;
  }

  @Override
  public String unit() {
    ij.measure.Calibration cal = imp.getCalibration();
    return cal == null ? "" : cal.getUnit();
  }

  @Override
  public String description() {
    FileInfo fi = imp.getOriginalFileInfo();
    return fi == null ? null : fi.description;
  }
}
