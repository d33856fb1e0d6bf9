package org.diffxai.explain;

import java.util.Locale;
import org.diffxai.io.Resize;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.diffxai.io.Planes;

/**
 * Turns the user's image into what a prototype network sees, or says clearly why it cannot.
 *
 * <ul>
 *   <li>Type: 8-, 16- and 32-bit planes become float through their calibration (as training images are read, see
 *       {@link org.diffxai.io.ImageFolder}); an RGB image is accepted only when its three channels are equal (a gray
 *       image saved as RGB) and rejected otherwise; images with more than one channel are rejected. Every slice and
 *       frame is one image to explain.
 *   <li>Size: an image of the model's input size is used as is. One of another size but the same aspect ratio (within
 *       {@link #ASPECT_TOLERANCE}) is resized to the input size the way training images are (bilinear, averaging when
 *       shrinking); explanations are mapped back to its own pixels. A different aspect ratio is rejected, because
 *       stretching would show the model a distorted image.
 * </ul>
 *
 * The intensity normalisation of training is applied by the classifier itself (its bundle's intensity mapping), so
 * values stay in image units here.
 */
public final class ExplainInput {

  /** Largest relative difference of width/height ratios that is resized rather than rejected. */
  public static final double ASPECT_TOLERANCE = 0.01;

  private ExplainInput() {}

  /**
   * The planes of an open image as gray float, one per slice and frame, with slice labels.
   *
   * @param name how the image is called in messages (title or file)
   * @throws UserException for colour, multi-channel or non-finite images, naming the fix
   */
  public static FloatStack grayPlanes(Planes imp, String name) {
    if (imp.channels() > 1) {
      throw new UserException("The image " + name + " has " + imp.channels() + " channels; the model explains"
          + " one gray channel. Keep one channel (Image > Color > Split Channels, or Image > Duplicate... with one"
          + " channel) and explain that.");
    }
    int n = imp.planeCount();
    float[][] planes = new float[n][];
    String[] labels = new String[n];
    for (int i = 0; i < n; i++) {
      int[] rgb = imp.rgbPlane(i);
      planes[i] = rgb != null ? grayFromRgb(rgb, imp.width(), name, i) : imp.plane(i);
      requireFinite(planes[i], imp.width(), name, i, n);
      labels[i] = imp.label(i);
    }
    return new FloatStack(imp.width(), imp.height(), 1, n, 1, planes, labels);
  }

  private static float[] grayFromRgb(int[] px, int width, String name, int slice) {
    float[] out = new float[px.length];
    for (int i = 0; i < px.length; i++) {
      int r = (px[i] >> 16) & 0xff, g = (px[i] >> 8) & 0xff, b = px[i] & 0xff;
      if (r != g || g != b) {
        throw new UserException("The image " + name + " is an RGB colour image (slice " + (slice + 1) + ", pixel x="
            + (i % width) + ", y=" + (i / width) + " has red " + r + ", green " + g + ", blue " + b
            + "); the model explains gray images. Convert it with Image > Type > 8-bit (or 32-bit) first.");
      }
      out[i] = r;
    }
    return out;
  }

  private static void requireFinite(float[] p, int width, String name, int slice, int slices) {
    for (int i = 0; i < p.length; i++) {
      if (!Float.isFinite(p[i])) {
        throw new UserException("The image " + name + (slices > 1 ? ", slice " + (slice + 1) + "," : "") + " has a "
            + (Float.isNaN(p[i]) ? "NaN" : "infinite") + " value at x=" + (i % width) + ", y=" + (i / width)
            + ". Replace non-finite values (Process > Math > Remove NaNs...) first.");
      }
    }
  }

  /**
   * Checks that an image of width×height can be shown to a model taking modelWidth×modelHeight.
   *
   * @throws UserException naming both sizes and the fix when the aspect ratios differ by more than 1 %
   */
  public static void checkSize(int width, int height, int modelWidth, int modelHeight, String name, String model) {
    double ratio = ((double) width / height) / ((double) modelWidth / modelHeight);
    if (Math.abs(ratio - 1) > ASPECT_TOLERANCE) {
      throw new UserException(String.format(Locale.ROOT, "The image %s is %dx%d (aspect ratio %.3f) but model %s"
          + " takes %dx%d images (aspect ratio %.3f); resizing would distort it. Crop or pad it to aspect ratio %.3f"
          + " (Image > Crop, or Image > Adjust > Canvas Size...) and explain that.", name, width, height,
          (double) width / height, model, modelWidth, modelHeight, (double) modelWidth / modelHeight,
          (double) modelWidth / modelHeight));
    }
  }

  /**
   * One plane at the model's input size: the plane itself when the sizes agree, else resized as training images are
   * (ImageJ bilinear interpolation, averaging when shrinking).
   */
  public static float[] fit(float[] plane, int width, int height, int modelWidth, int modelHeight) {
    if (width == modelWidth && height == modelHeight) return plane;
    return Resize.bilinear(plane, width, height, modelWidth, modelHeight);
  }
}
