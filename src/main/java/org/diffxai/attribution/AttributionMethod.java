package org.diffxai.attribution;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.diffxai.core.UserException;

/** The attribution methods, by the names users type ({@code methods=saliency,integrated_gradients}). */
public enum AttributionMethod {
  /** |∂f/∂x| (Simonyan, Vedaldi &amp; Zisserman 2014). */
  SALIENCY("saliency", true),
  /** x ⊙ ∂f/∂x (Shrikumar et al. 2016). */
  GRADIENT_X_INPUT("gradient_x_input", true),
  /** (x − x′) ⊙ ∫ ∂f/∂x along the straight path from x′ (Sundararajan, Taly &amp; Yan 2017). */
  INTEGRATED_GRADIENTS("integrated_gradients", true),
  /** |mean of ∂f/∂x over noisy copies of x| (Smilkov et al. 2017). */
  SMOOTHGRAD("smoothgrad", true),
  /** ReLU(Σ_k α_k A_k) on the feature layer, upsampled (Selvaraju et al. 2017). */
  GRAD_CAM("gradcam", true),
  /** Drop of f when a patch is replaced by the reference (Zeiler &amp; Fergus 2014); no gradients. */
  OCCLUSION("occlusion", false);

  private final String key;
  /** True when the method needs a {@link org.diffxai.core.DifferentiableClassifier}. */
  public final boolean needsGradient;

  AttributionMethod(String key, boolean needsGradient) {
    this.key = key;
    this.needsGradient = needsGradient;
  }

  public String key() {
    return key;
  }

  /**
   * Parses a comma-separated list of keys ({@code all} for every method), case-insensitive, in the order given.
   *
   * @throws UserException naming the valid keys
   */
  public static List<AttributionMethod> parseList(String keys) {
    List<AttributionMethod> out = new ArrayList<>();
    String t = keys == null ? "" : keys.trim();
    if (t.equalsIgnoreCase("all")) return List.of(values());
    for (String k : t.split(",")) {
      AttributionMethod m = of(k);
      if (!out.contains(m)) out.add(m);
    }
    return out;
  }

  /** One key; {@code grad_cam}, {@code ig} and {@code gxi} are accepted as other forms. */
  public static AttributionMethod of(String key) {
    String k = key == null ? "" : key.trim().toLowerCase(Locale.ROOT);
    switch (k) {
      case "ig":
        return INTEGRATED_GRADIENTS;
      case "grad_cam":
        return GRAD_CAM;
      case "gxi":
        return GRADIENT_X_INPUT;
      default:
        for (AttributionMethod m : values()) if (m.key.equals(k)) return m;
    }
    StringBuilder valid = new StringBuilder();
    for (AttributionMethod m : values()) valid.append(valid.length() == 0 ? "" : ", ").append(m.key);
    throw new UserException("Unknown attribution method '" + key + "'. Use " + valid + " (comma-separated), or all.");
  }

  @Override
  public String toString() {
    return key;
  }
}
