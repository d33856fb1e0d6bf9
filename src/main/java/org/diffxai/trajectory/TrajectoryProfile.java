package org.diffxai.trajectory;

import java.util.List;
import org.diffxai.core.Chart;
import org.diffxai.core.ImageMetrics;
import org.diffxai.core.KeptStep;
import org.diffxai.core.Progress;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.io.Planes;

/**
 * How an image forms along a denoising trajectory, as numbers: one row per kept step with the step, t, ᾱ_t, σ_t, the
 * mean and standard deviation of x_t, the mean |ε̂|, PSNR and SSIM of x̂₀ against the final sample, and how much x̂₀
 * changed since the previous kept step; and a plot of the bounded ones against the timestep.
 *
 * <p>The final sample is x̂₀ of the last kept step (always the last step): with ᾱ_prev = 1 at the end (diffusers'
 * {@code set_alpha_to_one}, the default) the sampler's output equals it. PSNR and SSIM ({@link ImageMetrics}, Wang et
 * al. 2004) use the final sample's range (max − min) as data range, per sample and model channel; SSIM needs images of
 * at least 11×11 pixels (else NaN). Statistics are pooled over the chosen samples and model channels; PSNR, SSIM are
 * averaged over them; x̂₀ change is the root-mean-square difference to the previous kept step (NaN in the first row).
 * x_t and x̂₀ are in image units, ε̂ in model units; the x_t and ε̂ columns appear only when the trajectory holds those
 * channels.
 */
public final class TrajectoryProfile {

  public static final String[] COLUMNS = {"step", "t", "alpha_cumprod", "sigma", "xt_mean", "xt_sd",
      "eps_abs_mean", "x0_psnr", "x0_ssim", "x0_change"};

  private TrajectoryProfile() {}

  /**
   * The profile of the trajectory {@code imp} (described by {@code tr}).
   *
   * @param sample 1-based sample, or 0 for all samples together
   * @throws UserException if {@code sample} is out of range or the trajectory has no x0_pred channel
   */
  public static Table compute(Planes imp, Trajectory tr, int sample, Progress progress) {
    if (sample < 0 || sample > tr.samples()) {
      throw new UserException("sample=" + sample + " is out of range: the trajectory has " + tr.samples()
          + " sample(s). Use 1 to " + tr.samples() + ", or 0 for all.");
    }
    int x0 = tr.channel(Trajectory.X0_PRED, 0), xt = tr.channel(Trajectory.X_T, 0);
    int eps = tr.channel(Trajectory.EPS_PRED, 0);
    if (x0 < 0) {
      throw new UserException("\"" + imp.name() + "\" has no x0_pred channel, which the profile compares with "
          + "the final sample. Use a trajectory as Synthesize writes it.");
    }
    int first = sample == 0 ? 0 : sample - 1, last = sample == 0 ? tr.samples() - 1 : sample - 1;
    int c = tr.modelChannels(), w = tr.width(), h = tr.height();
    List<KeptStep> steps = tr.steps();
    int kLast = steps.size() - 1;
    int n = last - first + 1;
    float[][] reference = new float[n * c][], previous = new float[n * c][];
    double[] range = new double[n * c];
    for (int s = first; s <= last; s++) {
      for (int ch = 0; ch < c; ch++) {
        float[] ref = pixels(imp, tr.planeIndex(x0 + ch, s, kLast));
        reference[(s - first) * c + ch] = ref;
        range[(s - first) * c + ch] = range(ref);
      }
    }
    Table rt = new Table();
    for (int k = 0; k <= kLast; k++) {
      progress.checkCancelled();
      progress.report("Profile of kept step " + (k + 1) + "/" + steps.size(), k / (double) steps.size());
      Pooled xtStats = new Pooled(), epsAbs = new Pooled(), change = new Pooled();
      double psnr = 0, ssim = 0;
      for (int s = first; s <= last; s++) {
        for (int ch = 0; ch < c; ch++) {
          int i = (s - first) * c + ch;
          if (xt >= 0) xtStats.add(pixels(imp, tr.planeIndex(xt + ch, s, k)), false);
          if (eps >= 0) epsAbs.add(pixels(imp, tr.planeIndex(eps + ch, s, k)), true);
          float[] p = pixels(imp, tr.planeIndex(x0 + ch, s, k));
          boolean ranged = range[i] > 0;
          psnr += ranged ? ImageMetrics.psnr(p, reference[i], range[i]) : Double.NaN;
          ssim += ranged && w >= ImageMetrics.SSIM_WINDOW && h >= ImageMetrics.SSIM_WINDOW
              ? ImageMetrics.ssim(p, reference[i], w, h, range[i]) : Double.NaN;
          if (previous[i] != null) change.addDifference(p, previous[i]);
          previous[i] = p;
        }
      }
      KeptStep st = steps.get(k);
      rt.incrementCounter();
      rt.addValue("step", st.stepIndex + 1);
      rt.addValue("t", st.timestep);
      rt.addValue("alpha_cumprod", st.alphaCumprod);
      rt.addValue("sigma", Trajectory.sigma(st.alphaCumprod));
      if (xt >= 0) {
        rt.addValue("xt_mean", xtStats.mean());
        rt.addValue("xt_sd", xtStats.sd());
      }
      if (eps >= 0) rt.addValue("eps_abs_mean", epsAbs.mean());
      rt.addValue("x0_psnr", psnr / (n * c));
      rt.addValue("x0_ssim", ssim / (n * c));
      rt.addValue("x0_change", Math.sqrt(change.meanOfSquares()));
    }
    for (String col : new String[] {"alpha_cumprod", "sigma", "x0_ssim"}) {
      rt.setDecimalPlaces(col, 6);
    }
    progress.report("Profiled " + steps.size() + " kept steps", 1);
    return rt;
  }

