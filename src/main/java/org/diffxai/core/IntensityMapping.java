package org.diffxai.core;

/**
 * Affine map between image units and model space: {@code image = model * scale + offset}. Identity when a bundle
 * declares none.
 */
public final class IntensityMapping {
  public static final IntensityMapping IDENTITY = new IntensityMapping(1, 0);

  public final double scale;
  public final double offset;

  public IntensityMapping(double scale, double offset) {
    if (!(scale != 0 && Double.isFinite(scale) && Double.isFinite(offset))) {
      throw new UserException("Intensity mapping needs a finite non-zero scale and a finite offset; got scale=" + scale
          + ", offset=" + offset + ". Fix the \"intensity\" entry of model.json.");
    }
    this.scale = scale;
    this.offset = offset;
  }

  /** Model space to image units, in place. */
  public float[] toImage(float[] v) {
    for (int i = 0; i < v.length; i++) v[i] = (float) (v[i] * scale + offset);
    return v;
  }

  /** Image units to model space, in place. */
  public float[] toModel(float[] v) {
    for (int i = 0; i < v.length; i++) v[i] = (float) ((v[i] - offset) / scale);
    return v;
  }
}
