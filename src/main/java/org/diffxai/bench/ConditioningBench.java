package org.diffxai.bench;

import java.util.Locale;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.Progress;
import org.diffxai.guidance.ConditioningOptimizer;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.tf.RebuiltDenoiser;

/**
 * Optimise Conditioning measured: for each class of a denoiser, the classifier's target-class probability of the
 * images of the learned embedding and of the optimised one (same seeds), the objective per iteration, the distance
 * moved (absolute and relative to the distance between the learned class embeddings) and the time per iteration.
 *
 * <pre>
 *   java -cp ... org.diffxai.bench.ConditioningBench [denoiser=sample] [classifier=sample-ppnet] [steps=10]
 *       [iterations=10] [samples=4] [lambda=0.01] [learning_rate=0.05] [seed=0]
 * </pre>
 */
public final class ConditioningBench {
  private ConditioningBench() {}

  private static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  public static void main(String[] args) {
    String denoiser = "sample", classifier = "sample-ppnet";
    int steps = 10, iterations = 10, samples = 4;
    double lambda = 0.01, lr = 0.05;
    long seed = 0;
    for (String a : args) {
      String k = a.substring(0, a.indexOf('=')), v = a.substring(a.indexOf('=') + 1);
      switch (k) {
        case "denoiser": denoiser = v; break;
        case "classifier": classifier = v; break;
        case "steps": steps = Integer.parseInt(v); break;
        case "iterations": iterations = Integer.parseInt(v); break;
        case "samples": samples = Integer.parseInt(v); break;
        case "lambda": lambda = Double.parseDouble(v); break;
        case "learning_rate": lr = Double.parseDouble(v); break;
        case "seed": seed = Long.parseLong(v); break;
        default: throw new IllegalArgumentException("unknown key " + k);
      }
    }
    DenoiserBundle b = Models.denoiserBundle(denoiser);
    System.out.printf(Locale.ROOT, "denoiser %s (%s), classifier %s, %d DDIM steps, %d iterations, %d samples,"
        + " lambda %s, learning rate %s, seed %d%n", b.name(), b.directory(), classifier, steps, iterations, samples,
        lambda, lr, seed);
    try (LoadedModel<DifferentiableClassifier> c = Models.differentiableClassifier(classifier,
        DeviceChoice.parse("cpu"), samples, false, Progress.NONE);
        RebuiltDenoiser g = RebuiltDenoiser.open(b, steps, false)) {
      for (int target = 0; target < c.classNames().size(); target++) {
        String name = c.classNames().get(target);
        int label = b.classNames().indexOf(name);
        ConditioningOptimizer.Result r = new ConditioningOptimizer(g, c.get(), b.intensity()).target(target)
            .label(label).lambda(lambda).learningRate(lr).iterations(iterations).samples(samples).seed(seed)
            .run(Progress.NONE);
        System.out.printf(Locale.ROOT, "%n[%s] class-embedding distance to the nearest other class %.4f%n", name,
            r.classDistance);
        System.out.println("iteration,objective,log_p,p_target,penalty,distance,relative_distance,seconds");
        double[] sec = new double[iterations];
        for (ConditioningOptimizer.Step s : r.steps) {
          System.out.printf(Locale.ROOT, "%d,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.2f%n", s.iteration, s.objective,
              s.logProbability, s.probability, s.penalty, s.distance, s.distance / r.classDistance, s.seconds);
          if (s.iteration < iterations) sec[s.iteration] = s.seconds;
        }
        StringBuilder pl = new StringBuilder(), po = new StringBuilder();
        for (int i = 0; i < samples; i++) {
          pl.append(String.format(Locale.ROOT, " %.3f", r.firstProbability[i]));
          po.append(String.format(Locale.ROOT, " %.3f", r.optimisedProbability[i]));
        }
        System.out.printf(Locale.ROOT, "[%s] best iteration %d: J %.5f (learned %.5f)%n", name, r.best,
            r.bestStep().objective, r.first().objective);
        System.out.printf(Locale.ROOT, "[%s] p(%s) learned mean %.4f [%s ], optimised mean %.4f [%s ]; distance %.4f"
            + " (%.3f of the class distance); median %.2f s per iteration (iteration 0, with the session's set-up:"
            + " %.2f s)%n", name, name, r.first().probability, pl, r.bestStep().probability, po, r.bestStep().distance,
            r.relativeDistance(), median(sec), sec[0]);
      }
    }
  }
}
