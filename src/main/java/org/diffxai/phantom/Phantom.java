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
  /**
   * The lesion's ground-truth mask: true exactly where the lesion's tissue changed the noise-free image, i.e. where
   * {@link #clean} differs from the same slice rendered with the lesion's core, rim and oedema left out (its mass
   * effect kept). Covers core, rim and every pixel the oedema's smooth fall-off touches in white, deep grey or grey
   * matter, at float precision; excludes the mass effect (displaced normal anatomy). All false for healthy slices.
   */
  public final boolean[] lesionPixels;
  /** Standard deviation of the Gaussian noise in each of the real and imaginary channels. */
  public final double noiseSigma;
  /** The pixels a planted {@link Shortcut} overwrote (all false when none was planted). */
  public final boolean[] shortcutPixels;
  /** {x, y, w, h} of the area the shortcut occupies (its mark, or its line of text), or null when none was planted. */
  public final int[] shortcutBox;

  Phantom(int width, int height, boolean lesion, float[] pixels, float[] clean, byte[] tissue, float[] lesionMask,
      boolean[] lesionPixels, double noiseSigma) {
    this(width, height, lesion, pixels, clean, tissue, lesionMask, lesionPixels, noiseSigma,
        new boolean[width * height], null);
  }

  private Phantom(int width, int height, boolean lesion, float[] pixels, float[] clean, byte[] tissue,
      float[] lesionMask, boolean[] lesionPixels, double noiseSigma, boolean[] shortcutPixels, int[] shortcutBox) {
    this.width = width;
    this.height = height;
    this.lesion = lesion;
    this.pixels = pixels;
    this.clean = clean;
    this.tissue = tissue;
    this.lesionMask = lesionMask;
    this.lesionPixels = lesionPixels;
    this.noiseSigma = noiseSigma;
    this.shortcutPixels = shortcutPixels;
    this.shortcutBox = shortcutBox;
  }

  /**
   * A copy in which the given pixels are burned in with {@code value} (image and noise-free image alike) and labelled
   * {@link Tissue#SHORTCUT}; the lesion's maps are kept.
   */
  Phantom withShortcut(boolean[] where, float value, int[] box) {
    float[] px = pixels.clone(), cl = clean.clone();
    byte[] t = tissue.clone();
    for (int i = 0; i < where.length; i++) {
      if (where[i]) {
        px[i] = value;
        cl[i] = value;
        t[i] = Tissue.SHORTCUT.code();
      }
    }
    return new Phantom(width, height, lesion, px, cl, t, lesionMask, lesionPixels, noiseSigma, where, box.clone());
  }

  /** Class name as used for folders and labels: "healthy" or "lesion". */
  public String className() {
    return lesion ? "lesion" : "healthy";
  }
}
