package org.diffxai.io;

import ij.IJ;
import ij.ImagePlus;
import ij.process.ColorProcessor;
import ij.process.ImageProcessor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;

/**
 * A folder of 2-D training images, read with ImageJ ({@code IJ.openImage}: TIFF, PNG, JPEG, GIF, BMP, DICOM, …),
 * converted to gray float (RGB by ImageJ's RGB-to-gray conversion; 16-bit and DICOM through their calibration) and
 * resized to size×size (bilinear, averaging when downsizing). Images keep their intensity units; see
 * {@link #percentileMapping} for the map to model space.
 *
 * <p>With {@code labels=true} each immediate sub-folder is a class (names sorted); otherwise every image below the
 * folder is used. Hidden files and common side-car files (.txt, .csv, .json, .md, .xml, .zip, …) are skipped; any
 * other file that ImageJ cannot read is an error naming that file. Ground-truth companions ({@code x_mask.tif},
 * {@code x_labels.tif}, {@code x_shortcut.tif} beside an image {@code x.*}, see {@link MaskFiles}) are not images.
 */
public final class ImageFolder {

  private static final Set<String> SKIPPED_EXTENSIONS = new HashSet<>(Arrays.asList("txt", "csv", "tsv", "json",
      "md", "xml", "yaml", "yml", "ini", "db", "zip", "gz", "pdf", "html", "log", "py", "ijm", "roi"));

  private final Path root;
  private final int size;
  private final List<float[]> images;
  private final int[] labels;
  private final List<String> classNames;
  private final List<Path> files;

  private ImageFolder(Path root, int size, List<float[]> images, int[] labels, List<String> classNames,
      List<Path> files) {
    this.root = root;
    this.size = size;
    this.images = images;
    this.labels = labels;
    this.classNames = classNames;
    this.files = files;
  }

  /** Loads every image below {@code dir}; see the class comment. */
  public static ImageFolder load(Path dir, int size, boolean labels) {
    return load(dir, size, labels, Progress.NONE);
  }

  /**
   * Loads every image below {@code dir}; see the class comment.
   *
   * @param size side length of the (square) training images
   * @param labels immediate sub-folder names are the classes
   * @throws UserException for a missing or empty folder, an unreadable or non-2-D file, or fewer than 2 classes
   * @throws org.diffxai.core.CancelledException when cancelled
   */
  public static ImageFolder load(Path dir, int size, boolean labels, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    if (size < 1) throw new UserException("Image size must be at least 1 pixel, got " + size + ".");
    if (dir == null || !Files.isDirectory(dir)) {
      throw new UserException("Training image folder not found: " + dir + ". Give an existing folder of images.");
    }
    List<Path> files = new ArrayList<>();
    List<Integer> fileLabels = new ArrayList<>();
    List<String> classNames = new ArrayList<>();
    if (labels) {
      List<Path> loose = candidates(dir, 1);
      if (!loose.isEmpty()) {
        throw new UserException("With labels=true the images must be inside one sub-folder per class, but "
            + dir.relativize(loose.get(0)) + " (and " + (loose.size() - 1) + " more) lie directly in " + dir
            + ". Move them into class sub-folders or train with labels=false.");
      }
      for (Path sub : list(dir)) {
        if (!Files.isDirectory(sub) || hidden(sub)) continue;
        List<Path> inClass = candidates(sub, Integer.MAX_VALUE);
        if (inClass.isEmpty()) {
          throw new UserException("Class folder " + sub + " contains no images. Add images or remove the folder.");
        }
        int label = classNames.size();
        classNames.add(sub.getFileName().toString());
        for (Path p : inClass) {
          files.add(p);
          fileLabels.add(label);
        }
      }
      if (classNames.size() < 2) {
        throw new UserException("labels=true needs at least 2 class sub-folders in " + dir + ", found "
            + classNames.size() + (classNames.isEmpty() ? "" : " (" + classNames.get(0) + ")")
            + ". Add a sub-folder per class or train with labels=false.");
      }
    } else {
      files.addAll(candidates(dir, Integer.MAX_VALUE));
    }
    if (files.isEmpty()) {
      throw new UserException("No images found in " + dir + ". Put TIFF, PNG, JPEG or DICOM files there.");
    }

    List<float[]> images = new ArrayList<>(files.size());
    for (int i = 0; i < files.size(); i++) {
      progress.checkCancelled();
      images.add(read(files.get(i), size));
      progress.report("Loading training images " + (i + 1) + "/" + files.size(), (i + 1.0) / files.size());
    }
    int[] lab = null;
    if (labels) {
      lab = new int[fileLabels.size()];
      for (int i = 0; i < lab.length; i++) lab[i] = fileLabels.get(i);
    }
    return new ImageFolder(dir, size, Collections.unmodifiableList(images), lab,
        Collections.unmodifiableList(classNames), Collections.unmodifiableList(files));
  }

