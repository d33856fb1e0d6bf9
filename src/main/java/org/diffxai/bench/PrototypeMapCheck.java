package org.diffxai.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.diffxai.attribution.AttributionMethod;
import org.diffxai.attribution.AttributionResult;
import org.diffxai.attribution.AttributionSettings;
import org.diffxai.attribution.Attributions;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.core.Randomization;
import org.diffxai.core.ReferenceImage;
import org.diffxai.core.Seeds;
import org.diffxai.io.FloatStack;
import org.diffxai.metrics.Bootstrap;
import org.diffxai.metrics.FaithfulnessMetrics;
import org.diffxai.metrics.ModelRandomization;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.model.TensorFlowRuntime;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.run.Env;
import org.diffxai.run.SynthesizeRun;
import org.diffxai.tf.proto.RandomizedPrototypeNetwork;

/**
 * Which prototype map kind passes the checks of issue 10 (the measurement behind the default of {@code map=}): for each
 * prototype network, image set and {@link PrototypeMapKind}, the network's own map of every image
 * ({@link ModelRandomization#maps}: all prototypes, each image's predicted class, as Compare Explanation Methods scores
 * it) is scored by deletion AUC and faithfulness correlation ({@link FaithfulnessMetrics}, the commands' defaults)
 * against an i.i.d. normal random map, with percentile-bootstrap 95 % intervals of the means ({@link Bootstrap}, 2000
 * resamples); and the same kind of map of the fully re-initialised network ({@link RandomizedPrototypeNetwork},
 * {@code Stage.FULL}, Adebayo et al. 2018) is compared with it by Spearman's rank correlation per image. Verdicts:
 * beats random when the intervals do not overlap in the better direction; passes randomisation when |mean Spearman|
 * ≤ 0.2 (on the maps as scored, signed where the kind is signed; the Spearman of the absolute maps is shown beside,
 * as Adebayo et al. report both). Prints one Markdown table on standard output; progress on standard error.
 *
 * <pre>
 * java -cp target/diffusion-xai.jar org.diffxai.bench.PrototypeMapCheck [images=32] [sets=phantoms,samples]
 *     [models=sample-ppnet,sample-eppnet,sample-protopool] [maps=upsample,gradient,smoothgrad,ig] [seed=1]
 *     [baseline=blur] [steps=32] [samples=25] [noise=0.15]
 * </pre>
 *
 * After the table: the completeness gap of Integrated Gradients of each image's predicted logit (the same settings),
 * per model and image set. {@code maps=none} prints only that.
 *
 * Images: {@code phantoms} are T1 phantoms of seed 777 (never used in training; classes alternating, every image its
 * own anatomy), {@code samples} are DDIM-50 samples of the bundled denoiser (seed 1, classes alternating).
 */
public final class PrototypeMapCheck {
  /** Seed of the unseen phantoms (the README's unseen-phantom accuracy uses the same). */
  static final long PHANTOM_SEED = 777;
  static final double RANDOMIZATION_LIMIT = 0.2;

  private PrototypeMapCheck() {}

