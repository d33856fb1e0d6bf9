package org.diffxai.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * What {@link ImageInput} read: the planes ({@link FloatStack}, labelled by file or slice), one {@link Note} per image
 * (its source, original size and every conversion applied), the {@link Summary} counts that commands put into their
 * table, log and provenance, and, for a folder with class sub-folders, the class names and each plane's label. No
 * DICOM header value other than the technical ones a note names is ever part of it.
 */
public final class InputImages {
  private final FloatStack stack;
  private final List<Note> notes;
  private final List<String> classNames;
  private final int[] labels;
  private final int[] imageOfPlane;
  private final Summary summary;

  InputImages(FloatStack stack, List<Note> notes, List<String> classNames, int[] labels, int[] imageOfPlane,
      Summary summary) {
    this.stack = stack;
    this.notes = Collections.unmodifiableList(notes);
    this.classNames = Collections.unmodifiableList(classNames);
    this.labels = labels;
    this.imageOfPlane = imageOfPlane;
    this.summary = summary;
  }

  /** The planes, in order (files sorted by path; a DICOM series by instance number and position). */
  public FloatStack stack() {
    return stack;
  }

  /** One note per image (file, or the open image). */
  public List<Note> notes() {
    return notes;
  }

  /** The note of the image plane {@code p} came from. */
  public Note noteOfPlane(int p) {
    return notes.get(imageOfPlane[p]);
  }

  /** Sorted class (sub-folder) names; empty unless read from a folder with class sub-folders. */
  public List<String> classNames() {
    return classNames;
  }

  /** Class index per plane (into {@link #classNames()}), or null without class sub-folders. */
  public int[] labels() {
    return labels == null ? null : labels.clone();
  }

  public Summary summary() {
    return summary;
  }

  /** What happened to one image. */
  public static final class Note {
    /** The file (relative to the folder read, else as given) or the open image's title. */
    public final String source;
    /** Size before any resizing. */
    public final int width;
    public final int height;
    /** Planes the image gave. */
    public final int planes;
    final List<String> conversions = new ArrayList<>();
    /** SHA-256 of "StudyInstanceUID/SeriesInstanceUID" (first 16 hex digits) for DICOM, else null. */
    String series;
    boolean colour;
    boolean greyAsColour;
    boolean palette;
    boolean alpha;
    boolean inverted;
    boolean rescaled;
    boolean padded;
    boolean cropped;
    boolean stretched;
    boolean resized;

    Note(String source, int width, int height, int planes) {
      this.source = source;
      this.width = width;
      this.height = height;
      this.planes = planes;
    }

    /** Every conversion applied, in order, e.g. "colour (RGB) converted to grey by (R + G + B) / 3 (...)". */
    public List<String> conversions() {
      return Collections.unmodifiableList(conversions);
    }

    /** The DICOM study/series hash, or null. */
    public String series() {
      return series;
    }

    /** True colour converted to grey (a palette of colours included). */
    public boolean colour() {
      return colour;
    }

    /** Grey stored as colour (within the tolerance of the colour rule). */
    public boolean greyAsColour() {
      return greyAsColour && !colour;
    }

    public boolean palette() {
      return palette;
    }

    public boolean stretched() {
      return stretched;
    }

    void convert(String text) {
      if (text != null && !text.isEmpty() && !conversions.contains(text)) conversions.add(text);
    }

    void palette(String text) {
      palette = true;
      convert(text);
    }

    void alpha(String text) {
      alpha = true;
      convert(text);
    }

    /** Records one plane's colour rule result; a colour plane makes the image colour. */
    void colour(GreyRule.Grey g, String stored) {
      if (g.grey) {
        if (!colour && !greyAsColour) convert(g.describe(stored));
        greyAsColour = true;
      } else {
        if (!colour) {
          conversions.removeIf(c -> c.startsWith("grey stored as"));
          convert(g.describe(stored));
        }
        colour = true;
      }
    }

    void place(Fit.Placement p) {
      if (p.identity()) return;
      padded |= p.padded();
      cropped |= p.cropped();
      stretched |= p.stretched();
      resized = true;
      convert(p.describe());
    }

    /** One line: source, size and conversions. */
    public String describe() {
      return source + " (" + width + "x" + height + (planes > 1 ? ", " + planes + " planes" : "") + ")"
          + (conversions.isEmpty() ? "" : ": " + String.join("; ", conversions));
    }
  }

  /** Counts over all images, for tables, logs and provenance. */
  public static final class Summary {
    public final int images;
    public final int planes;
    public final int width;
    public final int height;
    /** The resize rule, or null when images kept their size. */
    public final Fit fit;
    public final int colour;
    public final int greyAsColour;
    public final int palette;
    public final int alpha;
    public final int inverted;
    public final int rescaled;
    /** Images whose size changed (resized, padded or cropped). */
    public final int resized;
    public final int padded;
    public final int cropped;
    public final int stretched;
    /** Distinct DICOM study/series hashes. */
    public final List<String> series;
    /** Original sizes: distinct count, and the smallest and largest. */
    public final int sizes;
    public final String source;

