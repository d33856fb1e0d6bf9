package org.diffxai.phantom;

import java.util.Locale;
import java.util.Random;
import org.diffxai.core.Seeds;
import org.diffxai.core.UserException;

/**
 * A planted shortcut: a spurious feature burned into a share of one class's phantoms, so that a classifier can learn
 * it instead of the lesion and a bias report has a known answer (issue 11, "planted-shortcut check"; the shortcut
 * learning of Geirhos et al., "Shortcut learning in deep neural networks", Nat. Mach. Intell. 2, 2020, and the
 * hospital tokens and burned-in text of chest X-ray classifiers in Zech et al., PLOS Med. 15:e1002683, 2018).
 *
 * <ul>
 *   <li>{@code mark}: a bright square of side max(2, round(S/16)) pixels (4 at 64×64), S the shorter image side;
 *   <li>{@code text}: four random digits from a 3×5 pixel font, each font pixel max(1, round(S/64)) pixels wide, one
 *       font pixel between characters (15×5 pixels at 64×64; fewer digits below 64×64, as many as fit in the corner's
 *       quarter of the image), like a burned-in annotation;
 * </ul>
 * both placed in a corner, max(1, round(S/32)) pixels from each edge plus a random offset of up to the same amount
 * (so a 64×64 mark lies within the corner's 8×8 pixels, in the air outside the head), with the value {@link #VALUE}
 * replacing image and noise-free image alike (a burn-in carries no noise).
 *
 * <p>Deterministic: slice {@code index} of the chosen class gets the shortcut when the first number of its stream
 * {@code Seeds.random(seed, "phantom.shortcut", index)} is below the share; the offsets and digits come from the same
 * stream. The decision does not depend on the number of slices generated, and the phantom's own streams are untouched,
 * so every pixel outside the shortcut is what the generator makes without it.
 */
public final class Shortcut {

  /** What is planted. */
  public enum Kind {
    NONE,
    MARK,
    TEXT;

    /** The key value: "none", "mark", "text". */
    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Where it is planted. */
  public enum Corner {
    TOP_LEFT,
    TOP_RIGHT,
    BOTTOM_LEFT,
    BOTTOM_RIGHT;

    /** The key value: "top-left", ... */
    public String key() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** Burned-in intensity: the top of the phantoms' display range (0–1), brighter than any tissue but fat. */
  public static final float VALUE = 1f;

  /** No shortcut. */
  public static final Shortcut NONE = new Shortcut(Kind.NONE, true, 0, Corner.TOP_LEFT);

  private static final String STREAM = "phantom.shortcut";
  /** Digits 0–9 in a 3×5 font, row by row. */
  private static final String[] DIGITS = {
      "111101101101111", "010110010010111", "111001111100111", "111001111001111", "101101111001001",
      "111100111001111", "111100111101111", "111001010010010", "111101111101111", "111101111001111"};
  private static final int CHARS = 4;

  public final Kind kind;
  /** The class that gets it: true for {@code lesion}. */
  public final boolean lesionClass;
  /** Share of that class's slices that get it, in [0, 1]. */
  public final double share;
  public final Corner corner;

  public Shortcut(Kind kind, boolean lesionClass, double share, Corner corner) {
    if (kind == null || corner == null) throw new IllegalArgumentException("kind and corner are required");
    if (!(share >= 0 && share <= 1)) throw new IllegalArgumentException("share must be in [0, 1]: " + share);
    this.kind = kind;
    this.lesionClass = lesionClass;
    this.share = share;
    this.corner = corner;
  }