  public static void main(String[] args) throws IOException {
    int n = 32;
    List<String> sets = List.of("phantoms", "samples");
    List<String> models = List.of("sample-ppnet", "sample-eppnet", "sample-protopool");
    List<PrototypeMapKind> kinds = List.of(PrototypeMapKind.values());
    long seed = 1;
    AttributionSettings s = new AttributionSettings();
    for (String a : args) {
      String[] kv = a.split("=", 2);
      if (kv.length != 2) throw new IllegalArgumentException("options are key=value; got " + a);
      switch (kv[0]) {
        case "images":
          n = Integer.parseInt(kv[1]);
          break;
        case "sets":
          sets = Arrays.asList(kv[1].split(","));
          break;
        case "models":
          models = Arrays.asList(kv[1].split(","));
          break;
        case "maps":
          kinds = new ArrayList<>();
          if (!kv[1].equals("none")) for (String k : kv[1].split(",")) kinds.add(PrototypeMapKind.of(k));
          break;
        case "seed":
          seed = Long.parseLong(kv[1]);
          break;
        case "baseline":
          s.baseline = ReferenceImage.of(kv[1], "baseline");
          break;
        case "steps":
          s.steps = Integer.parseInt(kv[1]);
          break;
        case "samples":
          s.samples = Integer.parseInt(kv[1]);
          break;
        case "noise":
          s.noise = Double.parseDouble(kv[1]);
          break;
        default:
          throw new IllegalArgumentException("unknown option " + kv[0]);
      }
    }
    s.seed = seed;
    TensorFlowRuntime.ensureLoaded();
    System.out.println("| images | model | map | deletion (lower better) | deletion, random map | faithfulness corr."
        + " | faithfulness corr., random map | Spearman vs fully randomised | same, of \\|maps\\| | beats random"
        + " (both) | passes randomisation | map seconds |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
    long t0 = System.nanoTime();
    List<String> gaps = new ArrayList<>();
    for (String set : sets) {
      FloatStack images = images(set, n, seed);
      for (String key : models) {
        ClassifierBundle b = ClassifierBundle.open(key);
        try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(b, "cpu")) {
          for (String row : check(c, b, key, set, images, kinds, s, seed)) System.out.println(row);
          gaps.add(set + " / " + key + ": " + completeness(c, key, images, s));
        }
      }
    }
    System.out.println();
    System.out.println("Integrated Gradients of the predicted logit, completeness (mean over the images of |gap| and of"
        + " |f(x) − f(x′)|; gap = Σ attributions − (f(x) − f(x′))):");
    for (String g : gaps) System.out.println("- " + g);
    System.out.println();
    System.out.printf(Locale.ROOT, "Settings: %s; metrics: FaithfulnessMetrics defaults (baseline blur, runs 100, subset"
        + " and step = image width), target = predicted class, 95 %% percentile bootstrap of the mean (2000"
        + " resamples, seed %d). Run took %.0f s.%n", s.describe(64, 64), seed, (System.nanoTime() - t0) / 1e9);
  }

  /** The images of a set: unseen phantoms or samples of the bundled denoiser, n of them, classes alternating. */
  static FloatStack images(String set, int n, long seed) throws IOException {
    float[][] planes = new float[n][];
    switch (set) {
      case "phantoms": {
        PhantomGenerator g = new PhantomGenerator(64);
        for (int i = 0; i < n; i++) planes[i] = g.generate(PHANTOM_SEED, i, i % 2 == 1).pixels;
        return new FloatStack(64, 64, 1, n, 1, planes, null);
      }
      case "samples": {
        SynthesizeRun.Request r = new SynthesizeRun.Request();
        r.model = "sample";
        r.samples = n;
        r.steps = 50;
        r.seed = seed;
        r.device = "cpu";
        System.err.println("synthesizing " + n + " samples of the bundled denoiser");
        return SynthesizeRun.run(r, Env.files()).samples;
      }
      default:
        throw new IllegalArgumentException("unknown image set " + set + "; use phantoms or samples");
    }
  }

