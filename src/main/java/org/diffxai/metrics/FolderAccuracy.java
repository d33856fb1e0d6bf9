package org.diffxai.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.UserException;

/**
 * Accuracy of a classifier against the labels of a folder with class sub-folders (engine-free): the sub-folders are
 * matched to the model's class names by name (exactly, else ignoring case when that is unambiguous), then overall
 * accuracy, per-class accuracy (recall: the fraction of a class's images predicted as that class) and the confusion
 * matrix (rows = folder class, columns = predicted class, both in the model's class order).
 */
public final class FolderAccuracy {
  /** The model's class names: the order of rows and columns. */
  public final List<String> classes;
  /** confusion[true][predicted] image counts. */
  public final long[][] confusion;
  public final long images;
  public final long correct;
  /** correct / images. */
  public final double accuracy;
  /** Per model class: correct / images of that class, NaN when the folder has none of it. */
  public final double[] perClass;
  /** Per model class: images of that class in the folder. */
  public final long[] support;

  private FolderAccuracy(List<String> classes, long[][] confusion) {
    this.classes = Collections.unmodifiableList(new ArrayList<>(classes));
    this.confusion = confusion;
    int k = classes.size();
    perClass = new double[k];
    support = new long[k];
    long all = 0, ok = 0;
    for (int t = 0; t < k; t++) {
      for (int p = 0; p < k; p++) support[t] += confusion[t][p];
      perClass[t] = support[t] == 0 ? Double.NaN : (double) confusion[t][t] / support[t];
      all += support[t];
      ok += confusion[t][t];
    }
    images = all;
    correct = ok;
    accuracy = all == 0 ? Double.NaN : (double) ok / all;
  }

  /**
   * The model class index of each folder class.
   *
   * @param folderClasses sub-folder names (e.g. {@code InputImages.classNames()})
   * @param modelClasses the model's class names
   * @param folder, model how they are called in messages
   * @throws UserException naming every sub-folder that is not a class of the model, and the model's classes
   */
  public static int[] matchClasses(List<String> folderClasses, List<String> modelClasses, String folder,
      String model) {
    int[] out = new int[folderClasses.size()];
    List<String> unknown = new ArrayList<>();
    for (int i = 0; i < out.length; i++) {
      String f = folderClasses.get(i);
      int idx = modelClasses.indexOf(f);
      if (idx < 0) {
        for (int m = 0; m < modelClasses.size(); m++) {
          if (modelClasses.get(m).equalsIgnoreCase(f)) {
            if (idx >= 0) {
              idx = -2; // ambiguous
              break;
            }
            idx = m;
          }
        }
      }
      if (idx < 0) unknown.add(f);
      out[i] = idx;
    }
    if (!unknown.isEmpty()) {
      throw new UserException("The class folder" + (unknown.size() == 1 ? " " : "s ") + String.join(", ", unknown)
          + " in " + folder + (unknown.size() == 1 ? " is not a class" : " are not classes") + " of model " + model
          + ", whose classes are " + String.join(", ", modelClasses) + ". Name each sub-folder after the model's"
          + " class of its images, or remove it.");
    }
    return out;
  }

  /**
   * Counts predictions against folder labels.
   *
   * @param predicted model class index per image
   * @param folderLabels folder class index per image (e.g. {@code InputImages.labels()})
   * @param folderToModel from {@link #matchClasses}
   */
  public static FolderAccuracy of(int[] predicted, int[] folderLabels, int[] folderToModel,
      List<String> modelClasses) {
    if (predicted.length != folderLabels.length) {
      throw new IllegalArgumentException(predicted.length + " predictions for " + folderLabels.length + " labels");
    }
    int k = modelClasses.size();
    long[][] cm = new long[k][k];
    for (int i = 0; i < predicted.length; i++) {
      int t = folderToModel[folderLabels[i]];
      if (predicted[i] < 0 || predicted[i] >= k) {
        throw new IllegalArgumentException("prediction " + predicted[i] + " is not one of " + k + " classes");
      }
      cm[t][predicted[i]]++;
    }
    return new FolderAccuracy(modelClasses, cm);
  }

  /** Provenance entries: accuracy, per-class accuracy and the matrix as "row;row" of comma-separated counts. */
  public Map<String, String> toMap() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("folder_images", Long.toString(images));
    m.put("folder_accuracy", fmt(accuracy));
    for (int c = 0; c < classes.size(); c++) {
      m.put("folder_accuracy_" + classes.get(c), fmt(perClass[c]) + " (" + support[c] + " images)");
    }
    StringBuilder sb = new StringBuilder();
    for (int t = 0; t < classes.size(); t++) {
      if (t > 0) sb.append(';');
      for (int p = 0; p < classes.size(); p++) sb.append(p > 0 ? "," : "").append(confusion[t][p]);
    }
    m.put("folder_confusion_rows_true_columns_predicted", sb.toString());
    return m;
  }

  /** A small text table for logs: accuracy, then the matrix with per-class accuracy. */
  public String describe() {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "accuracy %s (%d of %d images)%n",
        fmt(accuracy), correct, images));
    int w = 9;
    for (String c : classes) w = Math.max(w, c.length() + 1);
    sb.append(String.format(Locale.ROOT, "%-" + w + "s", "true\\pred"));
    for (String c : classes) sb.append(String.format(Locale.ROOT, "%" + w + "s", c));
    sb.append(String.format(Locale.ROOT, "%" + w + "s%n", "accuracy"));
    for (int t = 0; t < classes.size(); t++) {
      sb.append(String.format(Locale.ROOT, "%-" + w + "s", classes.get(t)));
      for (int p = 0; p < classes.size(); p++) sb.append(String.format(Locale.ROOT, "%" + w + "d", confusion[t][p]));
      sb.append(String.format(Locale.ROOT, "%" + w + "s%n", fmt(perClass[t])));
    }
    return sb.toString();
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
  }
}
