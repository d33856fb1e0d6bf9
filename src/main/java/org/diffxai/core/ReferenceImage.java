package org.diffxai.core;

import java.util.Locale;

/**
 * A reference image for an image: what removed pixels become in the perturbation metrics and occlusion, and where the
 * path of Integrated Gradients starts. Images are NHWC planes of one sample, {@code v[(y * w + x) * c + ch]}, in image
 * intensity; a reference is an image of the same size.
 *
 * <ul>
 * <li>{@link #ZERO}: 0 everywhere, i.e. black in image units (Sundararajan et al. 2017's baseline for images; Bhatt et
 * al. 2020 and Petsiuk et al. 2018 delete to black).
 * <li>{@link #MIN}: each channel's minimum over the image (the background of most MR slices).
 * <li>{@link #MEAN}: each channel's mean over the image.
 * <li>{@link #BLUR}: the image blurred by a Gaussian of σ = {@link #blurSigma(int, int)} pixels, so a removed pixel
 * keeps the local mean intensity and loses its detail (Fong &amp; Vedaldi 2017 perturb by blurring for this reason: a
 * constant fill creates edges the classifier never saw in training; Sundararajan et al. 2017 list a blurred image as
 * an alternative baseline).
 * </ul>
 */
public enum ReferenceImage {
  ZERO, MIN, MEAN, BLUR;

  /** The key as users type it: zero, min, mean, blur. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a key (case-insensitive).
   *
   * @param option the option the key was given for, e.g. {@code baseline}, for the message
   */
  public static ReferenceImage of(String key, String option) {
    for (ReferenceImage b : values()) {
      if (b.key().equalsIgnoreCase(key == null ? "" : key.trim())) return b;
    }
    throw new UserException("Unknown " + option + " '" + key + "'. Use zero, min, mean or blur.");
  }

  /**
   * σ of the blur reference in pixels: 1/16 of the image's shorter side, at least 1 (4 px on 64×64, 16 px on 256×256):
   * wide enough to erase lesion-sized detail, narrow enough to keep the anatomy's layout.
   */
  public static double blurSigma(int h, int w) {
    return Math.max(1.0, Math.min(h, w) / 16.0);
  }

  /** The reference image for {@code image} (h·w·c values). */
  public float[] of(float[] image, int h, int w, int c) {
    int hw = h * w;
    if (image.length != hw * c) {
      throw new IllegalArgumentException(image.length + " values for " + h + "x" + w + "x" + c);
    }
    float[] b = new float[image.length];
    switch (this) {
      case ZERO:
        return b;
      case MIN:
      case MEAN:
        for (int ch = 0; ch < c; ch++) {
          double min = Double.POSITIVE_INFINITY, sum = 0;
          for (int p = 0; p < hw; p++) {
            float v = image[p * c + ch];
            min = Math.min(min, v);
            sum += v;
          }
          float fill = (float) (this == MIN ? min : sum / hw);
          for (int p = 0; p < hw; p++) b[p * c + ch] = fill;
        }
        return b;
      case BLUR:
        return gaussianBlur(image, h, w, c, blurSigma(h, w));
      default:
        throw new AssertionError(this);
    }
  }

  /**
   * Separable Gaussian blur of every channel: taps exp(−k²/2σ²) for |k| ≤ ⌈3σ⌉, renormalised over the taps that fall
   * inside the image (so borders keep their intensity instead of darkening).
   */
  public static float[] gaussianBlur(float[] image, int h, int w, int c, double sigma) {
    int r = (int) Math.ceil(3 * sigma);
    double[] k = new double[2 * r + 1];
    for (int i = -r; i <= r; i++) k[i + r] = Math.exp(-(double) i * i / (2 * sigma * sigma));
    double[] tmp = new double[image.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int lo = Math.max(-r, -x), hi = Math.min(r, w - 1 - x);
        for (int ch = 0; ch < c; ch++) {
          double s = 0, ws = 0;
          for (int i = lo; i <= hi; i++) {
            s += k[i + r] * image[(y * w + x + i) * c + ch];
            ws += k[i + r];
          }
          tmp[(y * w + x) * c + ch] = s / ws;
        }
      }
    }
    float[] out = new float[image.length];
    for (int y = 0; y < h; y++) {
      int lo = Math.max(-r, -y), hi = Math.min(r, h - 1 - y);
      for (int x = 0; x < w; x++) {
        for (int ch = 0; ch < c; ch++) {
          double s = 0, ws = 0;
          for (int i = lo; i <= hi; i++) {
            s += k[i + r] * tmp[((y + i) * w + x) * c + ch];
            ws += k[i + r];
          }
          out[(y * w + x) * c + ch] = (float) (s / ws);
        }
      }
    }
    return out;
  }
}
