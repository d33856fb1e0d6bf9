package org.diffxai.attribution;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.ReferenceImage;
import org.diffxai.core.UserException;

/**
 * Settings of the attribution methods; field names follow the keys users type. 0 means "auto" where documented.
 * Defaults and the reasons for them: docs/attributions.md.
 */
public final class AttributionSettings {
  /** Integrated Gradients: where the path starts; Occlusion: what an occluded patch becomes. */
  public ReferenceImage baseline = ReferenceImage.BLUR;
  /** Integrated Gradients: gradient evaluations along the path. */
  public int steps = 32;
  /** Integrated Gradients: the quadrature rule of the path integral. */
  public IntegratedGradients.Rule rule = IntegratedGradients.Rule.MIDPOINT;
  /** SmoothGrad: noisy copies per image. */
  public int samples = 25;
  /** SmoothGrad: noise σ as a fraction of the image's intensity range (max − min). */
  public double noise = 0.15;
  /** Occlusion: side of the square patch in pixels; 0 = max(1, min(H, W) / 8). */
  public int patch = 0;
  /** Occlusion: step between patch positions; 0 = max(1, patch / 2). */
  public int stride = 0;
  /** SmoothGrad's noise comes from the named stream "smoothgrad" of this seed (core.Seeds). */
  public long seed = 0;

  public AttributionSettings copy() {
    AttributionSettings s = new AttributionSettings();
    s.baseline = baseline;
    s.steps = steps;
    s.rule = rule;
    s.samples = samples;
    s.noise = noise;
    s.patch = patch;
    s.stride = stride;
    s.seed = seed;
    return s;
  }

  int patch(int h, int w) {
    return patch == 0 ? Math.max(1, Math.min(h, w) / 8) : patch;
  }

  int stride(int h, int w) {
    return stride == 0 ? Math.max(1, patch(h, w) / 2) : stride;
  }

  /**
   * Checks the settings against an h×w image.
   *
   * @throws UserException naming the key and its valid range
   */
  public void check(int h, int w) {
    if (baseline == null) throw new UserException("baseline is not set. Use zero, min, mean or blur.");
    if (rule == null) throw new UserException("rule is not set. Use right, midpoint or trapezoid.");
    check(steps >= (rule == IntegratedGradients.Rule.TRAPEZOID ? 2 : 1), "steps=" + steps + ": Integrated Gradients "
        + "needs at least " + (rule == IntegratedGradients.Rule.TRAPEZOID ? 2 : 1) + " step(s) (default 32).");
    check(samples >= 1, "samples=" + samples + ": SmoothGrad needs at least 1 noisy copy (default 25).");
    check(noise >= 0 && Double.isFinite(noise), "noise=" + noise + ": give SmoothGrad's noise level as a fraction of "
        + "the image range, 0 or more (default 0.15).");
    int side = Math.min(h, w);
    check(patch >= 0 && patch(h, w) <= side, "patch_size=" + patch + " does not fit the " + w + "x" + h + " image. Use"
        + " 1 to " + side + " (0 = auto).");
    check(stride >= 0, "stride=" + stride + ": use 1 or more (0 = half the patch).");
  }

  /** The settings as run-record entries ({@code attribution.steps}, …) with auto values resolved. */
  public Map<String, String> describe(int h, int w) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("attribution.baseline", baseline.key() + (baseline == ReferenceImage.BLUR ? String.format(Locale.ROOT,
        " (sigma %.3g px)", ReferenceImage.blurSigma(h, w)) : ""));
    m.put("attribution.steps", Integer.toString(steps));
    m.put("attribution.rule", rule.key());
    m.put("attribution.samples", Integer.toString(samples));
    m.put("attribution.noise", Double.toString(noise));
    m.put("attribution.patch", Integer.toString(patch(h, w)));
    m.put("attribution.stride", Integer.toString(stride(h, w)));
    m.put("attribution.seed", Long.toString(seed));
    return m;
  }

  private static void check(boolean ok, String message) {
    if (!ok) throw new UserException(message);
  }
}
