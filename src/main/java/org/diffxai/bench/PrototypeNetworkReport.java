package org.diffxai.bench;

import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import org.diffxai.core.Calibration;
import org.diffxai.core.DdimScheduler;
import org.diffxai.core.DiffusionSampler;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.NoiseSchedule;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.Seeds;
import org.diffxai.metrics.Baseline;
import org.diffxai.metrics.PrototypeQuality;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.DjlDenoiser;
import org.diffxai.phantom.Contrast;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomSet;
import org.diffxai.phantom.Shortcut;
import org.diffxai.phantom.Tissue;

/**
 * The numbers README "Sample prototype networks" reports for 64×64 two-class (healthy, lesion) prototype networks, in
 * one run: accuracy, calibration and OOD flags on unseen phantoms; accuracy under the perturbations that tell texture
 * from content (Gaussian noise, an intensity offset, a brighter noisy background, blur); prototype quality
 * ({@link PrototypeQuality}); pure-noise images and x̂₀ of pure noise at t = 957; and class consistency on a
 * denoiser's samples, with the label effect of the denoiser itself (same seed, other label).
 *
 * <pre>
 * java -cp target/diffusion-xai.jar org.diffxai.bench.PrototypeNetworkReport [models=sample-ppnet,sample-eppnet,
 *     sample-protopool] [denoiser=sample] [samples=32] [seed=1] [shortcut=none|mark]
 * </pre>
 *
 * Unseen phantoms: seed 777, 100 per class (never used in training; the sample networks were trained on seed 2000),
 * with {@code shortcut=mark} the planted-shortcut variant (a mark in the top-left corner of 80 % of lesion slices).
 * Foreground for box placement: the phantoms' anatomy (every tissue label but background and shortcut).
 */
public final class PrototypeNetworkReport {
  static final int SIZE = 64;
  static final int PX = SIZE * SIZE;
  static final int PER_CLASS = 100;

  private PrototypeNetworkReport() {}

  public static void main(String[] args) throws IOException {
    String models = "sample-ppnet,sample-eppnet,sample-protopool";
    String denoiser = "sample";
    int samples = 32;
    long seed = 1;
    String shortcut = "none";
    for (String a : args) {
      String[] kv = a.split("=", 2);
      if (kv.length != 2) throw new IllegalArgumentException("expected key=value, got " + a);
      switch (kv[0]) {
        case "models":
          models = kv[1];
          break;
        case "denoiser":
          denoiser = kv[1];
          break;
        case "samples":
          samples = Integer.parseInt(kv[1]);
          break;
        case "seed":
          seed = Long.parseLong(kv[1]);
          break;
        case "shortcut":
          shortcut = kv[1];
          break;
        default:
          throw new IllegalArgumentException("unknown option " + a);
      }
    }
    Phantoms clean = phantoms("none");
    Phantoms marked = shortcut.equals("none") ? null : phantoms(shortcut);
    float[] noise = Seeds.gaussian(seed, "report.noise", 0).fill(new float[samples * PX]);
    float[][] generated = denoiser.isEmpty() ? null : samples(denoiser, samples, seed);
    float[] x0 = denoiser.isEmpty() ? null : x0Hat(denoiser, samples, seed);
    if (generated != null) {
      double same = 0;
      double other = 0;
      for (int i = 0; i < samples; i++) {
        for (int j = 0; j < PX; j++) {
          same += Math.abs(generated[0][i * PX + j] - generated[1][i * PX + j]) / ((double) samples * PX);
          if (i + 1 < samples) {
            other += Math.abs(generated[0][i * PX + j] - generated[0][(i + 1) * PX + j])
                / ((double) (samples - 1) * PX);
          }
        }
      }
      System.out.printf(Locale.ROOT, "denoiser %s: mean |difference| of samples with the same seed and the other "
          + "label %.4f; of samples with the next seed and the same label %.4f%n", denoiser, same, other);
    }
    for (String m : models.split(",")) {
      ClassifierBundle b = ClassifierBundle.open(m.trim());
      try (PrototypeClassifier c = ClassifierModels.loadPrototypes(b, "cpu")) {
        System.out.println("== " + b.name() + " (" + c.method() + "), " + c.confidence());
        report(c, clean, marked, noise, generated, x0, samples, seed);
      }
    }
  }

  /** Unseen phantoms with labels, lesion masks and anatomy. */
  static final class Phantoms {
    final float[] x = new float[2 * PER_CLASS * PX];
    final int[] labels = new int[2 * PER_CLASS];
    final float[][] lesion = new float[2 * PER_CLASS][];
    final boolean[][] anatomy = new boolean[2 * PER_CLASS][];
  }

