package org.diffxai.run;

import java.util.ArrayList;
import java.util.List;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.Progress;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.guidance.GuidedSampler;

/**
 * Do guided images and counterfactuals made with one classifier convince other classifiers? (Not a unit test.) The
 * guiding network scores its own guided images; whether the images show the class or only what that network reads
 * as the class needs networks that did not guide: the other sample networks (other architectures, same training
 * phantoms) and an independent plain CNN trained on other phantoms (bench {@code PhantomCnn}).
 *
 * <p>Runs Synthesize Explanation (both targets, unguided and guided at the same seeds) and Counterfactual (unseen
 * phantoms, generator seed 500, both directions) through the commands' runs with the guiding network, then reports, per
 * scoring network, the mean probability of the target class and the share of images it classifies as the target.
 * {@code java -cp ... org.diffxai.run.GuidanceCrossCheck guide n scale cfScale depth steps scorer1,scorer2,... [cf]}
 * ({@code cf}: counterfactuals only)
 */
public final class GuidanceCrossCheck {
  public static void main(String[] a) {
    String guide = a[0];
    int n = Integer.parseInt(a[1]);
    double scale = Double.parseDouble(a[2]);
    double cfScale = Double.parseDouble(a[3]);
    double depth = Double.parseDouble(a[4]);
    int steps = Integer.parseInt(a[5]);
    String[] scorerKeys = a[6].split(",");
    boolean counterfactualsOnly = a.length > 7 && a[7].equals("cf");
    DeviceChoice cpu = DeviceChoice.parse("cpu");
    List<LoadedModel<Classifier>> scorers = new ArrayList<>();
    try (LoadedModel<Denoiser> d = Models.denoiser("sample", cpu, null, false, Progress.NONE);
        LoadedModel<DifferentiableClassifier> c = Models.differentiableClassifier(guide, cpu, 8, false,
            Progress.NONE)) {
      for (String k : scorerKeys) scorers.add(Models.classifier(k.trim(), cpu, 8, false, Progress.NONE));
      List<String> classes = c.classNames();
      System.out.printf("guiding network %s; Synthesize Explanation scale %s, %d samples per target, DDIM %d, seed 1;"
          + " Counterfactual scale %s depth %s closeness 0.05 steps %d seed 0 on %d unseen phantoms per direction%n",
          guide, scale, n, steps, cfScale, depth, steps, n);
      System.out.println("| images | target | scored by | mean p(target) | classified as target |");
      System.out.println("|---|---|---|---|---|");
      for (int target = 0; target < classes.size(); target++) {
        SynthesizeExplanationRun.Request r = new SynthesizeExplanationRun.Request();
        r.model = guide;
        r.target = classes.get(target);
        r.scale = scale;
        r.samples = n;
        r.steps = steps;
        r.seed = 1;
        r.device = "cpu";
        float[][] unguided = new float[0][], guided = new float[0][];
        if (!counterfactualsOnly) {
          SynthesizeExplanationRun.Result se = SynthesizeExplanationRun.run(r, d, c, Env.files(Progress.NONE));
          unguided = images(se.unguided);
          guided = images(se.guided);
        }
        PhantomGenerator g = new PhantomGenerator(64);
        float[][] in = new float[n][];
        for (int i = 0; i < n; i++) in[i] = g.generate(500, i, target == 0).pixels;
        int[] targets = new int[n];
        java.util.Arrays.fill(targets, target);
        GuidedSampler.Trace[] cf = CounterfactualRun.counterfactuals(d, c.get(), classes, in, targets, depth,
            cfScale, 0.05, steps, 0, 8, null, Progress.NONE);
        float[][] cfImages = new float[n][];
        for (int i = 0; i < n; i++) cfImages[i] = cf[i].image;
        List<String> names = new ArrayList<>();
        names.add(guide + " (guide)");
        for (LoadedModel<Classifier> s : scorers) names.add(s.name());
        List<Classifier> all = new ArrayList<>();
        all.add(c.get());
        for (LoadedModel<Classifier> s : scorers) all.add(s.get());
        String[] what = {"unguided samples", "guided samples", "counterfactual inputs", "counterfactuals"};
        float[][][] sets = {unguided, guided, in, cfImages};
        double[] l1 = new double[n];
        for (int i = 0; i < n; i++) l1[i] = org.diffxai.guidance.GuidanceMeasure.l1(cfImages[i], in[i]);
        java.util.Arrays.sort(l1);
        System.out.printf("| counterfactuals | %s | median L1 to the input | %.4f | |%n", classes.get(target),
            (l1[(n - 1) / 2] + l1[n / 2]) / 2);
        for (int k = 0; k < sets.length; k++) {
          for (int m = 0; m < all.size() && sets[k].length > 0; m++) {
            double mean = 0;
            int hit = 0;
            for (float[] img : sets[k]) {
              double[] p = all.get(m).probabilities(img, 1)[0];
              mean += p[target] / n;
              if (GuidedSampler.argmax(p) == target) hit++;
            }
            System.out.printf("| %s | %s | %s | %.3f | %d/%d |%n", what[k], classes.get(target), names.get(m), mean,
                hit, n);
          }
        }
      }
    } finally {
      for (LoadedModel<Classifier> s : scorers) s.close();
    }
  }

  private static float[][] images(List<GuidedSampler.Trace> traces) {
    float[][] out = new float[traces.size()][];
    for (int i = 0; i < out.length; i++) out[i] = traces.get(i).image;
    return out;
  }
}
