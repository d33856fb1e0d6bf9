package org.diffxai.attribution;

import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.core.UserException;

/**
 * Pixel maps of prototype scores for the gradient {@link PrototypeMapKind}s: for each (image, prototype) pair, the
 * saliency ({@code GRADIENT}), SmoothGrad or Integrated Gradients map of that prototype's score with respect to the
 * image, all pairs in one batched computation. SmoothGrad's noise for a pair comes from a stream index the caller
 * fixes (e.g. slice·P + prototype), so a map does not depend on which other pairs were computed with it.
 */
public final class PrototypeGradientMaps {
  private PrototypeGradientMaps() {}

  /**
   * @param images b images, b·H·W·C values in image intensity, at the model's input size
   * @param image for each pair, the image (0 … b − 1)
   * @param prototype for each pair, the prototype
   * @param stream for each pair, the SmoothGrad noise stream index
   * @return [pairs][H·W]
   * @throws UserException for {@link PrototypeMapKind#UPSAMPLE}, which has no gradient map
   */
  public static float[][] maps(PrototypeMapKind kind, DifferentiableClassifier c, String model, float[] images,
      int[] image, int[] prototype, long[] stream, AttributionSettings s, Progress p) {
    if (kind == PrototypeMapKind.UPSAMPLE) throw new UserException("map=" + kind.key() + " is not a gradient map.");
    int px = c.height() * c.width() * c.channels(), pairs = image.length;
    float[][] out = new float[pairs][];
    // groups of pairs whose working arrays (about 20 bytes per value for IG) stay near 20 MB
    int group = Math.max(1, GROUP_VALUES / px);
    for (int from = 0; from < pairs; from += group) {
      int m = Math.min(group, pairs - from);
      float[] x = new float[m * px];
      for (int j = 0; j < m; j++) System.arraycopy(images, image[from + j] * px, x, j * px, px);
      Objective o = new Objective(Kind.PROTOTYPE_SCORE, java.util.Arrays.copyOfRange(prototype, from, from + m));
      Progress sub = p.sub((double) from / pairs, (double) (from + m) / pairs);
      float[][] maps;
      switch (kind) {
        case GRADIENT:
          maps = Attributions.saliency(c, x, m, o, sub).maps;
          break;
        case SMOOTHGRAD:
          maps = SmoothGrad.compute(c, model, x, m, o, s, sub, java.util.Arrays.copyOfRange(stream, from, from + m))
              .maps;
          break;
        case IG:
          maps = IntegratedGradients.compute(c, model, x, m, o, s, sub).maps;
          break;
        default:
          throw new AssertionError(kind);
      }
      System.arraycopy(maps, 0, out, from, m);
    }
    return out;
  }

  /** Values (pairs × H·W·C) computed together. */
  private static final int GROUP_VALUES = 1 << 20;
}
