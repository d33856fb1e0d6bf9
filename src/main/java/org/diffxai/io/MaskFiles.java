package org.diffxai.io;

import ij.ImagePlus;
import ij.io.FileInfo;
import ij.io.FileSaver;
import ij.io.TiffEncoder;
import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.diffxai.core.UserException;

/**
 * Ground-truth masks stored beside images: naming, finding, reading and writing. Layout (written by Generate
 * Phantoms, docs/phantoms-and-io.md): an image {@code dir/name.tif} has the companions {@code dir/name_mask.tif}
 * (the lesion mask), {@code dir/name_labels.tif} (the tissue label map) and, when a shortcut was planted,
 * {@code dir/name_shortcut.tif}, all single-plane 8-bit TIFFs of the image's size. A mask is 255 inside and 0 outside
 * (ImageJ's binary convention); when read, any non-zero value is inside, so label images (e.g. a tumour segmentation
 * with labels 1, 2, 4) work as masks too.
 *
 * <p>Where the masks of a set of images are is one key value, {@code masks=}: {@code auto} (the companions), a folder,
 * or a file; see {@link #find}.
 */
public final class MaskFiles {

  /** Which companion. */
  public enum Kind {
    /** The lesion (or any target) mask. */
    LESION("_mask"),
    /** The tissue label map. */
    LABELS("_labels"),
    /** The planted shortcut's mask. */
    SHORTCUT("_shortcut");

    /** What the companion's name adds to the image's name (before the extension). */
    public final String suffix;

    Kind(String suffix) {
      this.suffix = suffix;
    }
  }

  /** Extensions a mask file may have, in the order they are tried. */
  private static final String[] EXTENSIONS = {".tif", ".tiff", ".png"};

  private MaskFiles() {}

  /** The companion Generate Phantoms writes for {@code image}: {@code name.tif} → {@code name_mask.tif} etc. */
  public static Path companion(Path image, Kind kind) {
    return image.resolveSibling(stem(image) + kind.suffix + ".tif");
  }

  /**
   * The mask file of {@code image}, or empty when there is none.
   *
   * @param masks the {@code masks=} value: empty or {@code none} (no masks); {@code auto}: the companion beside the
   *     image ({@code name_mask.tif}, {@code .tiff} or {@code .png}); a folder: the first that exists of
   *     {@code folder/name_mask.tif} (companions collected in one folder), {@code folder/<image's folder name>/name.tif}
   *     (a mirror of class sub-folders), {@code folder/name.tif} (same file name), with the extensions .tif, .tiff,
   *     .png; a file: that file, for every image (a single plane applies to all images, a stack gives plane i to the
   *     i-th image, see {@link #read})
   * @param kind which companion ({@link Kind#LESION} for the usual {@code masks=} key)
   * @throws UserException when {@code masks} names a path that does not exist
   */
  public static Optional<Path> find(Path image, String masks, Kind kind) {
    String m = masks == null ? "" : masks.trim();
    if (m.isEmpty() || m.equalsIgnoreCase("none")) return Optional.empty();
    String stem = stem(image);
    if (m.equalsIgnoreCase("auto")) return first(image.toAbsolutePath().getParent(), stem + kind.suffix);
    Path p = Paths.get(m);
    if (Files.isRegularFile(p)) return Optional.of(p);
    if (!Files.isDirectory(p)) {
      throw new UserException("masks=" + m + " does not exist. Give masks=auto (the companion files name_mask.tif "
          + "beside each image), a folder of masks, or one mask file.");
    }
    Optional<Path> f = first(p, stem + kind.suffix);
    Path parent = image.toAbsolutePath().getParent();
    if (!f.isPresent() && parent != null && parent.getFileName() != null) {
      f = first(p.resolve(parent.getFileName().toString()), stem);
    }
    return f.isPresent() ? f : first(p, stem);
  }

  /** The first existing {@code dir/base + extension}. */
  private static Optional<Path> first(Path dir, String base) {
    if (dir == null) return Optional.empty();
    for (String ext : EXTENSIONS) {
      Path f = dir.resolve(base + ext);
      if (Files.isRegularFile(f)) return Optional.of(f);
    }
    return Optional.empty();
  }

  /**
   * Reads plane {@code index} of a mask file as a binary mask of width×height (true = inside = non-zero). A single-plane
   * file gives its plane for every index. A mask of another size but the same aspect ratio is resized as images are
   * ({@code ExplainInput.fit}, {@code ImageFolder}: ImageJ's bilinear interpolation, averaging when shrinking) as a 0/1
   * image and thresholded at 0.5, so it stays aligned with the resized image.
   *
   * @throws UserException when the file cannot be read, has fewer planes than needed or another aspect ratio
   */
  public static boolean[] read(Path file, int index, int width, int height) {
    ImagePlus imp = ImageReaders.open(file);
    try {
      int n = imp.getStackSize();
      if (n > 1 && index >= n) {
        throw new UserException("The mask file " + file + " has " + n + " planes, but image " + (index + 1)
            + " needs its own. Give one mask plane per image, a single mask for all, or masks=auto.");
      }
      ImageProcessor ip = imp.getStack().getProcessor(n == 1 ? 1 : index + 1);
      float[] v = new float[ip.getWidth() * ip.getHeight()];
      for (int i = 0; i < v.length; i++) v[i] = ip.getf(i) != 0 ? 1 : 0;
      return fitted(v, ip.getWidth(), ip.getHeight(), file, width, height);
    } finally {
      imp.close();
    }
  }

