package org.diffxai.io;

import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import java.util.Arrays;
import java.util.Locale;
import org.diffxai.core.UserException;

/**
 * The one resize rule for images whose size differs from the size a model takes (the {@code fit} key of every command;
 * see docs/input-images.md). Each rule first chooses a rectangle of the image with the target's aspect ratio, then
 * resizes that rectangle to the target (ImageJ's bilinear interpolation, averaging when shrinking):
 *
 * <ul>
 *   <li>{@link #PAD} (the default): the smallest centred rectangle that holds the whole image; the added border takes
 *       the median of the image's outermost pixels (its background). Every pixel is kept and shapes keep their
 *       proportions.
 *   <li>{@link #CROP}: the largest centred rectangle inside the image. Shapes keep their proportions; the margins of
 *       the longer side are lost.
 *   <li>{@link #STRETCH}: the whole image, resized independently in x and y. Nothing is lost but shapes are distorted
 *       when the aspect ratios differ; every such image is counted as stretched.
 * </ul>
 *
 * Rectangle sides are whole pixels, so PAD and CROP keep the aspect ratio to within half a pixel.
 */
public enum Fit {
  PAD, CROP, STRETCH;

  /** The rule used when none is given, everywhere. */
  public static final Fit DEFAULT = PAD;

  /** The {@code fit} key's default, choices and help, declared once for every command that has the key. */
  public static final String KEY_DEFAULT = "pad";

  public static final String KEY_DESCRIPTION = "How images of another size are brought to the model's: pad (keep the"
      + " whole image and its proportions), crop (fill, cut the overhang) or stretch (distort; counted)";

  /** The key's value as users type it: {@code pad}, {@code crop} or {@code stretch}. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The rule a {@code fit} value names (case-insensitive); empty or null means {@link #DEFAULT}.
   *
   * @throws UserException naming the allowed values
   */
  public static Fit of(String value) {
    String v = value == null ? "" : value.trim();
    if (v.isEmpty()) return DEFAULT;
    for (Fit f : values()) {
      if (f.key().equalsIgnoreCase(v)) return f;
    }
    throw new UserException("fit=" + v + " is not a resize rule. Use fit=pad (keep the whole image, add a border;"
        + " the default), fit=crop (cut the longer side) or fit=stretch (distort to the new aspect ratio).");
  }

  /** Where an image of width×height goes in a target of targetWidth×targetHeight under this rule. */
  public Placement place(int width, int height, int targetWidth, int targetHeight) {
    if (width < 1 || height < 1 || targetWidth < 1 || targetHeight < 1) {
      throw new IllegalArgumentException(width + "x" + height + " -> " + targetWidth + "x" + targetHeight);
    }
    long lhs = (long) width * targetHeight;
    long rhs = (long) height * targetWidth;
    int rw = width;
    int rh = height;
    if (this != STRETCH && lhs != rhs) {
      boolean wider = lhs > rhs; // the image is wider than the target
      if ((this == PAD) != wider) { // PAD of a tall image or CROP of a wide one: change the width
        rw = (int) Math.max(1, Math.round((double) height * targetWidth / targetHeight));
      } else {
        rh = (int) Math.max(1, Math.round((double) width * targetHeight / targetWidth));
      }
    }
    // Centred; for PAD the offsets are negative (the rectangle starts outside the image).
    int x0 = Math.floorDiv(width - rw, 2);
    int y0 = Math.floorDiv(height - rh, 2);
    return new Placement(this, width, height, x0, y0, rw, rh, targetWidth, targetHeight);
  }

  /**
   * An image's rectangle {@code (x0, y0, rectWidth, rectHeight)} (in image pixels; it may extend beyond the image for
   * PAD) that is resized to the target.
   */
  public static final class Placement {
    public final Fit fit;
    public final int width;
    public final int height;
    public final int x0;
    public final int y0;
    public final int rectWidth;
    public final int rectHeight;
    public final int targetWidth;
    public final int targetHeight;

    Placement(Fit fit, int width, int height, int x0, int y0, int rectWidth, int rectHeight, int targetWidth,
        int targetHeight) {
      this.fit = fit;
      this.width = width;
      this.height = height;
      this.x0 = x0;
      this.y0 = y0;
      this.rectWidth = rectWidth;
      this.rectHeight = rectHeight;
      this.targetWidth = targetWidth;
      this.targetHeight = targetHeight;
    }

    /** The image is used as it is. */
    public boolean identity() {
      return width == targetWidth && height == targetHeight;
    }

