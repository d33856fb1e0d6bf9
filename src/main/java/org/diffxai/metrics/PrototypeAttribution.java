package org.diffxai.metrics;

import org.diffxai.explain.Explanation;

/**
 * A prototype network's own attribution map of one image, for scoring it with the perturbation metrics: the sum over
 * the explained prototypes of their contribution times their upsampled similarity map scaled to peak 1,
 * {@code A(x) = Σ_p c_p · m_p(x) / max m_p}. At the peak of prototype p's map it adds exactly c_p (its share of the
 * target logit); elsewhere it adds the fraction of that share the prototype's similarity there supports. Maps whose
 * maximum is not positive add nothing.
 */
public final class PrototypeAttribution {

  private PrototypeAttribution() {}

  /** The map of an explanation whose {@code top} holds the prototypes to sum (all P for the full map). */
  public static float[] map(Explanation e, int width, int height) {
    double[] sum = new double[width * height];
    for (Explanation.Contribution c : e.top) {
      float max = Float.NEGATIVE_INFINITY;
      for (float v : c.map) max = Math.max(max, v);
      if (!(max > 0)) continue;
      double f = c.contribution / max;
      for (int i = 0; i < sum.length; i++) sum[i] += f * c.map[i];
    }
    float[] out = new float[sum.length];
    for (int i = 0; i < out.length; i++) out[i] = (float) sum[i];
    return out;
  }
}
