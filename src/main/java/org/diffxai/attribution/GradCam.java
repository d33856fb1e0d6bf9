package org.diffxai.attribution;

import java.util.LinkedHashMap;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.LayerGradient;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeMaps;

/**
 * Grad-CAM (Selvaraju et al., "Grad-CAM: visual explanations from deep networks via gradient-based localization",
 * ICCV 2017, eqs. 1–2) on the classifier's feature layer A [h, w, D]: channel weights α_k = (1/hw) Σ_ij ∂f/∂A_ijk, map
 * L = ReLU(Σ_k α_k A_k) on the h×w grid, upsampled to the image with {@link PrototypeMaps#upsampleBicubic} (as the
 * prototype maps are) and clipped at 0 again (bicubic interpolation can undershoot). One gradient evaluation per
 * image. For this project's prototype networks the feature layer is the latent patch grid the prototypes are compared
 * with.
 */
public final class GradCam {
  private GradCam() {}

  static AttributionResult compute(DifferentiableClassifier c, float[] x, int n, Objective o, Progress p) {
    p.report("Grad-CAM", 0);
    LayerGradient g = c.featureGradient(x, n, o);
    int gh = g.height, gw = g.width, d = g.depth, cells = gh * gw;
    float[][] maps = new float[n][];
    for (int i = 0; i < n; i++) {
      int base = i * cells * d;
      double[] alpha = new double[d];
      for (int q = 0; q < cells; q++) {
        for (int k = 0; k < d; k++) alpha[k] += g.gradient[base + q * d + k] / (double) cells;
      }
      float[] cam = new float[cells];
      for (int q = 0; q < cells; q++) {
        double s = 0;
        for (int k = 0; k < d; k++) s += alpha[k] * g.activations[base + q * d + k];
        cam[q] = (float) Math.max(0, s);
      }
      float[] up = PrototypeMaps.upsampleBicubic(cam, gh, gw, c.height(), c.width());
      for (int q = 0; q < up.length; q++) up[q] = Math.max(0f, up[q]);
      maps[i] = up;
    }
    return new AttributionResult(AttributionMethod.GRAD_CAM, c.width(), c.height(), maps, g.values,
        new LinkedHashMap<>(), "feature layer (" + gh + "x" + gw + "x" + d + "), upsampled", n);
  }
}