    /** The size changes. */
    public boolean resized() {
      return rectWidth != targetWidth || rectHeight != targetHeight;
    }

    /** A border is added (PAD of an image with another aspect ratio). */
    public boolean padded() {
      return rectWidth > width || rectHeight > height;
    }

    /** Margins are cut (CROP of an image with another aspect ratio). */
    public boolean cropped() {
      return rectWidth < width || rectHeight < height;
    }

    /** The aspect ratio changes (STRETCH of an image with another aspect ratio). */
    public boolean stretched() {
      return (long) rectWidth * targetHeight != (long) rectHeight * targetWidth && fit == STRETCH;
    }

    /** What happens, for notes and messages, e.g. "padded 60x40 to 60x60, resized to 32x32". */
    public String describe() {
      if (identity()) return "";
      StringBuilder sb = new StringBuilder();
      if (padded()) sb.append("padded ").append(width).append('x').append(height).append(" to ");
      else if (cropped()) sb.append("cropped ").append(width).append('x').append(height).append(" to ");
      if (padded() || cropped()) sb.append(rectWidth).append('x').append(rectHeight);
      if (resized()) {
        if (sb.length() > 0) sb.append(", ");
        sb.append(stretched() ? "stretched " : "resized ").append(rectWidth).append('x').append(rectHeight)
            .append(" to ").append(targetWidth).append('x').append(targetHeight);
      }
      return sb.toString();
    }

    /**
     * One plane (width×height, row-major) at the target size: the rectangle cut out (or the image surrounded by the
     * border value) and resized with ImageJ's bilinear interpolation, averaging when shrinking.
     */
    public float[] apply(float[] plane) {
      if (plane.length != width * height) {
        throw new IllegalArgumentException(plane.length + " values for " + width + "x" + height);
      }
      if (identity()) return plane;
      float[] rect = plane;
      if (padded() || cropped()) {
        rect = new float[rectWidth * rectHeight];
        if (padded()) Arrays.fill(rect, borderMedian(plane, width, height));
        copy(plane, width, height, -x0, -y0, rect, rectWidth, rectHeight);
      }
      if (!resized()) return rect;
      ImageProcessor fp = new FloatProcessor(rectWidth, rectHeight, rect);
      fp.setInterpolationMethod(ImageProcessor.BILINEAR);
      return (float[]) fp.resize(targetWidth, targetHeight, true).getPixels();
    }

    /**
     * A map over the rectangle (rectWidth×rectHeight, e.g. a model's map upsampled to the rectangle) in the image's
     * own pixels: the part over the image; image pixels outside a cropped rectangle, which the model never saw, get
     * {@code outside}.
     */
    public float[] toImage(float[] rectMap, float outside) {
      if (rectMap.length != rectWidth * rectHeight) {
        throw new IllegalArgumentException(rectMap.length + " values for " + rectWidth + "x" + rectHeight);
      }
      if (rectWidth == width && rectHeight == height) return rectMap;
      float[] out = new float[width * height];
      Arrays.fill(out, outside);
      copy(rectMap, rectWidth, rectHeight, x0, y0, out, width, height);
      return out;
    }

    /** Copies src (sw×sh) into dst (dw×dh) with src pixel (x, y) going to (x + dx, y + dy), clipped to dst. */
    private static void copy(float[] src, int sw, int sh, int dx, int dy, float[] dst, int dw, int dh) {
      int xa = Math.max(0, dx);
      int xb = Math.min(dw, sw + dx);
      if (xb <= xa) return;
      for (int y = Math.max(0, dy); y < Math.min(dh, sh + dy); y++) {
        System.arraycopy(src, (y - dy) * sw + xa - dx, dst, y * dw + xa, xb - xa);
      }
    }
  }

  /** The median of the outermost rows and columns: the background value the PAD border takes. */
  static float borderMedian(float[] p, int w, int h) {
    int n = h == 1 || w == 1 ? w * h : 2 * w + 2 * (h - 2);
    float[] v = new float[n];
    int k = 0;
    if (h == 1 || w == 1) {
      System.arraycopy(p, 0, v, 0, n);
    } else {
      for (int x = 0; x < w; x++) {
        v[k++] = p[x];
        v[k++] = p[(h - 1) * w + x];
      }
      for (int y = 1; y < h - 1; y++) {
        v[k++] = p[y * w];
        v[k++] = p[y * w + w - 1];
      }
    }
    Arrays.sort(v);
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
}
