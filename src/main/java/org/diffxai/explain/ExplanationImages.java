package org.diffxai.explain;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.io.FloatStack;
import org.diffxai.io.Resize;
import org.diffxai.io.RgbStack;

/**
 * Pictures of explanations: one RGB panel per (image slice, rank). Left, the explained image in gray with the
 * prototype's similarity map as a semi-transparent heat map ({@link #HEAT_PERCENT} %, 256 jet colours, each map stretched
 * to its own minimum..maximum as in ProtoPNet's local analysis) and its 95th-percentile box; right, separated by a
 * black gap, the prototype's source image from the bundle's gallery scaled to the same height, with the box the push
 * step recorded. Boxes are drawn in magenta, a colour the jet map never uses. Gray levels are each image's own
 * minimum..maximum.
 */
public final class ExplanationImages {

  /** Opacity of the heat map, in percent. */
  public static final int HEAT_PERCENT = 45;
  public static final int BOX_RGB = 0xff00ff;

  private ExplanationImages() {}

  /**
   * The overlay stack, slices ordered by image slice then rank, each labelled with slice, rank, prototype, class,
   * contribution and source image.
   *
   * @param images the explained planes (the ones given to {@link PrototypeExplainer#explain})
   * @param gallery the bundle's gallery: plane {@code info.galleryPlane} shows the prototype's source image
   */
  public static RgbStack overlays(FloatStack images, List<Explanation> explanations, FloatStack gallery,
      List<String> classNames) {
    int w = images.width, h = images.height;
    int gap = Math.max(2, h / 32);
    int gw = Math.max(1, (int) Math.round((double) gallery.width * h / gallery.height));
    int width = w + gap + gw;
    int line = Math.max(1, h / 128);
    List<int[]> planes = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    Map<Integer, int[]> sources = new HashMap<>(); // prototype -> its source panel, made once
    for (Explanation e : explanations) {
      int[] gray = gray(images.plane(e.slice));
      for (Explanation.Contribution c : e.top) {
        int[] rgb = new int[width * h];
        int[] left = overlay(gray, c.map);
        for (int y = 0; y < h; y++) System.arraycopy(left, y * w, rgb, y * width, w);
        drawBox(rgb, width, 0, w, h, c.box, line);
        int[] right = sources.computeIfAbsent(c.prototype, p -> sourcePanel(gallery, c.info, gw, h, line));
        for (int y = 0; y < h; y++) System.arraycopy(right, y * gw, rgb, y * width + w + gap, gw);
        labels.add(String.format(Locale.ROOT, "slice %d rank %d prototype %d (%s) contribution %.4g; source %s",
            e.slice + 1, c.rank, c.prototype, classNames.get(c.info.classIndex), c.contribution,
            c.info.sourceImage));
        planes.add(rgb);
      }
    }
    return new RgbStack(width, h, planes.toArray(new int[0][]), labels.toArray(new String[0]));
  }

  /** The prototype's source image scaled to gw×h, in gray, with its push box. */
  private static int[] sourcePanel(FloatStack gallery, PrototypeInfo info, int gw, int h, int line) {
    int[] panel = gray(Resize.bilinear(gallery.plane(info.galleryPlane), gallery.width, gallery.height, gw, h));
    int[] b = info.activationBox;
    double sx = (double) gw / gallery.width, sy = (double) h / gallery.height;
    drawBox(panel, gw, 0, gw, h, new int[] {(int) Math.round(b[0] * sx), (int) Math.round(b[1] * sy),
        Math.max(1, (int) Math.round(b[2] * sx)), Math.max(1, (int) Math.round(b[3] * sy))}, line);
    return panel;
  }

  /** The jet colours of 256 levels, packed RGB. */
  private static final int[] JET = new int[256];

  static {
    for (int i = 0; i < 256; i++) {
      int[] c = jet(i / 255.0);
      JET[i] = (c[0] << 16) | (c[1] << 8) | c[2];
    }
  }

  /** A gray image (packed) with the map's heat colours (256 levels) blended in, packed RGB. */
  static int[] overlay(int[] gray, float[] map) {
    float[] range = range(map);
    double span = range[1] - range[0];
    int[] out = new int[gray.length];
    for (int i = 0; i < gray.length; i++) {
      int heat = JET[span > 0 ? (int) Math.round(255 * (map[i] - range[0]) / span) : 0];
      int g = (100 - HEAT_PERCENT) * (gray[i] & 0xff) + 50; // + 50: rounds the division by 100 below
      out[i] = ((g + HEAT_PERCENT * (heat >> 16)) / 100 << 16) | ((g + HEAT_PERCENT * ((heat >> 8) & 0xff)) / 100 << 8)
          | (g + HEAT_PERCENT * (heat & 0xff)) / 100;
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
