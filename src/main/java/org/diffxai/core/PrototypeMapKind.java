package org.diffxai.core;

import java.util.Locale;

/**
 * How a prototype's pixel map is made (macro key {@code map}).
 *
 * <ul>
 *   <li>{@link #UPSAMPLE}: the prototype's h×w similarity map upsampled bicubically to the image (ProtoPNet, Chen et
 *       al. 2019); cheap, but it shows where the latent patches are similar, not which pixels the similarity depends
 *       on, and fails the patch-visualisation sanity checks of Xu-Darme et al. (2023);
 *   <li>{@link #GRADIENT}: |∂ score_p / ∂x|, the saliency of the prototype's score (Simonyan et al. 2014);
 *   <li>{@link #SMOOTHGRAD}: the same averaged over noisy copies of the image (Smilkov et al. 2017);
 *   <li>{@link #IG}: Integrated Gradients of the prototype's score (Sundararajan et al. 2017), signed.
 * </ul>
 *
 * The gradient kinds are the gradient-based prototype visualisations that Xu-Darme et al. (2023) found to pass the
 * sanity checks; they need a {@link DifferentiableClassifier}. Details and measurements: docs/attributions.md.
 */
public enum PrototypeMapKind {
  UPSAMPLE, GRADIENT, SMOOTHGRAD, IG;

  /**
   * The {@code map} key's default: {@link #IG}, the only kind that beat the random map on deletion and faithfulness
   * correlation and passed model randomisation on every sample network (docs/attributions.md).
   */
  public static final String KEY_DEFAULT = "ig";

  /** The {@code map} key's help, declared once for every command that has the key. */
  public static final String KEY_DESCRIPTION = "Prototype map: ig (Integrated Gradients of the prototype's score,"
      + " signed; the measured default), gradient, smoothgrad (unsigned gradient maps), or upsample (the similarity"
      + " map upsampled, ProtoPNet's; fails the sanity checks, docs/attributions.md)";

  /** The key as users type it: upsample, gradient, smoothgrad, ig. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a key (case-insensitive).
   *
   * @throws UserException naming the valid keys
   */
  public static PrototypeMapKind of(String key) {
    for (PrototypeMapKind k : values()) if (k.key().equalsIgnoreCase(key == null ? "" : key.trim())) return k;
    throw new UserException("map=" + key + " is not a prototype map kind. Use gradient, smoothgrad, ig or upsample.");
  }
}