  /**
   * The bounded metrics against the timestep t (axis from high t on the left to 0 on the right, the order of
   * sampling): SSIM of x̂₀ against the final sample, ᾱ_t, and the x̂₀ change divided by its largest value.
   */
  public static Chart chart(Table rt, String title) {
    int n = rt.size();
    double[] t = column(rt, "t"), ssim = column(rt, "x0_ssim"), alpha = column(rt, "alpha_cumprod");
    double[] change = column(rt, "x0_change");
    double max = 0;
    for (double v : change) if (Double.isFinite(v)) max = Math.max(max, v);
    for (int i = 0; i < n; i++) change[i] = max > 0 ? change[i] / max : Double.NaN;
    Chart c = new Chart(title, "timestep t", "value")
        .add("SSIM of x0_pred vs final sample", t, ssim, Chart.Style.CONNECTED_CIRCLES, 0x000000)
        .add("alpha_cumprod", t, alpha, Chart.Style.LINE, 0x005ac8)
        .add("x0_pred change / max", t, change, Chart.Style.CONNECTED_CIRCLES, 0xc82828);
    double lo = t[n - 1], hi = t[0];
    if (hi > lo) c.limits(hi + 0.02 * (hi - lo), lo - 0.02 * (hi - lo), 0, 1.05);
    return c;
  }

  private static double[] column(Table t, String col) {
    double[] v = new double[t.size()];
    for (int i = 0; i < v.length; i++) v[i] = t.getValue(col, i);
    return v;
  }

  private static float[] pixels(Planes image, int planeIndex) {
    return image.plane(planeIndex);
  }

  private static double range(float[] v) {
    double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    for (float f : v) {
      if (Float.isFinite(f)) {
        min = Math.min(min, f);
        max = Math.max(max, f);
      }
    }
    return max > min ? max - min : 0;
  }

  /** Running sums for pooled statistics. */
  private static final class Pooled {
    double sum, sum2;
    long count;

    void add(float[] v, boolean abs) {
      for (float f : v) {
        double d = abs ? Math.abs(f) : f;
        sum += d;
        sum2 += d * d;
      }
      count += v.length;
    }

    void addDifference(float[] a, float[] b) {
      for (int i = 0; i < a.length; i++) {
        double d = (double) a[i] - b[i];
        sum2 += d * d;
      }
      count += a.length;
    }

    double mean() {
      return count == 0 ? Double.NaN : sum / count;
    }

    double sd() {
      if (count < 2) return Double.NaN;
      double m = sum / count;
      return Math.sqrt(Math.max(0, (sum2 - count * m * m) / (count - 1)));
    }

    double meanOfSquares() {
      return count == 0 ? Double.NaN : sum2 / count;
    }
  }
}
