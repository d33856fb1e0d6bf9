package org.diffxai.phantom;

/** One generated slice: the image, its noise-free version and ground-truth maps. Arrays are row-major. */
public final class Phantom {
  public final int width;
  public final int height;
  /** True for the {@code lesion} class. */
  public final boolean lesion;
  /** The image: bias field and Rician noise included; roughly in [0, 1]. */
  public final float[] pixels;
  /** The same image before noise (bias field included): a denoising ground truth. */
  public final float[] clean;
  /** Dominant {@link Tissue} code per pixel. */
  public final byte[] tissue;
  /** Fraction of each pixel covered by lesion core, rim or oedema (0 everywhere for healthy slices). */
  public final float[] lesionMask;
  /** Standard deviation of the Gaussian noise in each of the real and imaginary channels. */
  public final double noiseSigma;

  Phantom(int width, int height, boolean lesion, float[] pixels, float[] clean, byte[] tissue, float[] lesionMask,
      double noiseSigma) {
    this.width = width;
    this.height = height;
    this.lesion = lesion;
    this.pixels = pixels;
    this.clean = clean;
    this.tissue = tissue;
    this.lesionMask = lesionMask;
    this.noiseSigma = noiseSigma;
  }

  /** Class name as used for folders and labels: "healthy" or "lesion". */
  public String className() {
    return lesion ? "lesion" : "healthy";
  }
}
