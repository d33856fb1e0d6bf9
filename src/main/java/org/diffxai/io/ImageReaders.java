package org.diffxai.io;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.io.Opener;
import ij.process.ImageProcessor;
import java.nio.file.Path;
import org.diffxai.core.UserException;

/**
 * Opening image files as ImageJ images for the commands that need an {@link ImagePlus} (trajectories, galleries, the
 * Fiji layer's {@code image=} keys), with one clear {@link UserException} per problem instead of ImageJ's error
 * dialogs (which would break headless runs). TIFFs are read by ImageJ's TIFF reader after {@link TiffCheck} refused
 * truncated, tiled and BigTIFF files; every other format goes through the input policy of {@link ImageInput}
 * (docs/input-images.md) and comes back as a 32-bit image without any DICOM header.
 */
public final class ImageReaders {

  private ImageReaders() {}

  /**
   * Opens an image file: a TIFF as ImageJ reads it (types, calibration, hyperstack, labels kept); PNG, JPEG, GIF, BMP
   * and DICOM as 32-bit grey planes in their own units by {@link ImageInput}.
   *
   * @throws UserException if the file is missing, a folder, unreadable, empty, truncated or not a supported image
   */
  public static ImagePlus open(Path file) {
    return open(file, false);
  }

  /**
   * As {@link #open(Path)}, with a TIFF opened as a virtual stack (planes read from disk when needed, so memory stays
   * flat for any number of planes) with ImageJ's own TIFF reader, also where Bio-Formats would take over
   * {@code .ome.tif} files (Fiji).
   *
   * @throws UserException as {@link #open(Path)}
   */
  public static ImagePlus openVirtual(Path file) {
    return open(file, true);
  }

  private static ImagePlus open(Path file, boolean virtual) {
    Path abs = file.toAbsolutePath().normalize();
    ImageDecoder.requireFile(abs);
    if (TiffCheck.isTiff(ImageDecoder.head(abs))) {
      String why = TiffCheck.check(abs).unsupported();
      if (why != null) throw new UserException("Cannot open " + abs + ": " + why + ".");
      return openTiff(abs, virtual);
    }
    InputImages in = ImageInput.read(abs, ImageInput.Settings.original(), null);
    FloatStack s = in.stack();
    ImageStack st = new ImageStack(s.width, s.height);
    for (int i = 0; i < s.planeCount(); i++) st.addSlice(s.label(i), s.plane(i));
    ImagePlus imp = new ImagePlus(abs.getFileName().toString(), st);
    imp.setDimensions(s.channels, s.slices, s.frames);
    return imp;
  }

  /**
   * Opens a TIFF that {@link TiffCheck} accepted with ImageJ's TIFF reader (ImageJ's errors go to its log, never a
   * dialog).
   */
  static ImagePlus openTiff(Path abs, boolean virtual) {
    ImagePlus imp;
    try {
      IJ.redirectErrorMessages(); // ImageJ reports to the log instead of opening a dialog (reset after one open)
      Path dir = abs.getParent();
      String name = abs.getFileName().toString();
      imp = virtual ? IJ.openVirtual(abs.toString())
          : new Opener().openTiff(dir == null ? "" : dir.toString() + java.io.File.separator, name);
      if (imp != null && virtual) applyProperties(imp);
    } catch (RuntimeException | OutOfMemoryError e) {
      String why = e instanceof OutOfMemoryError ? "not enough memory" : String.valueOf(e.getMessage());
      throw new UserException("Cannot open " + abs + ": " + why + ".", e);
    }
    if (imp == null || imp.getStackSize() < 1 || imp.getWidth() < 1 || imp.getHeight() < 1) {
      throw new UserException("Cannot open " + abs + ": ImageJ cannot read this TIFF (an unusual sample format or a"
          + " damaged file). Open it in Fiji with Bio-Formats and save it with File > Save As > Tiff....");
    }
    return imp;
  }

