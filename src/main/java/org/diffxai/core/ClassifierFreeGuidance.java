package org.diffxai.core;

/**
 * Classifier-free guidance (Ho &amp; Salimans 2022, "Classifier-Free Diffusion Guidance", Eq. 6): a denoiser whose
 * output for label c is {@code (1 + w) · model(x, t, c) − w · model(x, t, ∅)}, where ∅ is the model's "no class" label
 * (a network trained with label dropout learns both). The combination is applied to the raw model output: for ε- and
 * v-prediction alike it is the same affine combination of the predicted noise, because at a fixed x_t both outputs
 * are affine in ε with the same coefficients. The labelled and unlabelled halves run as one batch of 2n.
 */
public final class ClassifierFreeGuidance implements Denoiser {

  private final Denoiser model;
  private final float w;

  private ClassifierFreeGuidance(Denoiser model, double w) {
    this.model = model;
    this.w = (float) w;
  }

  /**
   * The guided denoiser, or {@code model} itself when {@code w} = 0.
   *
   * @throws UserException when w &lt; 0 or not finite, or w &gt; 0 and the model has no "no class" label
   */
  public static Denoiser wrap(Denoiser model, double w) {
    if (!(w >= 0) || Double.isInfinite(w)) {
      throw new UserException("cfg_scale=" + w + " must be a number >= 0 (0 = no classifier-free guidance, or auto).");
    }
    if (w == 0) return model;
    if (!model.classConditional() || model.unconditionalLabel() < 0) {
      String shown = w == Math.rint(w) ? Long.toString((long) w) : Double.toString(w);
      throw new UserException("cfg_scale=" + shown + " needs a class-conditional model trained with label dropout (its "
          + "model.json declares training.unconditional_label; Train Denoiser with label_dropout=0.1 makes one, and "
          + "the bundled sample is one). Set cfg_scale=0 or auto for this model.");
    }
    return new ClassifierFreeGuidance(model, w);
  }

  @Override
  public float[] predict(float[] x, float[] t, int[] labels, float[] condition, int n) {
    int len = x.length;
    float[] x2 = new float[2 * len];
    System.arraycopy(x, 0, x2, 0, len);
    System.arraycopy(x, 0, x2, len, len);
    float[] t2 = new float[2 * n];
    System.arraycopy(t, 0, t2, 0, n);
    System.arraycopy(t, 0, t2, n, n);
    int[] l2 = new int[2 * n];
    System.arraycopy(labels, 0, l2, 0, n);
    java.util.Arrays.fill(l2, n, 2 * n, model.unconditionalLabel());
    float[] c2 = null;
    if (condition != null) {
      c2 = new float[2 * condition.length];
      System.arraycopy(condition, 0, c2, 0, condition.length);
      System.arraycopy(condition, 0, c2, condition.length, condition.length);
    }
    float[] y = model.predict(x2, t2, l2, c2, 2 * n);
    float[] out = new float[len];
    for (int i = 0; i < len; i++) out[i] = (1 + w) * y[i] - w * y[len + i];
    return out;
  }

  @Override
  public int height() {
    return model.height();
  }

  @Override
  public int width() {
    return model.width();
  }

  @Override
  public int channels() {
    return model.channels();
  }

  @Override
  public int conditionChannels() {
    return model.conditionChannels();
  }

  @Override
  public boolean classConditional() {
    return true;
  }

  @Override
  public int unconditionalLabel() {
    return model.unconditionalLabel();
  }

  /** Does nothing: the wrapped model belongs to the caller. */
  @Override
  public void close() {}
}
