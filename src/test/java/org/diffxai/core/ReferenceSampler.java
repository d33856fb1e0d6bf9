package org.diffxai.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An independent, straightforward double-precision implementation of DDPM and DDIM sampling written from the papers
 * (it does not call the production schedulers, schedule or timestep code). Only the noise comes from
 * {@link GaussianNoise} streams, so that stochastic runs can be compared.
 *
 * <ul>
 * <li>β schedules: linear / scaled_linear (Ho et al. 2020 Sec. 4; latent diffusion), cosine (Nichol &amp; Dhariwal
 * 2021 Eq. 17, β ≤ 0.999); ᾱ_t = ∏(1 − β_s).
 * <li>x̂₀: ε (Ho Eq. 15), v (Salimans &amp; Ho 2022), x₀; then clip or Imagen dynamic thresholding (Saharia et al.
 * 2022).
 * <li>DDPM: posterior mean and variance between consecutive inference timesteps (Ho Eq. 6–7).
 * <li>DDIM: Song et al. 2021 Eq. 12 and 16.
 * </ul>
 */
final class ReferenceSampler {

  /** Parameters of one case (diffusers key names in comments). */
  static final class Case {
    String kind = "ddim";
    int numTrain = 1000; // num_train_timesteps
    double betaStart = 0.0001;
    double betaEnd = 0.02;
    String schedule = "linear"; // beta_schedule
    String prediction = "epsilon"; // prediction_type
    boolean clip = true; // clip_sample
    double clipRange = 1.0; // clip_sample_range
    boolean thresholding = false;
    double ratio = 0.995; // dynamic_thresholding_ratio
    double maxValue = 1.0; // sample_max_value
    boolean alphaToOne = true; // set_alpha_to_one
    int offset = 0; // steps_offset
    String spacing = "leading"; // timestep_spacing
    String variance = "fixed_small"; // variance_type
    double eta = 0;
    int steps = 20;
    /** Allowed scaled error; the default is SamplerReferenceTest.TOL, ill-conditioned cases say why they differ. */
    double tol = SamplerReferenceTest.TOL;
    String name;

    Case(String name) {
      this.name = name;
    }

    SchedulerConfig config() {
      return new SchedulerConfig().numTrainTimesteps(numTrain).betaStart(betaStart).betaEnd(betaEnd)
          .betaSchedule(schedule).predictionType(prediction).clipSample(clip).clipSampleRange(clipRange)
          .thresholding(thresholding).dynamicThresholdingRatio(ratio).sampleMaxValue(maxValue)
          .setAlphaToOne(alphaToOne).stepsOffset(offset).timestepSpacing(spacing).varianceType(variance);
    }