  private static List<Path> list(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().collect(Collectors.toList());
    } catch (IOException e) {
      throw new UserException("Cannot list folder " + dir + ": " + e.getMessage() + ". Check that it is readable.", e);
    }
  }

  /**
   * Regular, non-hidden, non-side-car files below dir (depth 1: directly in dir), sorted by path, without the mask
   * companions of other files ({@link MaskFiles#withoutCompanions}).
   */
  private static List<Path> candidates(Path dir, int depth) {
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
    return n.equals("thumbs.db") || (dot >= 0 && SKIPPED_EXTENSIONS.contains(n.substring(dot + 1)));
  }

  /** One image as size×size gray float values in its own intensity units. */
  static float[] read(Path file, int size) {
    ImagePlus imp;
    try {
      IJ.redirectErrorMessages(true);
      imp = IJ.openImage(file.toString());
    } catch (RuntimeException e) {
      throw new UserException("Cannot read " + file + " as an image (" + e + "). Convert it to TIFF or PNG, or"
          + " remove it from the folder.", e);
    } finally {
      IJ.redirectErrorMessages(false);
    }
    if (imp == null) {
      throw new UserException("Cannot read " + file + " as an image. Convert it to TIFF or PNG, or remove it from"
          + " the folder.");
    }
    try {
      if (imp.getStackSize() > 1) {
        throw new UserException(file + " has " + imp.getStackSize() + " planes (channels, slices or frames), but"
            + " training uses 2-D gray images. Save each plane as its own file (Image > Stacks > Stack to Images).");
      }
      ImageProcessor ip = imp.getProcessor();
      if (!(ip instanceof ColorProcessor)) ip.setCalibrationTable(imp.getCalibration().getCTable());
      ImageProcessor fp = ip.convertToFloat();
      if (fp.getWidth() != size || fp.getHeight() != size) {
        fp.setInterpolationMethod(ImageProcessor.BILINEAR);
        fp = fp.resize(size, size, true);
      }
      float[] px = (float[]) fp.getPixels();
      for (float v : px) {
        if (!Float.isFinite(v)) {
          throw new UserException(file + " contains NaN or infinite pixel values. Replace them (e.g. Process > Math"
              + " > Remove NaNs) or remove the file.");
        }
      }
      return px.clone();
    } finally {
      imp.close();
    }
  }

  /** The folder the images came from. */
  public Path root() {
    return root;
  }

  /** Side length of every image. */
  public int size() {
    return size;
  }

  public int count() {
    return images.size();
  }

  /** Image i as size×size row-major values in image units (do not modify). */
  public float[] image(int i) {
    return images.get(i);
  }

  public List<float[]> images() {
    return images;
  }

  /** Class index per image (into {@link #classNames()}), or null when loaded without labels. */
  public int[] labels() {
    return labels == null ? null : labels.clone();
  }

  /** Sorted class (sub-folder) names; empty without labels. */
  public List<String> classNames() {
    return classNames;
  }

  /** Source file per image. */
  public List<Path> files() {
    return files;
  }

  /**
   * Dataset-level intensity map: the low and high percentiles of all pixels go to model values −1 and +1, i.e.
   * {@code image = model * scale + offset} with scale = (high − low)/2 and offset = (high + low)/2.
   *
   * @param lowPercent e.g. 0.5
   * @param highPercent e.g. 99.5
   */
  public IntensityMapping percentileMapping(double lowPercent, double highPercent) {
    if (!(0 <= lowPercent && lowPercent < highPercent && highPercent <= 100)) {
      throw new IllegalArgumentException("Need 0 <= low < high <= 100 percent");
    }
    long total = (long) images.size() * size * size;
    // Deterministic sub-sample of at most ~16M values (plenty for 0.5 % precision).
    int stride = (int) Math.max(1, (total + (1 << 24) - 1) / (1 << 24));
    float[] all = new float[(int) ((total + stride - 1) / stride)];
    int n = 0;
    long k = 0;
    for (float[] im : images) {
      for (float v : im) {
        if (k++ % stride == 0 && n < all.length) all[n++] = v;
      }
    }
    float[] vals = Arrays.copyOf(all, n);
    Arrays.sort(vals);
    double lo = percentile(vals, lowPercent);
    double hi = percentile(vals, highPercent);
    if (!(hi > lo)) {
      throw new UserException("The training images have no intensity range between the " + lowPercent + " and "
          + highPercent + " percentiles (both " + lo + "). Use images with contrast.");
    }
    return new IntensityMapping((hi - lo) / 2, (hi + lo) / 2);
  }

  /** Linear-interpolated percentile of sorted values. */
  private static double percentile(float[] sorted, double pct) {
    double pos = pct / 100.0 * (sorted.length - 1);
    int i = (int) Math.floor(pos);
    int j = Math.min(sorted.length - 1, i + 1);
    return sorted[i] + (pos - i) * (sorted[j] - sorted[i]);
  }

  /** Images mapped to model space with {@code m} and clipped to [−1, 1] (new arrays). */
  public List<float[]> toModelSpace(IntensityMapping m) {
    List<float[]> out = new ArrayList<>(images.size());
    for (float[] im : images) {
      float[] v = m.toModel(im.clone());
      for (int i = 0; i < v.length; i++) v[i] = Math.max(-1f, Math.min(1f, v[i]));
      out.add(v);
    }
    return out;
  }
}
