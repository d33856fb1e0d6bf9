package org.diffxai.io;

import ij.process.FloatProcessor;
import ij.process.ImageProcessor;

/**
 * The one image resize of the project (training images, explanation inputs, galleries): ImageJ's bilinear
 * interpolation, averaging when shrinking ({@code ImageProcessor.resize(w, h, true)}), so a model sees its inputs the
 * way it saw its training images.
 */
public final class Resize {
  private Resize() {}

  /** A float plane of width×height resized to newWidth×newHeight (the plane itself when the sizes agree). */
  public static float[] bilinear(float[] plane, int width, int height, int newWidth, int newHeight) {
    if (width == newWidth && height == newHeight) return plane;
    ImageProcessor fp = new FloatProcessor(width, height, plane);
    fp.setInterpolationMethod(ImageProcessor.BILINEAR);
    return (float[]) fp.resize(newWidth, newHeight, true).getPixels();
  }
}
