package org.diffxai.metrics;

import org.diffxai.core.PrototypeMapKind;
import org.diffxai.explain.Explanation;

/**
 * A prototype network's own attribution map of one image, for scoring it with the perturbation metrics, from the
 * explained prototypes' maps m_p (all P for the full map) and their last-layer weights w_p to the target class:
 *
 * <ul>
 *   <li>{@link PrototypeMapKind#UPSAMPLE}: the sum of each prototype's contribution c_p = score_p · w_p times its
 *       upsampled similarity map scaled to peak 1, {@code A(x) = Σ_p c_p · m_p(x) / max m_p}. At the peak of
 *       prototype p's map it adds exactly c_p (its share of the target logit); elsewhere the fraction of that share the
 *       prototype's similarity there supports. Maps whose maximum is not positive add nothing.
 *   <li>the gradient kinds: {@code A(x) = Σ_p w_p · m_p(x)}. Since the target logit is Σ_p w_p · score_p and m_p is a
 *       gradient map of score_p, this is the same kind of map of the logit itself where the method is linear in the
 *       function: for {@link PrototypeMapKind#IG} exactly Integrated Gradients of the target logit, whose sum is
 *       logit(x) − logit(baseline) (completeness); for the absolute-value kinds (gradient, SmoothGrad) the weighted
 *       sum of the prototypes' sensitivities.
 * </ul>
 */
public final class PrototypeAttribution {

  private PrototypeAttribution() {}

  /** How the own map of this kind is made, for run records. */
  public static String describe(PrototypeMapKind kind) {
    switch (kind) {
      case UPSAMPLE:
        return "sum over all prototypes of contribution x similarity map (bicubic, scaled to peak 1)";
      case IG:
        return "sum over all prototypes of last-layer weight x Integrated Gradients of the prototype's score (= IG of"
            + " the target logit), signed";
      default:
        return "sum over all prototypes of last-layer weight x " + (kind == PrototypeMapKind.GRADIENT ? "|gradient|"
            : "SmoothGrad |gradient|") + " of the prototype's score";
    }
  }

  /** The map of an explanation whose {@code top} holds the prototypes to sum (all P for the full map). */
  public static float[] map(Explanation e, int width, int height) {
    double[] sum = new double[width * height];
    boolean upsample = e.mapKind == PrototypeMapKind.UPSAMPLE;
    for (Explanation.Contribution c : e.top) {
      double f = c.weight;
      if (upsample) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : c.map) max = Math.max(max, v);
        if (!(max > 0)) continue;
        f = c.contribution / max;
      }
      for (int i = 0; i < sum.length; i++) sum[i] += f * c.map[i];
    }
    float[] out = new float[sum.length];
    for (int i = 0; i < out.length; i++) out[i] = (float) sum[i];
    return out;
  }
}
