package org.diffxai.phantom;

/**
 * MR contrast of a phantom. Relative intensities follow the usual appearance of brain tissue: on T1-weighted images
 * fat is bright, white matter brighter than grey matter, CSF dark; on T2-weighted images CSF is bright and grey matter
 * brighter than white matter. Lesions (tumour with oedema) are T1-hypointense and T2-hyperintense.
 */
public enum Contrast {
  T1,
  T2;

  /** Parses "T1" or "T2" (case-insensitive); null when unknown. */
  public static Contrast parse(String s) {
    if (s == null) return null;
    for (Contrast c : values()) {
      if (c.name().equalsIgnoreCase(s.trim())) return c;
    }
    return null;
  }
}
