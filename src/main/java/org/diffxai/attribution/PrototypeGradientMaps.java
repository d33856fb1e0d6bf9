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
    int px = c.height() * c.width() * c.channels(), pairs = image.length;
    if (pairs == 0) return new float[0][];
    float[] x = new float[pairs * px];
    for (int j = 0; j < pairs; j++) System.arraycopy(images, image[j] * px, x, j * px, px);
    Objective o = new Objective(Kind.PROTOTYPE_SCORE, prototype);
    switch (kind) {
      case GRADIENT:
        return Attributions.saliency(c, x, pairs, o, p).maps;
      case SMOOTHGRAD:
        return SmoothGrad.compute(c, model, x, pairs, o, s, p, stream).maps;
      case IG:
        return IntegratedGradients.compute(c, model, x, pairs, o, s, p).maps;
      default:
        throw new UserException("map=" + kind.key() + " is not a gradient map.");
    }
  }
}
