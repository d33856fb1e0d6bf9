package org.diffxai.core;

/**
 * The training noise schedule β_t, α_t = 1 − β_t and ᾱ_t = ∏_{s≤t} α_s (Ho et al. 2020, Sec. 2 and Eq. 4), computed in
 * float32 exactly as diffusers' DDPM/DDIM constructors do it on the CPU with PyTorch:
 *
 * <ul>
 * <li>{@code linear}: {@code torch.linspace(beta_start, beta_end, N, dtype=float32)} — see {@link #linspaceFloat32}.
 * <li>{@code scaled_linear}: {@code torch.linspace(beta_start**0.5, beta_end**0.5, N, dtype=float32) ** 2}; the square
 * roots are taken in double (Python floats), the square in float32.
 * <li>{@code squaredcos_cap_v2}: {@code betas_for_alpha_bar(N, max_beta=0.999)} computed in double with
 * ᾱ(t) = cos²((t + 0.008) / 1.008 · π/2) (Nichol &amp; Dhariwal 2021, Eq. 17) and β_t = min(1 − ᾱ((t+1)/N)/ᾱ(t/N),
 * 0.999), then cast to float32.
 * <li>{@code trained_betas}: the given values cast to float32.
 * <li>{@code alphas = 1.0 - betas}: float32.
 * <li>{@code alphas_cumprod = torch.cumprod(alphas)}: PyTorch's CPU kernel accumulates the running product in double
 * ({@code at::acc_type<float, false>} is double) and rounds each output to float32; this class does the same.
 * </ul>
 */
public final class NoiseSchedule {
  private final float[] betas;
  private final float[] alphas;
  private final float[] alphasCumprod;

  private NoiseSchedule(float[] betas) {
    this.betas = betas;
    this.alphas = new float[betas.length];
    for (int i = 0; i < betas.length; i++) alphas[i] = 1.0f - betas[i];
    this.alphasCumprod = cumprodFloat32(alphas);
  }

  /**
   * The schedule of a configuration.
   *
   * @throws UserException when some ᾱ_t is not strictly between 0 and 1 in float32 (e.g. a beta so small that 1 − β
   *     rounds to 1), which would make the step formulas divide by zero
   */
  public static NoiseSchedule of(SchedulerConfig c) {
    int n = c.numTrainTimesteps();
    float[] betas;
    float[] trained = c.trainedBetas();
    if (trained != null) {
      if (trained.length != n) {
        throw new UserException("Scheduler config key \"" + SchedulerConfig.TRAINED_BETAS + "\" has "
            + trained.length + " values but \"" + SchedulerConfig.NUM_TRAIN_TIMESTEPS + "\" is " + n
            + "; give exactly one beta per training timestep.");
      }
      betas = trained;
    } else {
      switch (c.betaSchedule()) {
        case LINEAR:
          betas = linspaceFloat32((float) c.betaStart(), (float) c.betaEnd(), n);
          break;
        case SCALED_LINEAR:
          betas = linspaceFloat32((float) Math.sqrt(c.betaStart()), (float) Math.sqrt(c.betaEnd()), n);
          for (int i = 0; i < n; i++) betas[i] = betas[i] * betas[i];
          break;
        case SQUAREDCOS_CAP_V2:
          double[] d = betasForAlphaBar(n, 0.999);
          betas = new float[n];
          for (int i = 0; i < n; i++) betas[i] = (float) d[i];
          break;
        default:
          throw new AssertionError(c.betaSchedule());
      }
    }
    NoiseSchedule s = new NoiseSchedule(betas);
    for (int t = 0; t < n; t++) {
      float a = s.alphasCumprod[t];
      if (!(a > 0f && a < 1f)) {
        String source = trained != null ? SchedulerConfig.TRAINED_BETAS
            : SchedulerConfig.BETA_START + "=" + c.betaStart() + ", " + SchedulerConfig.BETA_END + "=" + c.betaEnd()
                + ", " + SchedulerConfig.BETA_SCHEDULE + "=" + c.betaSchedule().key();
        throw new UserException("The noise schedule (" + source + ") gives alphas_cumprod[" + t + "] = " + a
            + " in float32; it must be strictly between 0 and 1. Use betas of at least about 1e-7 and at most 0.999.");
      }
    }
    return s;
  }

  /** Number of training timesteps N. */
  public int size() {
    return betas.length;
  }

  /** β_t (float32). */
  public float beta(int t) {
    return betas[t];
  }

  /** α_t = 1 − β_t (float32). */
  public float alpha(int t) {
    return alphas[t];
  }

  /** ᾱ_t = ∏_{s≤t} α_s (float32). */
  public float alphaCumprod(int t) {
    return alphasCumprod[t];
  }

  public float[] betas() {
    return betas.clone();
  }

  public float[] alphas() {
    return alphas.clone();
  }

  public float[] alphasCumprod() {
    return alphasCumprod.clone();
  }

  /**
   * {@code torch.linspace(start, end, steps, dtype=torch.float32)} as PyTorch's CPU kernel computes it (ATen
   * RangeFactoriesKernel.cpp): step = (end − start) / (steps − 1) in float32; the first half counts up from start
   * ({@code start + step * i}), the second half counts down from end ({@code end - step * (steps - i - 1)}), so both
   * end points are exact. Older PyTorch releases used a vectorised variant that can differ in the last bit.
   */
  public static float[] linspaceFloat32(float start, float end, int steps) {
    float[] out = new float[steps];
    if (steps == 1) {
      out[0] = start;
      return out;
    }
    float step = (end - start) / (float) (steps - 1);
    int halfway = steps / 2;
    for (int i = 0; i < steps; i++) {
      out[i] = i < halfway ? start + step * (float) i : end - step * (float) (steps - i - 1);
    }
    return out;
  }

  /**
   * diffusers' {@code betas_for_alpha_bar} with the cosine ᾱ of Nichol &amp; Dhariwal 2021, Eq. 17 (s = 0.008), in
   * double: β_i = min(1 − ᾱ((i+1)/N) / ᾱ(i/N), maxBeta). StrictMath keeps it identical on every JVM.
   */
  public static double[] betasForAlphaBar(int n, double maxBeta) {
    double[] betas = new double[n];
    for (int i = 0; i < n; i++) {
      double t1 = (double) i / n;
      double t2 = (double) (i + 1) / n;
      betas[i] = Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), maxBeta);
    }
    return betas;
  }

  private static double cosineAlphaBar(double t) {
    double c = StrictMath.cos((t + 0.008) / 1.008 * Math.PI / 2);
    return c * c;
  }

  /** {@code torch.cumprod} of a float32 vector on the CPU: running product in double, each output rounded to float. */
  public static float[] cumprodFloat32(float[] v) {
    float[] out = new float[v.length];
    double acc = 1.0;
    for (int i = 0; i < v.length; i++) {
      acc *= v[i];
      out[i] = (float) acc;
    }
    return out;
  }
}
