package org.diffxai.explain;

import org.diffxai.core.UserException;
import org.diffxai.io.Fit;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageInput;
import org.diffxai.io.InputImages;
import org.diffxai.io.Planes;

/**
 * Turns the user's image into what a prototype network sees, under the one input policy of every command
 * ({@link ImageInput}, docs/input-images.md).
 *
 * <ul>
 *   <li>Type: 8-, 16- and 32-bit planes become float through their calibration, as training images are read; colour,
 *       palette and RGBA images become grey by the colour rule and are counted (never refused); images with more than
 *       one channel are rejected. Every slice and frame is one image to explain.
 *   <li>Size: an image of the model's input size is used as is; any other is brought to it by the {@link Fit} rule
 *       (default {@link Fit#PAD}), as training images are, and explanations are mapped back to its own pixels
 *       ({@link PrototypeExplainer}).
 * </ul>
 *
 * The intensity normalisation of training is applied by the classifier itself (its bundle's intensity mapping), so
 * values stay in image units here.
 */
public final class ExplainInput {

  private ExplainInput() {}

  /**
   * The planes of an open image as grey float, one per slice and frame, with slice labels, and what was converted.
   *
   * @param name how the image is called in messages (title or file)
   * @throws UserException for multi-channel or non-finite images, naming the fix
   */
  public static InputImages read(Planes imp, String name) {
    return ImageInput.of(imp, name, ImageInput.Settings.original());
  }

  /** The planes of {@link #read}. */
  public static FloatStack grayPlanes(Planes imp, String name) {
    return read(imp, name).stack();
  }

  /** One plane at the model's input size by the {@code fit} rule (the plane itself when the sizes agree). */
  public static float[] fit(float[] plane, int width, int height, int modelWidth, int modelHeight, Fit fit) {
    return fit.place(width, height, modelWidth, modelHeight).apply(plane);
  }
}
