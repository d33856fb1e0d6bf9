package org.diffxai.io;

import java.util.Locale;

/**
 * The colour rule (docs/input-images.md): every colour image becomes one grey plane by the unweighted mean
 * {@code (R + G + B) / 3} (ImageJ's default RGB-to-grey conversion, so a user gets the same values with Image > Type >
 * 32-bit), and is reported either as a grey image stored as colour or as a true colour image converted to grey.
 *
 * <p>An image counts as grey when at least {@link #GREY_FRACTION} of its pixels have a channel spread
 * {@code max(|R−G|, |G−B|, |R−B|)} of at most {@link #SPREAD_LEVELS} levels (of 255; scaled to the full range for
 * 16-bit images). Measured on a 200×256 MRI-like grey image (docs/input-images.md): exactly grey pixels stay exactly
 * grey through libjpeg (Java ImageIO) and libjpeg-turbo (PIL) at quality 50–95 with 4:4:4, 4:2:2 and 4:2:0 chroma
 * subsampling; grey with ±1 or ±2 levels of per-channel noise decodes with spreads of at most 3 in ≥ 99.78 % of pixels;
 * a grey image with a red annotation on 1 % of its pixels is colour.
 */
final class GreyRule {
  /** Largest channel spread, in levels of 255, of a grey pixel. */
  static final int SPREAD_LEVELS = 3;
  /** Smallest fraction of grey pixels in a grey image. */
  static final double GREY_FRACTION = 0.995;

  private GreyRule() {}

  /** A converted plane and what was found. */
  static final class Grey {
    final float[] values;
    /** Within the tolerance: a grey image stored as colour. */
    final boolean grey;
    /** Exactly R = G = B everywhere. */
    final boolean exact;
    /** Fraction of pixels within the tolerance. */
    final double fraction;
    /** Largest spread, in levels of the image's own range. */
    final int maxSpread;

    Grey(float[] values, double fraction, int maxSpread) {
      this.values = values;
      this.fraction = fraction;
      this.maxSpread = maxSpread;
      this.grey = fraction >= GREY_FRACTION;
      this.exact = maxSpread == 0;
    }

    /** For notes, e.g. "grey stored as RGB (channel spread <= 3 in 99.97 % of pixels, at most 7)". */
    String describe(String stored) {
      if (exact) return "grey stored as " + stored + " (R = G = B)";
      String f = String.format(Locale.ROOT, "%.2f %%", 100 * fraction);
      return grey ? "grey stored as " + stored + " (channel spread <= " + SPREAD_LEVELS + " levels in " + f
          + " of pixels, at most " + maxSpread + "), mean of R, G, B"
          : "colour (" + stored + ") converted to grey by (R + G + B) / 3 (channel spread <= " + SPREAD_LEVELS
              + " levels in only " + f + " of pixels)";
    }
  }

  /** Packed 8-bit RGB (0xRRGGBB, higher bits ignored) to grey. */
  static Grey ofPacked(int[] rgb) {
    float[] out = new float[rgb.length];
    long within = 0;
    int max = 0;
    for (int i = 0; i < rgb.length; i++) {
      int r = (rgb[i] >> 16) & 0xff;
      int g = (rgb[i] >> 8) & 0xff;
      int b = rgb[i] & 0xff;
      int s = Math.max(Math.abs(r - g), Math.max(Math.abs(g - b), Math.abs(r - b)));
      if (s <= SPREAD_LEVELS) within++;
      if (s > max) max = s;
      out[i] = (r + g + b) / 3f;
    }
    return new Grey(out, rgb.length == 0 ? 1 : (double) within / rgb.length, max);
  }

  /**
   * Three planes of one range (full scale {@code fullScale}, e.g. 255 or 65535) to grey; the tolerance scales with the
   * range ({@link #SPREAD_LEVELS} × fullScale / 255).
   */
  static Grey ofPlanes(float[] r, float[] g, float[] b, double fullScale) {
    double tol = SPREAD_LEVELS * fullScale / 255.0;
    double toLevels = 255.0 / fullScale;
    float[] out = new float[r.length];
    long within = 0;
    double max = 0;
    for (int i = 0; i < r.length; i++) {
      double s = Math.max(Math.abs(r[i] - g[i]), Math.max(Math.abs(g[i] - b[i]), Math.abs(r[i] - b[i])));
      if (s <= tol) within++;
      if (s > max) max = s;
      out[i] = (float) (((double) r[i] + g[i] + b[i]) / 3);
    }
    return new Grey(out, r.length == 0 ? 1 : (double) within / r.length, (int) Math.ceil(max * toLevels));
  }
}
