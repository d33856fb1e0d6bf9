package org.diffxai.core;

import java.util.List;

/** The one reading of a class as the user types it: a class name (exact, else ignoring case) or its index. */
public final class ClassNames {
  private ClassNames() {}

  /**
   * The index of the class {@code key=text} names.
   *
   * @param classes the model's class names; when empty (a bundle that names none) any index &gt;= 0 is accepted
   * @throws UserException for an empty text, an unknown name or an index out of range, listing the valid classes
   */
  public static int index(List<String> classes, String text, String model, String key) {
    return index(classes, text, model, key, "");
  }

  private static int index(List<String> classes, String text, String model, String key, String alternative) {
    String s = text == null ? "" : text.trim();
    if (classes.isEmpty()) {
      if (s.matches("\\d{1,9}")) return Integer.parseInt(s);
      throw new UserException("Model " + model + " names no classes, so " + key + "= must be a class number (0, 1,"
          + " ...); got '" + s + "'.");
    }
    int idx = classes.indexOf(s);
    if (idx >= 0) return idx;
    int ci = -1;
    for (int i = 0; i < classes.size(); i++) {
      if (classes.get(i).equalsIgnoreCase(s)) {
        if (ci >= 0) {
          ci = -2;
          break;
        }
        ci = i;
      }
    }
    if (ci >= 0) return ci;
    if (s.matches("\\d{1,9}") && Integer.parseInt(s) < classes.size()) return Integer.parseInt(s);
    throw new UserException((s.isEmpty() ? "No class given" : key + "=" + s + " is not a class of model " + model)
        + ". Use one of " + String.join(", ", classes) + " (or its index 0 to " + (classes.size() - 1) + ")"
        + alternative + ".");
  }

  /** {@link #index}, or −1 (each image's predicted class) when the text is empty. */
  public static int target(List<String> classes, String text, String model) {
    return text == null || text.trim().isEmpty() ? -1 : index(classes, text, model, "target",
        ", or leave target empty to explain the predicted class");
  }
}