  /**
   * Reads a 32-bit float TIFF (any ImageJ (hyper)stack: C channels x Z slices x T frames) into float planes, e.g. the
   * starting noise x_T of a synthesis run. Every value must be finite.
   *
   * @throws UserException if the file cannot be opened, is not 32-bit, or holds NaN or infinite values (naming the
   *     first such slice)
   */
  public static FloatStack readFloatStack(Path file) {
    ImagePlus imp = open(file);
    if (imp.getBitDepth() != 32) {
      throw new UserException(file + " is a " + describeType(imp) + " image; a 32-bit float image is needed. "
          + "Convert it with Image > Type > 32-bit and save it as TIFF.");
    }
    FloatStack s = toFloatStack(imp);
    requireFinite(s, file);
    return s;
  }

  /**
   * Reads a single 2-D image of any supported format as one grey float plane under the input policy of
   * {@link ImageInput} (8/16-bit values kept, colour by the colour rule).
   *
   * @throws UserException if the file cannot be opened or holds more than one plane
   */
  public static FloatStack readPlane(Path file) {
    FloatStack s = ImageInput.read(file, ImageInput.Settings.original(), null).stack();
    if (s.planeCount() != 1) {
      throw new UserException(file + " holds " + s.planeCount() + " images (" + s.channels + " channels, " + s.slices
          + " slices, " + s.frames + " frames); a single 2-D image is needed. Save the slice you want with Image >"
          + " Duplicate... (current slice only).");
    }
    return s;
  }

  /** ImageJ's virtual TIFF stacks leave the file's properties in its FileInfo; a whole-file open applies them. */
  private static void applyProperties(ImagePlus imp) {
    ij.io.FileInfo fi = imp.getOriginalFileInfo();
    String[] props = fi == null ? null : fi.properties;
    if (props == null || imp.getPropertiesAsArray() != null) return;
    for (int i = 0; i + 1 < props.length; i += 2) {
      if (props[i] != null && props[i + 1] != null) imp.setProp(props[i], props[i + 1]);
    }
  }

  /**
   * The planes of an ImagePlus as float (converting non-float types, without calibration or the colour rule: for
   * float results such as synthesized stacks; user images go through {@link ImageInput#of}), with its dimensions and
   * slice labels (DICOM headers removed).
   */
  public static FloatStack toFloatStack(ImagePlus imp) {
    ImageStack stack = imp.getStack();
    int n = stack.getSize();
    float[][] planes = new float[n][];
    String[] labels = new String[n];
    String info = imp.getInfoProperty();
    boolean dicom = info != null && ImageDecoder.isDicomHeader(info);
    for (int i = 0; i < n; i++) {
      ImageProcessor ip = stack.getProcessor(i + 1);
      planes[i] = (float[]) (ip.getBitDepth() == 32 ? ip : ip.convertToFloat()).getPixels();
      labels[i] = ImageDecoder.safeLabel(stack.getSliceLabel(i + 1), dicom);
    }
    int c = imp.getNChannels(), z = imp.getNSlices(), t = imp.getNFrames();
    if ((long) c * z * t != n) { // inconsistent dimensions: treat as a plain stack
      c = 1;
      z = n;
      t = 1;
    }
    return new FloatStack(imp.getWidth(), imp.getHeight(), c, z, t, planes, labels);
  }

  /**
   * Checks that every value is finite.
   *
   * @throws UserException naming the file, the first bad slice (1-based, with label and channel), the pixel and the
   *     count of bad values in that slice
   */
  public static void requireFinite(FloatStack s, Path file) {
    for (int p = 0; p < s.planeCount(); p++) {
      float[] px = s.plane(p);
      int bad = 0, first = -1;
      for (int i = 0; i < px.length; i++) {
        if (!Float.isFinite(px[i])) {
          if (first < 0) first = i;
          bad++;
        }
      }
      if (bad > 0) {
        float v = px[first];
        throw new UserException(file + ": " + s.describe(p) + " has " + bad + " non-finite value"
            + (bad == 1 ? "" : "s") + " (first: " + (Float.isNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity")
            + " at x=" + (first % s.width) + ", y=" + (first / s.width) + "). Replace them with finite numbers "
            + "(e.g. Process > Math > Remove NaNs...) or use another file.");
      }
    }
  }

  private static String describeType(ImagePlus imp) {
    switch (imp.getBitDepth()) {
      case 24:
        return "RGB colour";
      case 8:
        return "8-bit";
      case 16:
        return "16-bit";
      default:
        return imp.getBitDepth() + "-bit";
    }
  }
}