  /**
   * From the key values of Generate Phantoms ({@code shortcut}, {@code shortcut_class}, {@code shortcut_share},
   * {@code shortcut_corner}).
   *
   * @throws UserException naming the key and the valid values
   */
  public static Shortcut parse(String kind, String className, double share, String corner) {
    Kind k = null;
    for (Kind c : Kind.values()) {
      if (c.key().equalsIgnoreCase(trim(kind))) k = c;
    }
    if (k == null) {
      throw new UserException("shortcut=" + kind + " is not valid. Use shortcut=none, shortcut=mark (a bright mark in a"
          + " corner) or shortcut=text (burned-in digits in a corner).");
    }
    String cls = trim(className).toLowerCase(Locale.ROOT);
    if (!cls.equals("lesion") && !cls.equals("healthy")) {
      throw new UserException("shortcut_class=" + className + " is not valid. Use shortcut_class=lesion or "
          + "shortcut_class=healthy.");
    }
    if (!(share >= 0 && share <= 1)) {
      throw new UserException("shortcut_share=" + share + " is not valid. Give the share of the class's slices that "
          + "get the shortcut, from 0 to 1 (e.g. shortcut_share=0.8).");
    }
    Corner at = null;
    for (Corner c : Corner.values()) {
      if (c.key().equalsIgnoreCase(trim(corner))) at = c;
    }
    if (at == null) {
      throw new UserException("shortcut_corner=" + corner + " is not valid. Use shortcut_corner=top-left, top-right, "
          + "bottom-left or bottom-right.");
    }
    return new Shortcut(k, cls.equals("lesion"), share, at);
  }

  private static String trim(String s) {
    return s == null ? "" : s.trim();
  }

  /** Whether slice {@code index} of the given class gets the shortcut. */
  public boolean appliesTo(long seed, int index, boolean lesion) {
    return kind != Kind.NONE && lesion == lesionClass && Seeds.random(seed, STREAM, index).nextDouble() < share;
  }

  /** {@code p} with the shortcut planted when it applies to (seed, index), else {@code p} itself. */
  public Phantom plant(Phantom p, long seed, int index) {
    if (!appliesTo(seed, index, p.lesion)) return p;
    Random r = Seeds.random(seed, STREAM, index);
    r.nextDouble(); // the decision
    int s = Math.min(p.width, p.height);
    int margin = Math.max(1, Math.round(s / 32f));
    int dx = margin + r.nextInt(margin + 1), dy = margin + r.nextInt(margin + 1);
    boolean[] glyph;
    int gw, gh;
    if (kind == Kind.MARK) {
      gw = gh = Math.max(2, Math.round(s / 16f));
      glyph = new boolean[gw * gh];
      java.util.Arrays.fill(glyph, true);
    } else {
      int f = Math.max(1, Math.round(s / 64f));
      // up to four characters, as many as fit in the corner's quarter of the image
      int chars = Math.max(1, Math.min(CHARS, (s / 2 - 2 * margin + f) / (4 * f)));
      gw = (chars * 4 - 1) * f;
      gh = 5 * f;
      glyph = new boolean[gw * gh];
      for (int c = 0; c < chars; c++) {
        String d = DIGITS[r.nextInt(10)];
        for (int y = 0; y < gh; y++) {
          for (int x = 0; x < 3 * f; x++) glyph[y * gw + c * 4 * f + x] = d.charAt((y / f) * 3 + x / f) == '1';
        }
      }
    }
    boolean right = corner == Corner.TOP_RIGHT || corner == Corner.BOTTOM_RIGHT;
    boolean bottom = corner == Corner.BOTTOM_LEFT || corner == Corner.BOTTOM_RIGHT;
    int x0 = right ? p.width - dx - gw : dx, y0 = bottom ? p.height - dy - gh : dy;
    boolean[] where = new boolean[p.width * p.height];
    for (int y = 0; y < gh; y++) {
      for (int x = 0; x < gw; x++) where[(y0 + y) * p.width + x0 + x] = glyph[y * gw + x];
    }
    return p.withShortcut(where, VALUE, new int[] {x0, y0, gw, gh});
  }

  /** The keys as given to Generate Phantoms, e.g. "shortcut=mark shortcut_class=lesion ..."; "" for none. */
  public String describe() {
    if (kind == Kind.NONE) return "";
    return String.format(Locale.ROOT, "shortcut=%s shortcut_class=%s shortcut_share=%s shortcut_corner=%s", kind.key(),
        lesionClass ? "lesion" : "healthy", share, corner.key());
  }
}