  /** The table rows of one model on one image set. */
  static List<String> check(PrototypeClassifier c, ClassifierBundle b, String key, String set, FloatStack images,
      List<PrototypeMapKind> kinds, AttributionSettings s, long seed) {
    int n = images.planeCount(), hw = c.height() * c.width();
    float[] all = images.toNHWC();
    float[][] logits = c.logits(all, n);
    int[] target = new int[n];
    for (int i = 0; i < n; i++) for (int k = 1; k < logits[i].length; k++) if (logits[i][k] > logits[i][target[i]]) {
      target[i] = k;
    }
    FaithfulnessMetrics fm = new FaithfulnessMetrics(c, new FaithfulnessMetrics.Settings(), null);
    double[] rDel = new double[n], rFc = new double[n];
    for (int i = 0; i < n; i++) {
      float[] random = Seeds.gaussian(seed, "random_map", i).fill(new float[hw]);
      float[] x = images.plane(i);
      rDel[i] = fm.deletion(x, random, target[i]).value;
      rFc[i] = fm.faithfulnessCorrelation(x, random, target[i], GaussianNoise.streamSeed(seed, i)).value;
    }
    Bootstrap.Interval rd = ci(rDel, seed), rf = ci(rFc, seed);
    List<String> rows = new ArrayList<>();
    for (PrototypeMapKind kind : kinds) {
      System.err.println(set + " / " + key + " / " + kind.key());
      long t0 = System.nanoTime();
      float[][] own = ModelRandomization.maps(c, key, images, target, kind, s, Progress.NONE);
      double seconds = (System.nanoTime() - t0) / 1e9;
      double[] rho = new double[n], rhoAbs = new double[n];
      try (RandomizedPrototypeNetwork r = RandomizedPrototypeNetwork.of(b, Randomization.FULL, seed, false)) {
        float[][] other = ModelRandomization.maps(r, key + " (randomised)", images, target, kind, s, Progress.NONE);
        for (int i = 0; i < n; i++) {
          rho[i] = ModelRandomization.spearman(own[i], other[i]);
          rhoAbs[i] = ModelRandomization.spearman(abs(own[i]), abs(other[i]));
        }
      }
      double[] del = new double[n], fc = new double[n];
      for (int i = 0; i < n; i++) {
        del[i] = fm.deletion(images.plane(i), own[i], target[i]).value;
        fc[i] = fm.faithfulnessCorrelation(images.plane(i), own[i], target[i], GaussianNoise.streamSeed(seed, i))
            .value;
      }
      Bootstrap.Interval d = ci(del, seed), f = ci(fc, seed), sp = ci(rho, seed), spAbs = ci(rhoAbs, seed);
      boolean beats = d != null && f != null && rd != null && rf != null && d.high < rd.low && f.low > rf.high;
      boolean passes = Math.abs(sp.mean) <= RANDOMIZATION_LIMIT;
      rows.add(String.format(Locale.ROOT, "| %s (n=%d) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f |", set,
          n, key, kind.key(), text(d), text(rd), text(f), text(rf), text(sp), text(spAbs), beats ? "yes" : "no",
          passes ? "yes" : "no", seconds));
    }
    return rows;
  }

  /** Mean |completeness gap| and mean |f(x) − f(x′)| of Integrated Gradients of each image's predicted logit. */
  static String completeness(DjlPrototypeClassifier c, String key, FloatStack images, AttributionSettings s) {
    int n = images.planeCount();
    float[] x = images.toNHWC();
    float[][] logits = c.logits(x, n);
    int[] target = new int[n];
    for (int i = 0; i < n; i++) target[i] = logits[i][1] > logits[i][0] ? 1 : 0;
    AttributionResult r = Attributions.compute(AttributionMethod.INTEGRATED_GRADIENTS, c, key, x, n,
        new Objective(Kind.LOGIT, target), s, Progress.NONE);
    double gap = 0, diff = 0;
    for (int i = 0; i < n; i++) {
      gap += Math.abs(r.numbers.get("completeness_gap")[i]) / n;
      diff += Math.abs(r.values[i] - r.numbers.get("baseline_value")[i]) / n;
    }
    return String.format(Locale.ROOT, "mean |gap| %.4f, mean |f(x) − f(x′)| %.3f (%d steps, %s rule, %s reference)",
        gap, diff, s.steps, s.rule.key(), s.baseline.key());
  }

  private static float[] abs(float[] v) {
    float[] a = new float[v.length];
    for (int i = 0; i < v.length; i++) a[i] = Math.abs(v[i]);
    return a;
  }

  /** The mean of the finite values with its 95 % interval. */
  static Bootstrap.Interval ci(double[] v, long seed) {
    double[] f = Arrays.stream(v).filter(Double::isFinite).toArray();
    return f.length == 0 ? null : Bootstrap.meanCi(f, 2000, 0.95, seed);
  }

  static String text(Bootstrap.Interval c) {
    return c == null ? "undefined" : String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", c.mean, c.low, c.high);
  }
}