  /**
   * Reads a label map (first plane) as a mask of width×height: true where {@code inside} holds for the pixel's label
   * code, resized as {@link #read} resizes masks.
   *
   * @throws UserException when the file cannot be read or has another aspect ratio
   */
  public static boolean[] readLabelMask(Path file, java.util.function.IntPredicate inside, int width, int height) {
    ImagePlus imp = ImageReaders.open(file);
    try {
      ImageProcessor ip = imp.getProcessor();
      float[] v = new float[ip.getWidth() * ip.getHeight()];
      for (int i = 0; i < v.length; i++) v[i] = inside.test(Math.round(ip.getf(i))) ? 1 : 0;
      return fitted(v, ip.getWidth(), ip.getHeight(), file, width, height);
    } finally {
      imp.close();
    }
  }

  /** A w×h 0/1 mask brought to width×height (bilinear, averaging when shrinking, thresholded at 0.5). */
  private static boolean[] fitted(float[] v, int w, int h, Path file, int width, int height) {
    if (w != width || h != height) {
      if (Math.abs((double) w * height / ((double) h * width) - 1) > 0.01) {
        throw new UserException(String.format(Locale.ROOT, "The mask %s is %dx%d but its image is %dx%d (another "
            + "aspect ratio), so they cannot be aligned. Give masks of the images' own size.", file, w, h, width,
            height));
      }
      FloatProcessor fp = new FloatProcessor(w, h, v);
      fp.setInterpolationMethod(ImageProcessor.BILINEAR);
      v = (float[]) fp.resize(width, height, true).getPixels();
    }
    boolean[] out = new boolean[width * height];
    for (int i = 0; i < out.length; i++) out[i] = v[i] >= 0.5f;
    return out;
  }

  /**
   * Reads a label map (e.g. a {@code name_labels.tif} companion: {@code org.diffxai.phantom.Tissue} codes) as integer
   * labels of its own size.
   */
  public static int[] readLabels(Path file) {
    ImagePlus imp = ImageReaders.open(file);
    try {
      ImageProcessor ip = imp.getProcessor();
      int[] out = new int[ip.getWidth() * ip.getHeight()];
      for (int i = 0; i < out.length; i++) out[i] = Math.round(ip.getf(i));
      return out;
    } finally {
      imp.close();
    }
  }

  /** Writes a binary mask (255 inside) as an 8-bit TIFF, atomically, with Info text and properties. */
  public static void writeMask(Path target, boolean[] mask, int width, int height, String info,
      Map<String, String> properties) {
    byte[] px = new byte[width * height];
    for (int i = 0; i < px.length; i++) px[i] = mask[i] ? (byte) 255 : 0;
    write(target, new ByteProcessor(width, height, px), 0, 255, info, properties);
  }

  /** Writes a label map (values 0–255) as an 8-bit TIFF, atomically, display range 0 to {@code maxLabel}. */
  public static void writeLabels(Path target, byte[] labels, int width, int height, int maxLabel, String info,
      Map<String, String> properties) {
    write(target, new ByteProcessor(width, height, labels.clone()), 0, maxLabel, info, properties);
  }

  private static void write(Path target, ByteProcessor bp, double min, double max, String info,
      Map<String, String> properties) {
    ImagePlus imp = new ImagePlus(target.getFileName().toString(), bp);
    imp.setDisplayRange(min, max);
    if (properties != null) {
      for (Map.Entry<String, String> e : properties.entrySet()) imp.setProp(e.getKey(), e.getValue());
    }
    // what ImageJ's FileSaver.saveAsTiff writes, through its TiffEncoder, into the atomic temporary file
    FileInfo fi = imp.getFileInfo();
    fi.info = info;
    fi.description = new FileSaver(imp).getDescriptionString();
    fi.properties = imp.getPropertiesAsArray();
    AtomicFiles.writeFile(target, tmp -> {
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
        new TiffEncoder(fi).write(out);
      }
    });
  }

  /**
   * The files that are not companions of another file in the list: {@code x_mask.tif}, {@code x_labels.tif} and
   * {@code x_shortcut.tif} are dropped when a file {@code x.*} is in the same folder in the list. Image folders use
   * this so that masks are never read as images.
   */
  public static List<Path> withoutCompanions(List<Path> files) {
    Set<String> stems = new HashSet<>();
    for (Path f : files) stems.add(key(f.toAbsolutePath().getParent(), stem(f)));
    List<Path> out = new ArrayList<>(files.size());
    for (Path f : files) {
      if (!isCompanionOf(f, stems)) out.add(f);
    }
    return out;
  }

  private static boolean isCompanionOf(Path f, Set<String> stems) {
    String s = stem(f);
    for (Kind k : Kind.values()) {
      if (s.endsWith(k.suffix)
          && stems.contains(key(f.toAbsolutePath().getParent(), s.substring(0, s.length() - k.suffix.length())))) {
        return true;
      }
    }
    return false;
  }

  private static String key(Path dir, String stem) {
    return dir + "\u0000" + stem;
  }

  /** The file name without its extension ({@code .ome.tif} counts as one extension). */
  static String stem(Path file) {
    String n = file.getFileName().toString();
    String lower = n.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".ome.tif") || lower.endsWith(".ome.tiff")) return n.substring(0, lower.lastIndexOf(".ome."));
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }
}
