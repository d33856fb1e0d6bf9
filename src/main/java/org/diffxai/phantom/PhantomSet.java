package org.diffxai.phantom;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.diffxai.core.UserException;

/**
 * The slices Generate Phantoms makes (engine-free): {@code count} square slices of side {@code size} per class,
 * healthy first, slice i of each class being {@code PhantomGenerator.generate(seed, i, lesion)} with the optional
 * {@link Shortcut} planted. Item k (0 ≤ k &lt; {@link #total()}) is slice {@link #index(int)} of class
 * {@link #lesion(int)}.
 */
public final class PhantomSet {
  public final int count;
  public final int size;
  public final long seed;
  /** The classes in generation order (healthy first): false = healthy, true = lesion. */
  public final List<Boolean> classes;
  public final Contrast contrast;
  public final Shortcut shortcut;
  private final PhantomGenerator generator;

  /**
   * @throws UserException for a count below 1 or a size outside {@link PhantomGenerator#MIN_SIZE}..{@link
   *     PhantomGenerator#MAX_SIZE}
   */
  public PhantomSet(int count, int size, long seed, List<Boolean> classes, Contrast contrast, Shortcut shortcut) {
    if (count < 1) throw new UserException("count=" + count + " is not valid. Generate at least 1 slice per class.");
    if (size < PhantomGenerator.MIN_SIZE || size > PhantomGenerator.MAX_SIZE) {
      throw new UserException("size=" + size + " is not valid. Use a side from " + PhantomGenerator.MIN_SIZE + " to "
          + PhantomGenerator.MAX_SIZE + " pixels.");
    }
    if (classes == null || classes.isEmpty()) throw new IllegalArgumentException("no classes");
    this.count = count;
    this.size = size;
    this.seed = seed;
    List<Boolean> sorted = new ArrayList<>(classes);
    sorted.sort(null);
    this.classes = Collections.unmodifiableList(sorted);
    this.contrast = contrast;
    this.shortcut = shortcut == null ? Shortcut.NONE : shortcut;
    this.generator = new PhantomGenerator(size, size, contrast);
  }

  /** Number of slices: count × classes. */
  public int total() {
    return count * classes.size();
  }

  /** The class of item k: true for lesion. */
  public boolean lesion(int k) {
    return classes.get(k / count);
  }

  /** The slice index of item k within its class. */
  public int index(int k) {
    return k % count;
  }

  /** Slice label of item k, e.g. {@code lesion_0003}. */
  public String label(int k) {
    return String.format(Locale.ROOT, "%s_%04d", className(lesion(k)), index(k));
  }

  /** File name of item k inside its class folder, e.g. {@code phantom_0003.tif}. */
  public String fileName(int k) {
    return String.format(Locale.ROOT, "phantom_%04d.tif", index(k));
  }

  /** Generates item k (with the shortcut when it applies). */
  public Phantom generate(int k) {
    return shortcut.plant(generator.generate(seed, index(k), lesion(k)), seed, index(k));
  }

  /** Temporary memory of one {@link #generate} call in bytes. */
  public long workingMemoryBytes() {
    return generator.workingMemoryBytes();
  }

  /** The parameters as one line, e.g. "Generate Phantoms: count=8 size=64 seed=1 classes=healthy,lesion contrast=T1". */
  public String describe() {
    StringBuilder sb = new StringBuilder("Generate Phantoms: count=").append(count).append(" size=").append(size)
        .append(" seed=").append(seed).append(" classes=");
    for (int i = 0; i < classes.size(); i++) sb.append(i > 0 ? "," : "").append(className(classes.get(i)));
    sb.append(" contrast=").append(contrast.name());
    String s = shortcut.describe();
    if (!s.isEmpty()) sb.append(' ').append(s);
    return sb.toString();
  }

  /** "healthy" or "lesion". */
  public static String className(boolean lesion) {
    return lesion ? "lesion" : "healthy";
  }

  /**
   * "healthy,lesion" | "healthy" | "lesion" (also "lesion,healthy", spaces and case ignored), healthy first.
   *
   * @throws UserException naming the valid values
   */
  public static List<Boolean> parseClasses(String s) {
    List<Boolean> out = new ArrayList<>();
    if (s != null) {
      for (String part : s.split(",")) {
        String p = part.trim().toLowerCase(Locale.ROOT);
        Boolean lesion = p.equals("healthy") ? Boolean.FALSE : p.equals("lesion") ? Boolean.TRUE : null;
        if (lesion == null || out.contains(lesion)) {
          out.clear();
          break;
        }
        out.add(lesion);
      }
    }
    if (out.isEmpty()) {
      throw new UserException("classes=" + s + " is not valid. Use classes=healthy,lesion or classes=healthy or "
          + "classes=lesion.");
    }
    out.sort(null); // healthy first
    return out;
  }
}
