package org.diffxai.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.diffxai.core.Progress;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.io.ImageInput;
import org.diffxai.io.InputImages;
import org.diffxai.io.MaskFiles;
import org.diffxai.io.Planes;
import org.diffxai.metrics.FolderAccuracy;

/**
 * How a use case reads the value of an image key under the one input policy of every command (io.ImageInput,
 * docs/input-images.md): a folder (flat, a DICOM series, or with class sub-folders that give each image its label),
 * an image file, or an open image (through the front-end's {@link Inputs}).
 */
final class ImageKeys {
  private ImageKeys() {}

  /** True when the value names an existing folder. */
  static boolean isFolder(String value) {
    if (value == null || value.trim().isEmpty()) return false;
    try {
      return Files.isDirectory(Paths.get(value.trim()));
    } catch (RuntimeException e) {
      return false; // not a path (e.g. a window title with characters a path cannot have)
    }
  }

  /** The images {@code key=value} names, read with the settings (size, fit, channels). */
  static InputImages read(Env env, String key, String value, ImageInput.Settings settings, Progress progress) {
    if (isFolder(value)) return ImageInput.read(Paths.get(value.trim()), settings, progress);
    Planes planes = env.inputs.image(key, value);
    return ImageInput.of(planes, planes.name(), settings);
  }

  /** The name of the images for tables and the record: the folder or file as given, or the image's title. */
  static String name(Env env, String key, String value, InputImages in) {
    if (isFolder(value)) return Paths.get(value.trim()).toString();
    return in.summary().source == null ? value.trim() : in.summary().source;
  }

  /**
   * Accuracy against the folder's class sub-folders, or null when the images carry no labels.
   *
   * @param predicted the model's class per image
   */
  static FolderAccuracy accuracy(InputImages in, int[] predicted, List<String> modelClasses, String folder,
      String model) {
    if (in.classNames().isEmpty()) return null;
    int[] map = FolderAccuracy.matchClasses(in.classNames(), modelClasses, folder, model);
    return FolderAccuracy.of(predicted, in.labels(), map, modelClasses);
  }

  /** One row per true class: its images, correct share, and the predictions by class (the confusion matrix). */
  static Table accuracyTable(FolderAccuracy a) {
    Table t = new Table();
    for (int c = 0; c < a.classes.size(); c++) {
      t.incrementCounter();
      t.addValue("class", a.classes.get(c));
      t.addValue("images", a.support[c]);
      t.addValue("accuracy", a.perClass[c]);
      for (int p = 0; p < a.classes.size(); p++) t.addValue("predicted_" + a.classes.get(p), a.confusion[c][p]);
    }
    t.incrementCounter();
    t.addValue("class", "all");
    t.addValue("images", a.images);
    t.addValue("accuracy", a.accuracy);
    t.setDecimalPlaces("accuracy", 4);
    return t;
  }

  /**
   * The lesion mask of every plane of {@code in} at width×height ({@link MaskFiles}: {@code masks=auto} finds the
   * companions beside the image files, a folder or one file gives them), null for a plane whose image has none.
   *
   * @throws UserException when {@code masks} is given but no image has a mask
   */
  /** The description of a {@code masks} key (Faithfulness Score, Compare Explanation Methods). */
  static final String MASKS_DESCRIPTION = "Lesion masks for the localisation metrics: auto = the name_mask.tif"
      + " companions beside the image files, a folder of masks or one mask file; empty = none";

  static boolean[][] masks(String key, String value, InputImages in, String masks, int width, int height) {
    int n = in.stack().sampleCount();
    boolean[][] out = new boolean[n][];
    Path file = isFolder(value) ? null : Paths.get(value.trim());
    int found = 0;
    for (int p = 0, first = 0; p < n; p++) {
      if (p > 0 && in.noteOfPlane(p) != in.noteOfPlane(p - 1)) first = p;
      String source = in.noteOfPlane(p).source;
      Path image = file != null ? file : path(value).resolve(source);
      java.util.Optional<Path> m = MaskFiles.find(image, masks, MaskFiles.Kind.LESION);
      if (m.isPresent()) {
        out[p] = MaskFiles.read(m.get(), p - first, width, height);
        found++;
      }
    }
    if (found == 0) {
      throw new UserException("masks=" + masks + " gives no mask for any image of " + key + "=" + value + " (looked"
          + " for name" + MaskFiles.Kind.LESION.suffix + ".tif beside or in the folder). Give masks= a folder of"
          + " masks or one mask file, or leave it empty; see docs/ground-truth.md.");
    }
    return out;
  }

  /** A path from a key's value (for folders). */
  static Path path(String value) {
    return Paths.get(value.trim());
  }
}
