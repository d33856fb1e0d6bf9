package org.diffxai.io;

import java.util.Map;

/**
 * Read access to the planes of an image, wherever it is: in memory ({@link FloatStack}), in a file read plane by plane,
 * or in an open ImageJ window ({@link ImagePlusPlanes}). Planes are in ImageJ's hyperstack order (channel fastest,
 * then slice, then frame), row-major, converted to float. The run layer reads its inputs through this interface, so it
 * never touches ImageJ types and a large trajectory is never held whole in memory.
 */
public interface Planes {

  /** The image's title or file name, for messages and the record. */
  String name();

  int width();

  int height();

  int channels();

  int slices();

  int frames();

  /** Bits per pixel as stored: 8, 16, 32 (float) or 24 (RGB). */
  int bitDepth();

  /** Number of planes, C × Z × T. */
  default int planeCount() {
    return channels() * slices() * frames();
  }

  /**
   * Plane {@code index} (0-based, ImageJ order) as float values (8- and 16-bit values through the image's intensity
   * calibration, RGB as ImageJ converts it); do not modify the array.
   */
  float[] plane(int index);

  /** Plane {@code index} as packed RGB when the image is an RGB image ({@link #bitDepth()} 24), else null. */
  default int[] rgbPlane(int index) {
    return null;
  }

  /** The slice label of a plane, or null. */
  String label(int index);

  /** The image's ImageJ properties (e.g. {@code trajectory.*}); empty when it has none. */
  Map<String, String> properties();

  /** The ImageDescription of the file the image was read from (e.g. OME-XML), or null. */
  String description();

  /** Physical pixel size {width, height} in {@link #unit()}, or null when the image is not calibrated. */
  default double[] pixelSize() {
    return null;
  }

  /** The unit of {@link #pixelSize()} (e.g. "mm"), or "". */
  default String unit() {
    return "";
  }

  /** All planes in memory, with the dimensions and labels. */
  default FloatStack toFloatStack() {
    int n = planeCount();
    float[][] p = new float[n][];
    String[] l = new String[n];
    for (int i = 0; i < n; i++) {
      p[i] = plane(i);
      l[i] = label(i);
    }
    return new FloatStack(width(), height(), channels(), slices(), frames(), p, l);
  }

  /** The same planes under another name (an in-memory stack named like the file it stands for). */
  static Planes named(String name, Planes p) {
    return new Planes() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public int width() {
        return p.width();
      }

      @Override
      public int height() {
        return p.height();
      }

      @Override
      public int channels() {
        return p.channels();
      }

      @Override
      public int slices() {
        return p.slices();
      }

      @Override
      public int frames() {
        return p.frames();
      }

      @Override
      public int bitDepth() {
        return p.bitDepth();
      }

      @Override
      public float[] plane(int index) {
        return p.plane(index);
      }

      @Override
      public int[] rgbPlane(int index) {
        return p.rgbPlane(index);
      }

      @Override
      public String label(int index) {
        return p.label(index);
      }

      @Override
      public Map<String, String> properties() {
        return p.properties();
      }

      @Override
      public String description() {
        return p.description();
      }

      @Override
      public double[] pixelSize() {
        return p.pixelSize();
      }

      @Override
      public String unit() {
        return p.unit();
      }
    };
  }
}
