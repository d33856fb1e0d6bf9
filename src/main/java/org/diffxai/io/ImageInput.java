package org.diffxai.io;

import ij.ImagePlus;
import ij.ImageStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;

/**
 * The one image reader every command uses (docs/input-images.md): a file (TIFF, PNG, JPEG, GIF, BMP, DICOM), a DICOM
 * series folder, a folder of images, a folder with class sub-folders, or an image already open in ImageJ, read under
 * one policy:
 *
 * <ul>
 *   <li>values in the image's own units (calibration, DICOM rescale slope/intercept, MONOCHROME1 inverted);
 *   <li>colour, palette and RGBA images become grey by the colour rule ({@link GreyRule}), each counted;
 *   <li>truncated, empty and damaged files are refused with one message naming the file; a folder names every bad
 *       file before anything else happens;
 *   <li>with a target size, each image is brought to it by the {@link Fit} rule (default {@link Fit#PAD}), each
 *       resized, padded, cropped or stretched image counted.
 * </ul>
 *
 * Results are engine-free ({@link InputImages}: planes, notes, summary, folder labels); folders can be cached
 * decoded ({@link Settings#cache}).
 */
public final class ImageInput {
  private static final Set<String> SKIPPED_EXTENSIONS = new HashSet<>(Arrays.asList("txt", "csv", "tsv", "json",
      "md", "xml", "yaml", "yml", "ini", "db", "zip", "gz", "pdf", "html", "log", "py", "ijm", "roi"));

  private ImageInput() {}

  /** How to read: target size (or the images' own), the resize rule, channels and the dataset cache. */
  public static final class Settings {
    final int width;
    final int height;
    final Fit fit;
    final int channels;
    final Path cache;

    private Settings(int width, int height, Fit fit, int channels, Path cache) {
      if (width < 0 || height < 0 || (width == 0) != (height == 0)) {
        throw new UserException("Image size must be at least 1x1 pixel, got " + width + "x" + height + ".");
      }
      if (channels < 1) throw new UserException("channels must be at least 1, got " + channels + ".");
      this.width = width;
      this.height = height;
      this.fit = fit == null ? Fit.DEFAULT : fit;
      this.channels = channels;
      this.cache = cache;
    }

    /** Images keep their own size (a folder's images must then share one size). */
    public static Settings original() {
      return new Settings(0, 0, Fit.DEFAULT, 1, null);
    }

    /** Every image brought to width×height by the default {@link Fit}. */
    public static Settings size(int width, int height) {
      if (width < 1 || height < 1) {
        throw new UserException("Image size must be at least 1x1 pixel, got " + width + "x" + height + ".");
      }
      return new Settings(width, height, Fit.DEFAULT, 1, null);
    }

    public Settings fit(Fit f) {
      return new Settings(width, height, f, channels, cache);
    }

    /** Channels the consumer takes: 1 (default) applies the grey policy; more keeps that many channels. */
    public Settings channels(int c) {
      return new Settings(width, height, fit, c, cache);
    }

    /**
     * Caches folders decoded in {@code dir} (e.g. {@code DenoiserBundle.defaultCacheDir().resolve("datasets")}); null
     * turns caching off.
     */
    public Settings cache(Path dir) {
      return new Settings(width, height, fit, channels, dir);
    }

    /** For logs, e.g. "64x64 fit=pad, cache /home/u/.cache/diffusion-xai/datasets". */
    public String describe() {
      return (keepsSize() ? "own size" : width + "x" + height + " fit=" + fit.key())
          + (channels == 1 ? "" : ", " + channels + " channels") + (cache == null ? ", no cache" : ", cache " + cache);
    }

    boolean keepsSize() {
      return width == 0;
    }

    /** For cache keys: everything that changes the decoded result. */
    String key() {
      return String.format(Locale.ROOT, "size=%dx%d fit=%s channels=%d grey=%d/%s", width, height, fit.key(),
          channels, GreyRule.SPREAD_LEVELS, Double.toString(GreyRule.GREY_FRACTION));
    }
  }

