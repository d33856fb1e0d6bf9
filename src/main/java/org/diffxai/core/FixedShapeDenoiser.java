package org.diffxai.core;

/**
 * A {@link Denoiser} computed in Java whose shape is fixed when it is made (analytic models in tests, the
 * benchmark's cheap stand-in): the shape getters in one place; subclasses give {@link #predict}.
 */
public abstract class FixedShapeDenoiser implements Denoiser {
  protected final int h;
  protected final int w;
  protected final int c;
  protected final int k;
  protected final boolean classConditional;

  /**
   * @param k condition channels (0 = none)
   * @param classConditional whether {@code predict} takes labels
   */
  protected FixedShapeDenoiser(int h, int w, int c, int k, boolean classConditional) {
    this.h = h;
    this.w = w;
    this.c = c;
    this.k = k;
    this.classConditional = classConditional;
  }

  @Override
  public int height() {
    return h;
  }

  @Override
  public int width() {
    return w;
  }

  @Override
  public int channels() {
    return c;
  }

  @Override
  public int conditionChannels() {
    return k;
  }

  @Override
  public boolean classConditional() {
    return classConditional;
  }

  /** Nothing to release. */
  @Override
  public void close() {}
}
