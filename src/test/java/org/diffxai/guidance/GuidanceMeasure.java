package org.diffxai.guidance;

import java.util.Arrays;
import java.util.List;
import org.diffxai.core.Confidence;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.ImageMetrics;
import org.diffxai.core.Progress;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.phantom.PhantomGenerator;

/**
 * Measures guided synthesis and counterfactuals on the sample denoiser with the test classifier {@link RegionLogistic}
 * (not a unit test; run with {@code java -cp ... org.diffxai.guidance.GuidanceMeasure n scale closeness depth steps}).
 */
public final class GuidanceMeasure {
  public static void main(String[] a) {
    int n = Integer.parseInt(a[0]);
    double scale = Double.parseDouble(a[1]);
    double closeness = Double.parseDouble(a[2]);
    double depth = Double.parseDouble(a[3]);
    int steps = Integer.parseInt(a[4]);
    RegionLogistic c = GuidedSamplerTest.trained();
    System.out.printf("classifier accuracy on 2x40 unseen phantoms: %.3f%n", c.accuracy(11, 200, 40));
    try (LoadedModel<Denoiser> m = Models.denoiser("sample", DeviceChoice.parse("cpu"), null, false, Progress.NONE)) {
      PhantomGenerator g = new PhantomGenerator(64);
      double[] pairL1 = new double[n];
      for (int i = 0; i < n; i++) {
        pairL1[i] = l1(g.generate(500, i, false).pixels, g.generate(500, i + 1, true).pixels);
      }
      System.out.printf("median L1 (mean |diff| per pixel) between two different unseen phantoms: %.4f%n",
          median(pairL1));
      for (int target : new int[] {0, 1}) {
        float[][] in = new float[n][];
        for (int i = 0; i < n; i++) in[i] = g.generate(500, i, target == 0).pixels;
        int[] labels = new int[n];
        Arrays.fill(labels, target);
        for (double s : new double[] {0, scale}) {
          long t0 = System.nanoTime();
          List<GuidedSampler.Trace> cf = new GuidedSampler(m.get(), DiffusionScheduler.create("ddim", m.scheduler(),
              0), c, m.intensity()).target(Kind.LOG_PROBABILITY, target, target).scale(s).closeness(closeness)
              .steps(steps).seed(1).labels(labels).batchSize(n).stopOnFlip(true).counterfactual(in, depth,
                  Progress.NONE);
          double sec = (System.nanoTime() - t0) / 1e9;
          int flipped = 0;
          double[] l1 = new double[n], ssim = new double[n], used = new double[n];
          int origRight = 0;
          for (int i = 0; i < n; i++) {
            GuidedSampler.Trace t = cf.get(i);
            if (t.flipStep >= 0) flipped++;
            if (GuidedSampler.argmax(Confidence.softmax(c.logits(in[i], 1)[0], 1)) != target) origRight++;
            l1[i] = l1(t.image, in[i]);
            ssim[i] = ImageMetrics.ssim(t.image, in[i], 64, 64, 1.0);
            used[i] = t.stepsUsed();
          }
          System.out.printf("counterfactual -> %s scale %.1f closeness %.3f depth %.2f steps %d: inputs classified"
              + " as source %d/%d, flipped %d/%d, median L1 %.4f, median SSIM %.3f, median steps %.0f, %.1f s%n",
              c.classNames().get(target), s, closeness, depth, steps, origRight, n, flipped, n, median(l1),
              median(ssim), median(used), sec);
        }
        double[] p = new double[2];
        int k = 0;
        for (double s : new double[] {0, scale}) {
          List<GuidedSampler.Trace> syn = new GuidedSampler(m.get(), DiffusionScheduler.create("ddim", m.scheduler(),
              0), c, m.intensity()).target(Kind.LOG_PROBABILITY, target, target).scale(s).steps(steps).seed(3)
              .labels(labels).batchSize(n).synthesize(n, Progress.NONE);
          for (GuidedSampler.Trace t : syn) {
            p[k] += Confidence.softmax(c.logits(t.image, 1)[0], 1)[target] / n;
          }
          k++;
        }
        System.out.printf("synthesis label %s, %d samples, steps %d: mean p(%s) unguided %.3f, guided (scale %.1f)"
            + " %.3f%n", c.classNames().get(target), n, steps, c.classNames().get(target), p[0], scale, p[1]);
      }
    }
  }

  public static double l1(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
    return s / a.length;
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
