package org.diffxai.io;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.io.Opener;
import ij.process.ImageProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diffxai.core.UserException;

/**
 * Reading images through ImageJ 1.x's openers (TIFF, PNG, JPEG, GIF, BMP, DICOM, FITS, PGM, ImageJ ZIP ... whatever
 * {@link Opener#openImage(String)} recognises), with one clear {@link UserException} per problem instead of ImageJ's
 * error dialogs (which would break headless runs).
 */
public final class ImageReaders {

  private ImageReaders() {}

  /**
   * Opens any image ImageJ can read. ImageJ's own error messages are redirected to the log (never a dialog).
   *
   * @throws UserException if the file is missing, a folder, unreadable, or not in a format ImageJ can open
   */
  public static ImagePlus open(Path file) {
    return open(file, false);
  }

  /**
   * Opens a TIFF as a virtual stack (planes read from disk when needed, so memory stays flat for any number of
   * planes) with ImageJ's own TIFF reader, also where Bio-Formats would take over {@code .ome.tif} files (Fiji); other
   * formats are read whole.
   *
   * @throws UserException as {@link #open(Path)}
   */
  public static ImagePlus openVirtual(Path file) {
    return open(file, true);
  }

  private static ImagePlus open(Path file, boolean virtual) {
    Path abs = file.toAbsolutePath().normalize();
    if (!Files.exists(abs)) throw new UserException(abs + " does not exist. Check the path.");
    if (Files.isDirectory(abs)) throw new UserException(abs + " is a folder. Choose an image file.");
    if (!Files.isReadable(abs)) {
      throw new UserException("Cannot read " + abs + ": permission denied. Check the file's permissions.");
    }
    String name = abs.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    boolean tiff = name.endsWith(".tif") || name.endsWith(".tiff");
    ImagePlus imp;
    try {
      IJ.redirectErrorMessages(); // ImageJ reports to the log instead of opening a dialog (reset after one open)
      imp = virtual && tiff ? IJ.openVirtual(abs.toString()) : new Opener().openImage(abs.toString());
      if (imp != null && virtual && tiff) applyProperties(imp);
    } catch (RuntimeException | OutOfMemoryError e) {
      String why = e instanceof OutOfMemoryError ? "not enough memory" : String.valueOf(e.getMessage());
      throw new UserException("Cannot open " + abs + ": " + why + ".", e);
    }
    if (imp == null || imp.getStackSize() < 1 || imp.getWidth() < 1 || imp.getHeight() < 1) {
      throw new UserException("Cannot open " + abs + ": not an image ImageJ can read, or a damaged file. "
          + "Use a TIFF, PNG, JPEG or DICOM image (File > Save As > Tiff... in ImageJ converts most formats).");
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
   * Reads a single 2-D image of any type ImageJ opens as one float plane (8/16-bit values kept, RGB converted to grey
   * as ImageJ's Image > Type > 32-bit does).
   *
   * @throws UserException if the file cannot be opened or holds more than one plane
   */
  public static FloatStack readPlane(Path file) {
    ImagePlus imp = open(file);
    if (imp.getStackSize() != 1) {
      throw new UserException(file + " holds " + imp.getStackSize() + " images (" + imp.getNChannels()
          + " channels, " + imp.getNSlices() + " slices, " + imp.getNFrames() + " frames); a single 2-D image is "
          + "needed. Save the slice you want with Image > Duplicate... (current slice only).");
    }
    return toFloatStack(imp);
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

  /** The planes of an ImagePlus as float (converting non-float types), with its dimensions and slice labels. */
  public static FloatStack toFloatStack(ImagePlus imp) {
    ImageStack stack = imp.getStack();
    int n = stack.getSize();
    float[][] planes = new float[n][];
    String[] labels = new String[n];
    for (int i = 0; i < n; i++) {
      ImageProcessor ip = stack.getProcessor(i + 1);
      planes[i] = (float[]) (ip.getBitDepth() == 32 ? ip : ip.convertToFloat()).getPixels();
      labels[i] = stack.getSliceLabel(i + 1);
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