    DiffusionScheduler scheduler() {
      return DiffusionScheduler.create(kind, config(), eta);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** One sample's trajectory: per step x_t, x̂₀, ε̂; and the final sample. */
  static final class Trajectory {
    final List<double[]> xt = new ArrayList<>();
    final List<double[]> x0 = new ArrayList<>();
    final List<double[]> eps = new ArrayList<>();
    double[] last;
  }

  static double[] alphasCumprod(Case c) {
    int n = c.numTrain;
    double[] abar = new double[n];
    double prod = 1;
    for (int i = 0; i < n; i++) {
      double beta;
      double frac = n == 1 ? 0 : (double) i / (n - 1);
      switch (c.schedule) {
        case "linear":
          beta = c.betaStart + (c.betaEnd - c.betaStart) * frac;
          break;
        case "scaled_linear":
          double r = Math.sqrt(c.betaStart) + (Math.sqrt(c.betaEnd) - Math.sqrt(c.betaStart)) * frac;
          beta = r * r;
          break;
        case "squaredcos_cap_v2":
          beta = Math.min(1 - cosAlphaBar((i + 1.0) / n) / cosAlphaBar((double) i / n), 0.999);
          break;
        default:
          throw new IllegalArgumentException(c.schedule);
      }
      prod *= 1 - beta;
      abar[i] = prod;
    }
    return abar;
  }

  private static double cosAlphaBar(double t) {
    double v = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
    return v * v;
  }

  /** Inference timesteps from the plain formulas of each spacing. */
  static int[] timesteps(Case c) {
    int n = c.numTrain;
    int s = c.steps;
    int[] t = new int[s];
    for (int i = 0; i < s; i++) {
      switch (c.spacing) {
        case "leading":
          t[i] = (s - 1 - i) * (n / s) + c.offset;
          break;
        case "trailing":
          t[i] = (int) Math.rint(n - i * ((double) n / s)) - 1;
          break;
        case "linspace":
          t[i] = s == 1 ? 0 : (int) Math.rint((s - 1 - i) * (n - 1.0) / (s - 1));
          break;
        default:
          throw new IllegalArgumentException(c.spacing);
      }
    }
    return t;
  }

  /**
   * Runs one sample.
   *
   * @param noise the sample's stream; its first d values are x_T unless xT is given (then they are skipped)
   */
  static Trajectory run(Case c, int d, double[] xT, GaussianNoise noise, int label, double[] cond) {
    double[] abar = alphasCumprod(c);
    int[] ts = timesteps(c);
    float[] first = noise.fill(new float[d]);
    double[] x = new double[d];
    for (int e = 0; e < d; e++) x[e] = xT != null ? xT[e] : first[e];
    Trajectory tr = new Trajectory();
    for (int si = 0; si < ts.length; si++) {
      int t = ts[si];
      double[] m = new double[d];
      for (int e = 0; e < d; e++) m[e] = AnalyticDenoiser.f(x[e], t, e, label, cond == null ? 0 : cond[e]);
      double aT = abar[t];
      double x0[] = new double[d];
      double eps[] = new double[d];
      for (int e = 0; e < d; e++) {
        switch (c.prediction) {
          case "epsilon":
            eps[e] = m[e];
            x0[e] = (x[e] - Math.sqrt(1 - aT) * eps[e]) / Math.sqrt(aT);
            break;
          case "sample":
            x0[e] = m[e];
            eps[e] = (x[e] - Math.sqrt(aT) * x0[e]) / Math.sqrt(1 - aT);
            break;
          case "v_prediction":
            x0[e] = Math.sqrt(aT) * x[e] - Math.sqrt(1 - aT) * m[e];
            eps[e] = Math.sqrt(aT) * m[e] + Math.sqrt(1 - aT) * x[e];
            break;
          default:
            throw new IllegalArgumentException(c.prediction);
        }
      }
      if (c.thresholding) {
        double[] abs = new double[d];
        for (int e = 0; e < d; e++) abs[e] = Math.abs(x0[e]);
        Arrays.sort(abs);
        double rank = c.ratio * (d - 1);
        int lo = (int) Math.floor(rank);
        int hi = (int) Math.ceil(rank);
        double q = abs[lo] + (rank - lo) * (abs[hi] - abs[lo]);
        double s = Math.min(Math.max(q, 1), c.maxValue);
        for (int e = 0; e < d; e++) x0[e] = Math.min(Math.max(x0[e], -s), s) / s;
      } else if (c.clip) {
        for (int e = 0; e < d; e++) x0[e] = Math.min(Math.max(x0[e], -c.clipRange), c.clipRange);
      }
      tr.xt.add(x.clone());
      tr.x0.add(x0);
      tr.eps.add(eps);

      double[] next = new double[d];
      if (c.kind.equals("ddpm")) {
        int prevT = si + 1 < ts.length ? ts[si + 1] : -1;
        double aP = prevT >= 0 ? abar[prevT] : 1;
        double alpha = aT / aP;
        double beta = 1 - alpha;
        for (int e = 0; e < d; e++) {
          next[e] = Math.sqrt(aP) * beta / (1 - aT) * x0[e] + Math.sqrt(alpha) * (1 - aP) / (1 - aT) * x[e];
        }
        if (t > 0) {
          double var = c.variance.equals("fixed_large") ? beta : Math.max((1 - aP) / (1 - aT) * beta, 1e-20);
          float[] z = noise.fill(new float[d]);
          for (int e = 0; e < d; e++) next[e] += Math.sqrt(var) * z[e];
        }
      } else {
        int prevT = t - c.numTrain / c.steps;
        double aP = prevT >= 0 ? abar[prevT] : (c.alphaToOne ? 1 : abar[0]);
        double sigma = c.eta * Math.sqrt((1 - aP) / (1 - aT) * (1 - aT / aP));
        for (int e = 0; e < d; e++) {
          next[e] = Math.sqrt(aP) * x0[e] + Math.sqrt(Math.max(1 - aP - sigma * sigma, 0)) * eps[e];
        }
        if (c.eta > 0) {
          float[] z = noise.fill(new float[d]);
          for (int e = 0; e < d; e++) next[e] += sigma * z[e];
        }
      }
      x = next;
    }
    tr.last = x;
    return tr;
  }
}