    Summary(String source, List<Note> notes, int planes, int width, int height, Fit fit) {
      this.source = source;
      this.images = notes.size();
      this.planes = planes;
      this.width = width;
      this.height = height;
      this.fit = fit;
      int c = 0, g = 0, pa = 0, al = 0, in = 0, re = 0, rs = 0, pd = 0, cr = 0, st = 0;
      TreeSet<String> ser = new TreeSet<>();
      TreeSet<String> sz = new TreeSet<>();
      for (Note n : notes) {
        if (n.colour) c++;
        if (n.greyAsColour()) g++;
        if (n.palette) pa++;
        if (n.alpha) al++;
        if (n.inverted) in++;
        if (n.rescaled) re++;
        if (n.resized) rs++;
        if (n.padded) pd++;
        if (n.cropped) cr++;
        if (n.stretched) st++;
        if (n.series != null) ser.add(n.series);
        sz.add(n.width + "x" + n.height);
      }
      colour = c;
      greyAsColour = g;
      palette = pa;
      alpha = al;
      inverted = in;
      rescaled = re;
      resized = rs;
      padded = pd;
      cropped = cr;
      stretched = st;
      series = Collections.unmodifiableList(new ArrayList<>(ser));
      sizes = sz.size();
    }

    /** Images whose values were changed by a conversion other than resizing. */
    public int converted() {
      return colour + greyAsColour + palette + inverted + rescaled;
    }

    /**
     * One line for logs and tables, e.g. "394 images in 361 sizes to 64x64 with fit=pad: 394 resized, 273 padded, 12
     * colour converted to grey, 40 grey stored as colour, 3 palette".
     */
    public String describe() {
      StringBuilder sb = new StringBuilder();
      sb.append(images).append(images == 1 ? " image" : " images");
      if (planes != images) sb.append(" (").append(planes).append(" planes)");
      if (sizes > 1) sb.append(" in ").append(sizes).append(" sizes");
      if (fit != null) sb.append(" to ").append(width).append('x').append(height).append(" with fit=").append(fit.key());
      List<String> parts = new ArrayList<>();
      add(parts, resized, "resized");
      add(parts, padded, "padded");
      add(parts, cropped, "cropped");
      add(parts, stretched, "STRETCHED (aspect ratio changed)");
      add(parts, colour, "colour converted to grey");
      add(parts, greyAsColour, "grey stored as colour");
      add(parts, palette, "palette");
      add(parts, alpha, "alpha ignored");
      add(parts, inverted, "inverted (MONOCHROME1 / inverting LUT)");
      add(parts, rescaled, "DICOM rescaled");
      if (!series.isEmpty()) parts.add(series.size() + " DICOM series");
      if (!parts.isEmpty()) sb.append(": ").append(String.join(", ", parts));
      return sb.toString();
    }

    private static void add(List<String> parts, int n, String what) {
      if (n > 0) parts.add(n + " " + what);
    }

    /** The counts as provenance entries (JSON-friendly values), keys prefixed {@code input_}. */
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      if (source != null) m.put("input_source", source);
      m.put("input_images", images);
      m.put("input_planes", planes);
      m.put("input_sizes", sizes);
      if (fit != null) {
        m.put("input_size", width + "x" + height);
        m.put("input_fit", fit.key());
      }
      m.put("input_resized", resized);
      m.put("input_padded", padded);
      m.put("input_cropped", cropped);
      m.put("input_stretched", stretched);
      m.put("input_colour_converted", colour);
      m.put("input_grey_stored_as_colour", greyAsColour);
      m.put("input_palette", palette);
      m.put("input_alpha_ignored", alpha);
      m.put("input_inverted", inverted);
      m.put("input_dicom_rescaled", rescaled);
      m.put("input_grey_rule", String.format(Locale.ROOT, "(R+G+B)/3; grey when spread <= %d levels in >= %s %% of"
          + " pixels", GreyRule.SPREAD_LEVELS, trim(100 * GreyRule.GREY_FRACTION)));
      if (!series.isEmpty()) m.put("input_dicom_series_sha256_16", String.join(",", series));
      return m;
    }

    /** {@link #toMap()} with string values, for the string provenance maps of the run classes. */
    public Map<String, String> toStrings() {
      Map<String, String> m = new LinkedHashMap<>();
      for (Map.Entry<String, Object> e : toMap().entrySet()) m.put(e.getKey(), String.valueOf(e.getValue()));
      return m;
    }

    private static String trim(double v) {
      return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
  }

  /** Relative '/'-separated path of a file below a root, for notes and labels. */
  static String relative(Path root, Path file) {
    if (root == null) return file.toString();
    return root.relativize(file).toString().replace('\\', '/');
  }
}
