package org.diffxai.core;

/**
 * diffusers' {@code set_timesteps} for DDPM and DDIM: which training timesteps the inference steps visit, in
 * descending order. The three spacings follow Lin et al. 2023, Table 2, with numpy's arithmetic reproduced exactly
 * (numpy's {@code round} is round-half-to-even, i.e. {@link Math#rint}):
 *
 * <ul>
 * <li>{@code leading}: r = N // S (integer division); t_i = (S−1−i)·r + steps_offset. Example N=1000, S=10: 900, 800,
 * …, 0.
 * <li>{@code trailing}: r = N / S (double); {@code round(np.arange(N, 0, -r)) - 1}. numpy's arange stores a₀ = N,
 * a₁ = N − r and a_i = a₀ + i·(a₁ − a₀) for i ≥ 2. Example N=1000, S=10: 999, 899, …, 99. steps_offset is not used.
 * <li>{@code linspace}: {@code round(np.linspace(0, N-1, S))[::-1]}, where numpy computes i·((N−1)/(S−1)) and sets the
 * last value to N−1 exactly. Example N=1000, S=7: 999, 832, 666, 500, 333, 166, 0 (832.5 and 166.5 round to even).
 * steps_offset is not used.
 * </ul>
 *
 * <p>One deliberate difference: for some S (e.g. N=1000, S=61) numpy's {@code arange(N, 0, -N/S)} yields S+1 values
 * because N/(N/S) rounds to slightly above S; diffusers then schedules an extra timestep −1. This class keeps the first
 * S values, which are the ones diffusers produces before the spurious one.
 */
public final class Timesteps {
  private Timesteps() {}

  /**
   * The inference timesteps of a configuration for S steps, descending.
   *
   * @throws UserException when steps is not in [1, N] or steps_offset pushes a timestep to N or beyond
   */
  public static int[] of(SchedulerConfig config, int steps) {
    int n = config.numTrainTimesteps();
    checkSteps(steps, n);
    int[] t;
    switch (config.timestepSpacing()) {
      case LEADING:
        t = leading(n, steps, config.stepsOffset());
        break;
      case TRAILING:
        t = trailing(n, steps);
        break;
      case LINSPACE:
        t = linspace(n, steps);
        break;
      default:
        throw new AssertionError(config.timestepSpacing());
    }
    if (t[0] >= n) {
      int max = maxLeadingSteps(n, config.stepsOffset());
      if (max == 0) {
        throw new UserException("Scheduler config key \"" + SchedulerConfig.STEPS_OFFSET + "\" is "
            + config.stepsOffset() + ", which is not below " + SchedulerConfig.NUM_TRAIN_TIMESTEPS + "=" + n
            + ". Use steps_offset=0 or 1.");
      }
      throw new UserException("steps=" + steps + " with " + SchedulerConfig.STEPS_OFFSET + "="
          + config.stepsOffset() + " gives the timestep " + t[0] + ", but the model was trained on timesteps 0 to "
          + (n - 1) + ". Use fewer steps, e.g. steps=" + max + ", or steps_offset=0.");
    }
    return t;
  }

  /** Throws the user-facing error for a step count outside [1, N]. */
  public static void checkSteps(int steps, int numTrainTimesteps) {
    if (steps < 1 || steps > numTrainTimesteps) {
      throw new UserException("steps must be between 1 and " + numTrainTimesteps + "; got " + steps
          + ". Use e.g. steps=" + Math.min(50, numTrainTimesteps) + ".");
    }
  }

  /** {@code (np.arange(0, S) * (N // S)).round()[::-1] + offset}. */
  public static int[] leading(int n, int steps, int offset) {
    int ratio = n / steps;
    int[] t = new int[steps];
    for (int i = 0; i < steps; i++) t[i] = (steps - 1 - i) * ratio + offset;
    return t;
  }

  /** {@code np.round(np.arange(N, 0, -N / S)).astype(int64) - 1}, first S values. */
  public static int[] trailing(int n, int steps) {
    double ratio = (double) n / steps;
    double a0 = n;
    double a1 = a0 - ratio;
    double delta = a1 - a0; // numpy's fill() recomputes the increment from the first two values
    int[] t = new int[steps];
    for (int i = 0; i < steps; i++) {
      double v = i == 0 ? a0 : i == 1 ? a1 : a0 + i * delta;
      t[i] = (int) Math.rint(v) - 1;
    }
    return t;
  }

  /** {@code np.linspace(0, N - 1, S).round()[::-1].astype(int64)}. */
  public static int[] linspace(int n, int steps) {
    int[] t = new int[steps];
    if (steps == 1) {
      t[0] = 0; // numpy: linspace(0, N-1, 1) == [0.]
      return t;
    }
    double step = (double) (n - 1) / (steps - 1);
    for (int i = 0; i < steps; i++) {
      double v = i == steps - 1 ? n - 1 : i * step;
      t[steps - 1 - i] = (int) Math.rint(v);
    }
    return t;
  }

  private static int maxLeadingSteps(int n, int offset) {
    for (int s = n; s >= 1; s--) {
      if ((s - 1) * (n / s) + offset < n) return s;
    }
    return 0;
  }
}