  static Phantoms phantoms(String shortcut) {
    PhantomSet set = new PhantomSet(PER_CLASS, SIZE, 777, Arrays.asList(false, true), Contrast.T1,
        Shortcut.parse(shortcut, "lesion", 0.8, "top-left"));
    Phantoms p = new Phantoms();
    for (int k = 0; k < set.total(); k++) {
      Phantom ph = set.generate(k);
      System.arraycopy(ph.pixels, 0, p.x, k * PX, PX);
      p.labels[k] = set.lesion(k) ? 1 : 0;
      p.lesion[k] = ph.lesionMask;
      p.anatomy[k] = new boolean[PX];
      for (int j = 0; j < PX; j++) {
        p.anatomy[k][j] = ph.tissue[j] != Tissue.BACKGROUND.code() && ph.tissue[j] != Tissue.SHORTCUT.code();
      }
    }
    return p;
  }

  private static void report(PrototypeClassifier c, Phantoms clean, Phantoms marked, float[] noise,
      float[][] generated, float[] x0, int samples, long seed) {
    int n = clean.labels.length;
    PrototypeActivations a = c.activations(clean.x, n);
    int flagged = 0;
    for (boolean f : a.ood) if (f) flagged++;
    System.out.printf(Locale.ROOT, "unseen phantoms: accuracy %.3f, healthy called lesion %d/%d, flagged ood %d/%d; "
        + "ECE (15 bins) %.4f at T = 1, %.4f at T = %.3f%n", accuracy(a.logits, clean.labels), wrong(a.logits,
        clean.labels, 0), PER_CLASS, flagged, n, Calibration.ece(a.logits, clean.labels, 1), Calibration.ece(a.logits,
        clean.labels, c.confidence().temperature()), c.confidence().temperature());
    float[] grain = clean.x.clone();
    GaussianNoise g = Seeds.gaussian(seed, "report.grain", 0);
    for (int i = 0; i < grain.length; i++) grain[i] += (float) (0.1 * g.nextGaussian());
    float[] offset = clean.x.clone();
    for (int i = 0; i < offset.length; i++) offset[i] += 0.1f;
    float[] background = clean.x.clone();
    GaussianNoise gb = Seeds.gaussian(seed, "report.background", 0);
    for (int i = 0; i < background.length; i++) {
      if (!clean.anatomy[i / PX][i % PX]) background[i] = (float) (0.2 + 0.06 * gb.nextGaussian());
    }
    float[] blurred = new float[clean.x.length];
    for (int i = 0; i < n; i++) {
      float[] b = Baseline.gaussianBlur(Arrays.copyOfRange(clean.x, i * PX, (i + 1) * PX), SIZE, SIZE, 1, 1.0);
      System.arraycopy(b, 0, blurred, i * PX, PX);
    }
    String[] names = {"Gaussian noise sd 0.1", "intensity +0.1", "background N(0.2, 0.06^2)", "blur sd 1 px"};
    float[][] variants = {grain, offset, background, blurred};
    for (int v = 0; v < names.length; v++) {
      float[][] lg = c.logits(variants[v], n);
      System.out.printf(Locale.ROOT, "  %-26s accuracy %.3f, healthy called lesion %d/%d%n", names[v] + ":",
          accuracy(lg, clean.labels), wrong(lg, clean.labels, 0), PER_CLASS);
    }
    PrototypeQuality.Distinctness d = PrototypeQuality.distinctness(c);
    PrototypeQuality.Purity pu = PrototypeQuality.purity(c, clean.x, n, clean.labels, clean.lesion, 10);
    PrototypeQuality.Stability st = PrototypeQuality.stability(c, clean.x, n, 3, PrototypeQuality.noiseSigma(clean.x,
        0.02), 3, seed);
    PrototypeQuality.Placement pl = PrototypeQuality.placement(c, clean.x, n, 3, clean.anatomy);
    System.out.printf(Locale.ROOT, "quality: %d of %d prototypes distinct (%d unused); purity (k = 10, lesion masks) "
        + "%.3f over %d prototypes; stability (sigma %.4f, 3 runs, top 3): top %.3f, location %.3f; top-3 boxes "
        + "outside the anatomy %.3f, on the border %.3f%n", d.distinct, d.prototypes, d.unused, pu.mean, pu.defined,
        st.sigma, st.topShare, st.locationShare, pl.outsideShare(), pl.borderShare());
    if (marked != null) {
      PrototypeActivations am = c.activations(marked.x, n);
      PrototypeQuality.Placement pm = PrototypeQuality.placement(c, marked.x, n, 3, marked.anatomy);
      System.out.printf(Locale.ROOT, "planted-shortcut phantoms: accuracy %.3f; top-3 boxes outside the anatomy "
          + "%.3f, on the border %.3f%n", accuracy(am.logits, marked.labels), pm.outsideShare(), pm.borderShare());
    }
    honest(c, "N(0, 1) noise", noise, samples);
    if (x0 != null) honest(c, "x0-hat of noise at t=957", x0, samples);
    if (generated != null) {
      float[][] l0 = c.logits(generated[0], samples);
      float[][] l1 = c.logits(generated[1], samples);
      int alike = 0;
      for (int i = 0; i < samples; i++) if (argmax(l0[i]) == argmax(l1[i])) alike++;
      int[] zeros = new int[samples];
      int[] ones = new int[samples];
      Arrays.fill(ones, 1);
      System.out.printf(Locale.ROOT, "denoiser samples: class consistency healthy %d/%d, lesion %d/%d; same-seed "
          + "pairs with both labels classified alike %d/%d%n", samples - wrong(l0, zeros, 0), samples,
          samples - wrong(l1, ones, 1), samples, alike, samples);
    }
  }

