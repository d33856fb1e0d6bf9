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
  OEDEMA;

  private static final Tissue[] ALL = values();

  /** Byte code stored in label maps. */
  public byte code() {
    return (byte) ordinal();
  }

  public static Tissue of(byte code) {
    return ALL[code];
  }

  /** True for lesion core, rim and oedema. */
  public boolean isLesion() {
    return this == LESION_CORE || this == LESION_RIM || this == OEDEMA;
  }
}
