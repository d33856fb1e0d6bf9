package org.diffxai.metrics;

import java.util.Locale;
import org.diffxai.core.ReferenceImage;

/**
 * What a removed pixel is replaced with: the {@link ReferenceImage} of the same name (zero, min, mean, blur; the
 * commands' default is blur). Images are NHWC planes of one sample, {@code v[(y * w + x) * c + ch]}, in image
 * intensity; a baseline is an image of the same size.
 */
public enum Baseline {
  ZERO, MIN, MEAN, BLUR;

  /** The key as users type it: zero, min, mean, blur. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a key (case-insensitive). */
  public static Baseline of(String key) {
    return valueOf(ReferenceImage.of(key, "baseline").name());
  }

  /** σ of the blur baseline in pixels ({@link ReferenceImage#blurSigma}). */
  public static double blurSigma(int h, int w) {
    return ReferenceImage.blurSigma(h, w);
  }

  /** The baseline image for {@code image} (h·w·c values). */
  public float[] of(float[] image, int h, int w, int c) {
    return ReferenceImage.valueOf(name()).of(image, h, w, c);
  }

  /** {@link ReferenceImage#gaussianBlur}. */
  public static float[] gaussianBlur(float[] image, int h, int w, int c, double sigma) {
    return ReferenceImage.gaussianBlur(image, h, w, c, sigma);
  }
}
