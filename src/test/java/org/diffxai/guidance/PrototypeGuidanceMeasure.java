package org.diffxai.guidance;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.Progress;
import org.diffxai.io.ImageFolder;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.run.Env;
import org.diffxai.run.GeneratePhantomsRun;
import org.diffxai.run.SynthesizeRun;

/**
 * Prototype-target guidance (issue 11 target: the prototype's score above its 95th percentile on real phantoms),
 * through the commands' own runs: Generate Phantoms writes the reference phantoms, Synthesize with
 * {@code guidance=sample-ppnet guidance_prototype=p} makes the guided samples and the same run at
 * {@code guidance_scale=0} the unguided ones (same seeds). Not a unit test; run with
 * {@code java -cp ... org.diffxai.guidance.PrototypeGuidanceMeasure work count samples steps scale seed p1,p2,...}.
 */
public final class PrototypeGuidanceMeasure {
  public static void main(String[] a) {
    Path work = Paths.get(a[0]);
    int count = Integer.parseInt(a[1]);
    int samples = Integer.parseInt(a[2]);
    int steps = Integer.parseInt(a[3]);
    double scale = Double.parseDouble(a[4]);
    long seed = Long.parseLong(a[5]);
    GeneratePhantomsRun.Request g = new GeneratePhantomsRun.Request();
    g.count = count;
    g.size = 64;
    g.seed = 777;
    g.ground_truth = "none";
    g.output = work.resolve("phantoms").toString();
    g.overwrite = true;
    GeneratePhantomsRun.run(g, Env.files(Progress.NONE));
    System.out.printf("Generate Phantoms count=%d size=64 seed=777 classes=healthy,lesion ground_truth=none%n", count);
    ImageFolder ref = ImageFolder.load(work.resolve("phantoms"), 64, true);
    DeviceChoice cpu = DeviceChoice.parse("cpu");
    try (LoadedModel<Denoiser> d = Models.denoiser("sample", cpu, null, false, Progress.NONE);
        LoadedModel<DifferentiableClassifier> c = Models.differentiableClassifier("sample-ppnet", cpu, 8, false,
            Progress.NONE)) {
      PrototypeClassifier pc = (PrototypeClassifier) c.get();
      int n = ref.count();
      float[] all = new float[n * 64 * 64];
      for (int i = 0; i < n; i++) System.arraycopy(ref.image(i), 0, all, i * 64 * 64, 64 * 64);
      String[] ps = a[6].split(",");
      System.out.println("| prototype | class | p95 on " + n + " phantoms | unguided mean (above p95) | guided mean"
          + " (above p95) | guided min | p(class) unguided → guided |");
      System.out.println("|---|---|---|---|---|---|---|");
      for (String s : ps) {
        int p = Integer.parseInt(s.trim());
        int cls = pc.prototype(p).classIndex;
        float[] refScores = score(c.get(), all, n, p);
        double p95 = percentile(refScores, 95);
        double[][] res = new double[2][];
        double[] pClass = new double[2];
        for (int k = 0; k < 2; k++) {
          SynthesizeRun.Request r = new SynthesizeRun.Request();
          r.model = "sample";
          r.samples = samples;
          r.steps = steps;
          r.seed = seed;
          r.batch = 8;
          r.device = "cpu";
          r.guidance = "sample-ppnet";
          r.guidance_class = c.classNames().get(cls);
          r.guidance_prototype = p;
          r.guidance_scale = k == 0 ? 0 : scale;
          SynthesizeRun.Result out = SynthesizeRun.run(r, d, c, Env.files(Progress.NONE));
          float[] v = score(c.get(), out.samples.toNHWC(), samples, p);
          res[k] = new double[v.length];
          for (int i = 0; i < v.length; i++) res[k][i] = v[i];
          String col = "p_" + c.classNames().get(cls) + "_calibrated";
          for (int i = 0; i < samples; i++) pClass[k] += out.table.getValue(col, i) / samples;
        }
        System.out.printf("| %d | %s | %.3f | %.3f (%d/%d) | %.3f (%d/%d) | %.3f | %.3f → %.3f |%n", p,
            c.classNames().get(cls), p95, mean(res[0]), above(res[0], p95), samples, mean(res[1]),
            above(res[1], p95), samples, Arrays.stream(res[1]).min().getAsDouble(), pClass[0], pClass[1]);
      }
    }
  }

  static float[] score(DifferentiableClassifier c, float[] x, int n, int p) {
    return c.gradient(x, n, Objective.of(Kind.PROTOTYPE_SCORE, p, n)).values;
  }

  static double percentile(float[] v, double q) {
    float[] s = v.clone();
    Arrays.sort(s);
    double pos = q / 100 * (s.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (pos - lo) * (s[hi] - s[lo]);
  }

  static double mean(double[] v) {
    return Arrays.stream(v).average().orElse(Double.NaN);
  }

  static int above(double[] v, double t) {
    int k = 0;
    for (double x : v) if (x > t) k++;
    return k;
  }
}
