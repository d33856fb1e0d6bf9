package org.diffxai.explain;

import ij.ImagePlus;
import ij.ImageStack;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import java.util.List;
import java.util.Locale;
import org.diffxai.io.FloatStack;

/**
 * Pictures of explanations: one RGB panel per (image slice, rank). Left, the explained image in gray with the
 * prototype's similarity map as a semi-transparent heat map ({@link #HEAT_ALPHA}, jet colours, each map stretched to
 * its own minimum..maximum as in ProtoPNet's local analysis) and its 95th-percentile box; right, separated by a black
 * gap, the prototype's source image from the bundle's gallery scaled to the same height, with the box the push step
 * recorded. Boxes are drawn in magenta, a colour the jet map never uses. Gray levels are each image's own
 * minimum..maximum.
 */
public final class ExplanationImages {

  public static final double HEAT_ALPHA = 0.45;
  public static final int BOX_RGB = 0xff00ff;

  private ExplanationImages() {}

  /**
   * The overlay stack, slices ordered by image slice then rank, each labelled with slice, rank, prototype, class,
   * contribution and source image.
   *
   * @param images the explained planes (the ones given to {@link PrototypeExplainer#explain})
   * @param gallery the bundle's gallery: plane {@code info.galleryPlane} shows the prototype's source image
   */
  public static ImagePlus overlays(FloatStack images, List<Explanation> explanations, FloatStack gallery,
      List<String> classNames) {
    int w = images.width, h = images.height;
    int gap = Math.max(2, h / 32);
    int gw = Math.max(1, (int) Math.round((double) gallery.width * h / gallery.height));
    int width = w + gap + gw;
    int line = Math.max(1, h / 128);
    ImageStack stack = new ImageStack(width, h);
    for (Explanation e : explanations) {
      float[] plane = images.plane(e.slice);
      for (Explanation.Contribution c : e.top) {
        int[] rgb = new int[width * h];
        int[] left = overlay(plane, c.map);
        for (int y = 0; y < h; y++) System.arraycopy(left, y * w, rgb, y * width, w);
        drawBox(rgb, width, 0, w, h, c.box, line);

        float[] source = gallery.plane(c.info.galleryPlane);
        ImageProcessor fp = new FloatProcessor(gallery.width, gallery.height, source);
        fp.setInterpolationMethod(ImageProcessor.BILINEAR);
        float[] scaled = (float[]) fp.resize(gw, h, true).getPixels();
        int[] right = gray(scaled);
        for (int y = 0; y < h; y++) System.arraycopy(right, y * gw, rgb, y * width + w + gap, gw);
        int[] b = c.info.activationBox;
        double sx = (double) gw / gallery.width, sy = (double) h / gallery.height;
        int[] scaledBox = {(int) Math.round(b[0] * sx), (int) Math.round(b[1] * sy),
            Math.max(1, (int) Math.round(b[2] * sx)), Math.max(1, (int) Math.round(b[3] * sy))};
        drawBox(rgb, width, w + gap, gw, h, scaledBox, line);

        String cls = c.info.classIndex < classNames.size() ? classNames.get(c.info.classIndex)
            : Integer.toString(c.info.classIndex);
        stack.addSlice(String.format(Locale.ROOT, "slice %d rank %d prototype %d (%s) contribution %.4g; source %s",
            e.slice + 1, c.rank, c.prototype, cls, c.contribution, c.info.sourceImage), new ColorProcessor(width, h,
                rgb));
      }
    }
    return new ImagePlus("Prototype explanation", stack);
  }

  /** Gray image with the map's heat colours blended in, packed RGB. */
  static int[] overlay(float[] image, float[] map) {
    int[] g = gray(image);
    float[] range = range(map);
    double span = range[1] - range[0];
    int[] out = new int[g.length];
    for (int i = 0; i < g.length; i++) {
      int[] heat = jet(span > 0 ? (map[i] - range[0]) / span : 0);
      int gray = g[i] & 0xff;
      int rgb = 0;
      for (int ch = 0; ch < 3; ch++) {
        rgb = (rgb << 8) | (int) Math.round((1 - HEAT_ALPHA) * gray + HEAT_ALPHA * heat[ch]);
      }
      out[i] = rgb;
    }
    return out;
  }

  /** Values stretched to 0..255 over their own minimum..maximum, as packed gray RGB. */
  static int[] gray(float[] v) {
    float[] range = range(v);
    double span = range[1] - range[0];
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      int g = span > 0 ? (int) Math.round(255 * (v[i] - range[0]) / span) : 0;
      out[i] = (g << 16) | (g << 8) | g;
    }
    return out;
  }

  /** The jet colour map at t in [0, 1] (dark blue, blue, cyan, yellow, red, dark red) as {r, g, b} in 0..255. */
  static int[] jet(double t) {
    return new int[] {channel(1.5 - Math.abs(4 * t - 3)), channel(1.5 - Math.abs(4 * t - 2)),
        channel(1.5 - Math.abs(4 * t - 1))};
  }

  private static int channel(double v) {
    return (int) Math.round(255 * Math.max(0, Math.min(1, v)));
  }

  private static float[] range(float[] v) {
    float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
    for (float x : v) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    return new float[] {min, max};
  }

  /**
   * Outlines box {x, y, w, h} of the panel that starts at column x0 and is panelWidth×height, lines drawn inside the
   * box and clipped to the panel; width is the row length of rgb.
   */
  static void drawBox(int[] rgb, int width, int x0, int panelWidth, int height, int[] box, int line) {
    int left = x0 + box[0], top = box[1], right = left + box[2] - 1, bottom = top + box[3] - 1;
    for (int y = top; y <= bottom; y++) {
      for (int x = left; x <= right; x++) {
        boolean edge = x - left < line || right - x < line || y - top < line || bottom - y < line;
        if (edge && x >= x0 && x < x0 + panelWidth && y >= 0 && y < height) rgb[y * width + x] = BOX_RGB;
      }
    }
  }
}