  /**
   * Reads a file, a DICOM series folder, a folder of images or a folder with class sub-folders (when it holds only
   * sub-folders of images: labels from their sorted names). A folder's files must each be one 2-D image.
   *
   * @throws UserException for a missing path, an empty folder, or any bad file (a folder names every bad file)
   * @throws org.diffxai.core.CancelledException when cancelled
   */
  public static InputImages read(Path path, Settings s, Progress progress) {
    Path p = path.toAbsolutePath().normalize();
    if (Files.isDirectory(p)) return readFolder(p, s, false, progress);
    ImageDecoder.requireFile(p);
    ImageDecoder.Decoded d = ImageDecoder.decode(p, p.getFileName().toString(), s.channels);
    return single(d, s, p.toString());
  }

  /**
   * Reads a folder with one sub-folder per class (names sorted = class order; files below each, sorted by path).
   *
   * @throws UserException when images lie directly in the folder, a class folder is empty, there is no class folder,
   *     or any file is bad (naming every bad file)
   */
  public static InputImages readClasses(Path dir, Settings s, Progress progress) {
    Path p = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(p)) {
      throw new UserException("Image folder not found: " + p + ". Give an existing folder with one sub-folder of"
          + " images per class.");
    }
    return readFolder(p, s, true, progress);
  }

  /**
   * An image already open in ImageJ (the Fiji layer hands it over), under the same policy.
   *
   * @param name its title, for notes and messages
   */
  public static InputImages of(Planes p, String name, Settings s) {
    if (p instanceof ImagePlusPlanes) return of(((ImagePlusPlanes) p).image(), name, s);
    FloatStack f = p.toFloatStack();
    ImageStack st = new ImageStack(f.width, f.height);
    for (int i = 0; i < f.planeCount(); i++) st.addSlice(f.label(i), new ij.process.FloatProcessor(f.width, f.height,
        f.plane(i)));
    ImagePlus imp = new ImagePlus(name, st);
    imp.setDimensions(f.channels, f.slices, f.frames);
    return of(imp, name, s);
  }

  /**
   * An image already open in ImageJ (the Fiji layer hands it over), under the same policy.
   *
   * @param name its title, for notes and messages
   */
  public static InputImages of(ImagePlus imp, String name, Settings s) {
    ImageDecoder.Decoded d = ImageDecoder.fromImagePlus(imp, name, s.channels, null);
    return single(d, s, name);
  }

  private static InputImages single(ImageDecoder.Decoded d, Settings s, String source) {
    FloatStack in = d.stack;
    int w = s.keepsSize() ? in.width : s.width;
    int h = s.keepsSize() ? in.height : s.height;
    float[][] planes = new float[in.planeCount()][];
    String[] labels = new String[planes.length];
    Fit.Placement pl = s.fit.place(in.width, in.height, w, h);
    d.note.place(pl);
    for (int i = 0; i < planes.length; i++) {
      planes[i] = pl.apply(in.plane(i));
      labels[i] = in.label(i);
    }
    FloatStack st = new FloatStack(w, h, in.channels, in.slices, in.frames, planes, labels);
    List<InputImages.Note> notes = List.of(d.note);
    return new InputImages(st, notes, List.of(), null, new int[planes.length],
        new InputImages.Summary(source, notes, planes.length, w, h, s.keepsSize() ? null : s.fit));
  }

  // ------------------------------------------------------------------------------------------------------- folders

  /** The files of a folder and their classes. */
  static final class Listing {
    final Path root;
    final List<Path> files = new ArrayList<>();
    final List<Integer> classOf = new ArrayList<>();
    final List<String> classNames = new ArrayList<>();

    Listing(Path root) {
      this.root = root;
    }

    boolean classes() {
      return !classNames.isEmpty();
    }
  }

  /** Lists a folder: class sub-folders when {@code requireClasses} or when it holds only sub-folders of images. */
  static Listing list(Path dir, boolean requireClasses) {
    Listing l = new Listing(dir);
    List<Path> loose = candidates(dir, 1);
    List<Path> subs = new ArrayList<>();
    for (Path sub : children(dir)) {
      if (Files.isDirectory(sub) && !sub.getFileName().toString().startsWith(".")) subs.add(sub);
    }
    boolean classes = requireClasses || loose.isEmpty() && subs.stream().anyMatch(d -> !candidates(d,
        Integer.MAX_VALUE).isEmpty());
    if (requireClasses && !loose.isEmpty()) {
      throw new UserException("The images must be inside one sub-folder per class, but "
          + dir.relativize(loose.get(0)) + (loose.size() > 1 ? " (and " + (loose.size() - 1) + " more)" : "")
          + " lie directly in " + dir + ". Move them into class sub-folders (one sub-folder per class).");
    }
    if (!classes) {
      l.files.addAll(candidates(dir, Integer.MAX_VALUE));
      if (l.files.isEmpty()) {
        throw new UserException("No images found in " + dir + ". Put TIFF, PNG, JPEG or DICOM files there.");
      }
      return l;
    }
    for (Path sub : subs) {
      List<Path> in = candidates(sub, Integer.MAX_VALUE);
      if (in.isEmpty() && !requireClasses) continue; // e.g. an empty side folder
      if (in.isEmpty()) {
        throw new UserException("Class folder " + sub + " contains no images. Add images or remove the folder.");
      }
      int label = l.classNames.size();
      l.classNames.add(sub.getFileName().toString());
      for (Path f : in) {
        l.files.add(f);
        l.classOf.add(label);
      }
    }
    if (l.classNames.isEmpty()) {
      throw new UserException("No class sub-folders in " + dir + ". Put the images of each class into a sub-folder"
          + " named after the class.");
    }
    return l;
  }

  private static InputImages readFolder(Path dir, Settings s, boolean requireClasses, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    Listing l = list(dir, requireClasses);
    DatasetCache.Key key = s.cache == null ? null : DatasetCache.key(l, s);
    if (key != null) {
      InputImages cached = DatasetCache.load(s.cache, key, progress);
      if (cached != null) return cached;
    }
    int n = l.files.size();
    List<ImageDecoder.Decoded> decoded = new ArrayList<>(n);
    List<String> bad = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      progress.checkCancelled();
      Path f = l.files.get(i);
      String rel = InputImages.relative(dir, f);
      try {
        ImageDecoder.Decoded d = ImageDecoder.decode(f, rel, s.channels);
        if (d.stack.sampleCount() != 1) {
          throw new UserException(f + " has " + d.stack.sampleCount() + " planes (slices or frames), but each file in a"
              + " folder must be one 2-D image. Save each plane as its own file (Image > Stacks > Stack to Images).");
        }
        decoded.add(d);
      } catch (UserException e) {
        bad.add(e.getMessage());
        decoded.add(null);
      }
      progress.report("Reading images " + (i + 1) + "/" + n, (i + 1.0) / n);
    }
    if (!bad.isEmpty()) {
      throw new UserException(bad.size() == 1 ? bad.get(0) : bad.size() + " of the " + n + " files in " + dir
          + " cannot be used. Fix or remove each of them:\n  " + String.join("\n  ", bad));
    }
    List<Integer> order = seriesOrder(l, decoded);
    int w = s.width;
    int h = s.height;
    if (s.keepsSize()) {
      ImageDecoder.Decoded first = decoded.get(order.get(0));
      w = first.stack.width;
      h = first.stack.height;
      for (int i : order) {
        FloatStack d = decoded.get(i).stack;
        if (d.width != w || d.height != h) {
          throw new UserException("The images in " + dir + " differ in size (" + first.note.source + " is " + w + "x"
              + h + ", " + decoded.get(i).note.source + " is " + d.width + "x" + d.height + "). Give the size they"
              + " should be brought to, or use images of one size.");
        }
      }
    }
    float[][] planes = new float[n * s.channels][];
    String[] labels = new String[n * s.channels];
    int[] classes = l.classes() ? new int[n] : null;
    int[] imageOfPlane = new int[n * s.channels];
    List<InputImages.Note> notes = new ArrayList<>(n);
    for (int k = 0; k < n; k++) {
      int i = order.get(k);
      ImageDecoder.Decoded d = decoded.get(i);
      decoded.set(i, null); // let the original-size planes go
      Fit.Placement pl = s.fit.place(d.stack.width, d.stack.height, w, h);
      d.note.place(pl);
      for (int c = 0; c < s.channels; c++) {
        planes[k * s.channels + c] = pl.apply(d.stack.plane(c));
        labels[k * s.channels + c] = d.note.source;
        imageOfPlane[k * s.channels + c] = k;
      }
      if (classes != null) classes[k] = l.classOf.get(i);
      notes.add(d.note);
    }
    FloatStack st = new FloatStack(w, h, s.channels, n, 1, planes, labels);
    InputImages out = new InputImages(st, notes, l.classNames, classes, imageOfPlane,
        new InputImages.Summary(dir.toString(), notes, planes.length, w, h, s.keepsSize() ? null : s.fit));
    if (key != null) DatasetCache.store(s.cache, key, out, progress);
    return out;
  }

  /**
   * The reading order: by path, except that a folder of DICOM files of one series (without class sub-folders) is
   * ordered by InstanceNumber, then position along the slice normal, then path.
   */
  private static List<Integer> seriesOrder(Listing l, List<ImageDecoder.Decoded> decoded) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < decoded.size(); i++) order.add(i);
    if (l.classes() || decoded.size() < 2) return order;
    String series = decoded.get(0).note.series;
    for (ImageDecoder.Decoded d : decoded) {
      if (!d.dicom || d.note.series == null || !d.note.series.equals(series)) return order;
    }
    Comparator<Integer> byInstance = Comparator.comparing(i -> decoded.get(i).instance,
        Comparator.nullsLast(Comparator.naturalOrder()));
    Comparator<Integer> byPosition = Comparator.comparingDouble(i -> {
      double v = decoded.get(i).along;
      return Double.isNaN(v) ? Double.MAX_VALUE : v;
    });
    order.sort(byInstance.thenComparing(byPosition).thenComparing(i -> l.files.get(i)));
    return order;
  }

  private static List<Path> children(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().collect(Collectors.toList());
    } catch (IOException e) {
      throw new UserException("Cannot list folder " + dir + ": " + e.getMessage() + ". Check that it is readable.", e);
    }
  }

  /**
   * Regular, non-hidden, non-side-car files below dir (depth 1: directly in dir), sorted by path, without the
   * ground-truth companions of another file ({@link MaskFiles#withoutCompanions}: masks are not images).
   */
  static List<Path> candidates(Path dir, int depth) {
    try (Stream<Path> s = Files.walk(dir, depth)) {
      return MaskFiles.withoutCompanions(s.filter(Files::isRegularFile).filter(p -> !hidden(dir.relativize(p)))
          .filter(p -> !sideCar(p)).sorted().collect(Collectors.toList()));
    } catch (IOException e) {
      throw new UserException("Cannot list folder " + dir + ": " + e.getMessage() + ". Check that it is readable.", e);
    }
  }

  private static boolean hidden(Path relative) {
    for (Path part : relative) {
      if (part.toString().startsWith(".")) return true;
    }
    return false;
  }

  private static boolean sideCar(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    int dot = n.lastIndexOf('.');
    return n.equals("thumbs.db") || n.equals("dicomdir") || (dot >= 0 && SKIPPED_EXTENSIONS.contains(n.substring(dot
        + 1)));
  }
}
