package org.diffxai.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;

/**
 * A folder of 2-D training images, read by {@link ImageInput} under the input policy of docs/input-images.md (TIFF,
 * PNG, JPEG, GIF, BMP, DICOM; grey in the images' own units; colour, palette and RGBA by the colour rule) and brought to
 * size×size by the {@link Fit} rule (default {@link Fit#PAD}), each conversion counted in {@link #input()}. Images keep
 * their intensity units; see {@link #percentileMapping} for the map to model space.
 *
 * <p>With {@code labels=true} each immediate sub-folder is a class (names sorted); otherwise every image below the
 * folder is used. Hidden files and common side-car files (.txt, .csv, .json, .md, .xml, .zip, …) are skipped; every
 * other file that cannot be read is named in one message before anything is trained.
 */
public final class ImageFolder {

  private final Path root;
  private final int size;
  private final List<float[]> images;
  private final int[] labels;
  private final List<String> classNames;
  private final List<Path> files;
  private final InputImages input;

  private ImageFolder(Path root, int size, InputImages input, boolean labelled) {
    this.root = root;
    this.size = size;
    this.input = input;
    FloatStack st = input.stack();
    List<float[]> im = new ArrayList<>(st.planeCount());
    for (int i = 0; i < st.planeCount(); i++) im.add(st.plane(i));
    this.images = Collections.unmodifiableList(im);
    this.labels = labelled ? input.labels() : null;
    this.classNames = labelled ? input.classNames() : Collections.emptyList();
    List<Path> f = new ArrayList<>();
    for (InputImages.Note n : input.notes()) f.add(root.resolve(n.source));
    this.files = Collections.unmodifiableList(f);
  }

  /** Loads every image below {@code dir} with the default fit and no cache; see the class comment. */
  public static ImageFolder load(Path dir, int size, boolean labels) {
    return load(dir, size, labels, Progress.NONE);
  }

  /** Loads every image below {@code dir} with the default fit and no cache; see the class comment. */
  public static ImageFolder load(Path dir, int size, boolean labels, Progress progress) {
    if (size < 1) throw new UserException("Image size must be at least 1 pixel, got " + size + ".");
    return load(dir, ImageInput.Settings.size(size, size), labels, progress);
  }

  /**
   * Loads every image below {@code dir}; see the class comment.
   *
   * @param settings a square size, the fit rule and, to reuse decoded folders, the dataset cache
   * @param labels immediate sub-folder names are the classes
   * @throws UserException for a missing or empty folder, any bad file (all named), or fewer than 2 classes
   * @throws org.diffxai.core.CancelledException when cancelled
   */
  public static ImageFolder load(Path dir, ImageInput.Settings settings, boolean labels, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    if (settings.width != settings.height || settings.width < 1) {
      throw new UserException("Training images need one square size, got " + settings.width + "x" + settings.height
          + ".");
    }
    if (dir == null || !Files.isDirectory(dir)) {
      throw new UserException("Training image folder not found: " + dir + ". Give an existing folder of images.");
    }
    Path root = dir.toAbsolutePath().normalize();
    InputImages in = labels ? ImageInput.readClasses(root, settings, progress)
        : ImageInput.read(root, settings, progress);
    if (labels && in.classNames().size() < 2) {
      throw new UserException("labels=true needs at least 2 class sub-folders in " + dir + ", found "
          + in.classNames().size() + (in.classNames().isEmpty() ? "" : " (" + in.classNames().get(0) + ")")
          + ". Add a sub-folder per class or train with labels=false.");
    }
    if (in.stack().channels != 1) throw new UserException("Training images must be grey (1 channel).");
    return new ImageFolder(root, settings.width, in, labels);
  }

  /** What was read: per-image notes and the summary of conversions, for the training log and bundle provenance. */
  public InputImages input() {
    return input;
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