  private static void honest(PrototypeClassifier c, String what, float[] x, int n) {
    PrototypeActivations a = c.activations(x, n);
    int ood = 0;
    int ok = 0;
    double p = 0;
    for (int i = 0; i < n; i++) {
      double max = Arrays.stream(a.probabilities[i]).max().getAsDouble();
      p += max / n;
      if (a.ood[i]) ood++;
      if (a.ood[i] || max <= 0.7) ok++;
    }
    System.out.printf(Locale.ROOT, "%s: flagged ood %d/%d, mean calibrated max probability %.3f, flagged or at most "
        + "0.7: %d/%d%n", what, ood, n, p, ok, n);
  }

  static double accuracy(float[][] logits, int[] labels) {
    int ok = 0;
    for (int i = 0; i < labels.length; i++) if (argmax(logits[i]) == labels[i]) ok++;
    return ok / (double) labels.length;
  }

  /** Images of class {@code cls} not classified as it. */
  static int wrong(float[][] logits, int[] labels, int cls) {
    int w = 0;
    for (int i = 0; i < labels.length; i++) if (labels[i] == cls && argmax(logits[i]) != cls) w++;
    return w;
  }

  static int argmax(float[] v) {
    int best = 0;
    for (int k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
    return best;
  }

  /** n samples per label (DDIM, 50 steps, sample i of each label from noise stream (seed, i)), image intensity. */
  static float[][] samples(String denoiser, int n, long seed) throws IOException {
    DenoiserBundle b = DenoiserBundle.open(denoiser);
    float[][] out = new float[2][n * PX];
    try (DjlDenoiser d = DjlDenoiser.load(b, "cpu")) {
      for (int label = 0; label < 2; label++) {
        DiffusionSampler s = new DiffusionSampler(d, new DdimScheduler(SchedulerConfig.fromJson(
            b.schedulerConfigJson()))).steps(50).samples(n).seed(seed).label(label).batchSize(16);
        float[][] x = s.run(null, Progress.NONE);
        for (int i = 0; i < n; i++) System.arraycopy(b.intensity().toImage(x[i]), 0, out[label], i * PX, PX);
      }
    }
    return out;
  }

  /**
   * x̂₀ at t = 957 (ε-prediction: (x_t − √(1 − ᾱ_t)·ε̂)/√ᾱ_t) for x_t pure noise (stream "report.x0"), labels
   * alternating, image intensity: what Explain Trajectory shows at the first step of a 50-step DDIM run.
   */
  static float[] x0Hat(String denoiser, int n, long seed) {
    DenoiserBundle b = DenoiserBundle.open(denoiser);
    SchedulerConfig config = SchedulerConfig.fromJson(b.schedulerConfigJson());
    double abar = NoiseSchedule.of(config).alphaCumprod(957);
    double sa = Math.sqrt(abar);
    double sb = Math.sqrt(1 - abar);
    float[] x = Seeds.gaussian(seed, "report.x0", 0).fill(new float[n * PX]);
    float[] t = new float[n];
    Arrays.fill(t, 957);
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) labels[i] = i % 2;
    try (DjlDenoiser d = DjlDenoiser.load(b, "cpu")) {
      float[] m = d.predict(x, t, labels, null, n);
      float[] out = new float[x.length];
      // the model output as x0, by the bundle's prediction type (as core.AbstractScheduler.predict)
      for (int i = 0; i < x.length; i++) {
        switch (config.predictionType()) {
          case EPSILON:
            out[i] = (float) ((x[i] - sb * m[i]) / sa);
            break;
          case V_PREDICTION:
            out[i] = (float) (sa * x[i] - sb * m[i]);
            break;
          default:
            out[i] = m[i];
        }
      }
      return b.intensity().toImage(out);
    }
  }
}
