package org.diffxai.phantom;

/** Tissue classes of a phantom; {@link Phantom#tissue} stores {@link #code()} of the dominant class per pixel. */
public enum Tissue {
  BACKGROUND,
  SKIN,
  FAT,
  BONE,
  MARROW,
  CSF,
  GREY_MATTER,
  WHITE_MATTER,
  DEEP_GREY_MATTER,
  VENTRICLE,
  CHOROID_PLEXUS,
  LESION_CORE,
  LESION_RIM,
  OEDEMA,
  /** A planted shortcut (a bright mark or burned-in text, see {@link Shortcut}); not part of the anatomy. */
  SHORTCUT;

  private static final Tissue[] ALL = values();

  /** Byte code stored in label maps. */
  public byte code() {
    return (byte) ordinal();
  }

  /**
   * Whether a label code is anatomy: every tissue, not {@link #BACKGROUND} and not {@link #SHORTCUT} (a planted mark
   * lies in the air outside the head and is no anatomy).
   */
  public static boolean isAnatomy(int code) {
    return code != BACKGROUND.code() && code != SHORTCUT.code();
  }

  /** The anatomy of a label map, per pixel ({@link #isAnatomy}). */
  public static boolean[] anatomy(int[] labels) {
    boolean[] f = new boolean[labels.length];
    for (int j = 0; j < f.length; j++) f[j] = isAnatomy(labels[j]);
    return f;
  }

  public static Tissue of(byte code) {
    return ALL[code];
  }

  /** The codes and names, e.g. "0=background,1=skin,...,14=shortcut": the legend of a label map. */
  public static String legend() {
    StringBuilder sb = new StringBuilder();
    for (Tissue t : ALL) {
      sb.append(sb.length() == 0 ? "" : ",").append(t.code()).append('=')
          .append(t.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
    }
    return sb.toString();
  }

  /** True for lesion core, rim and oedema. */
  public boolean isLesion() {
    return this == LESION_CORE || this == LESION_RIM || this == OEDEMA;
  }
}
