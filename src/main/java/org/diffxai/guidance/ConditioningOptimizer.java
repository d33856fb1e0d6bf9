package org.diffxai.guidance;

import java.util.ArrayList;
import java.util.List;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.EmbeddingGenerator;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;

/**
 * Optimised conditioning, the analogue of DiffExplainer's optimised text conditioning (Pennisi et al. 2024) for a
 * class-conditional denoiser without a text encoder: the class embedding e of the denoiser is moved by gradient ascent
 * on
 *
 * <pre>
 *   J(e) = (1/n) Σ_i log p(c | x₀ᵢ(e)) − λ·‖e − e₀‖²
 * </pre>
 *
 * where x₀ᵢ(e) = G(e, x_Tᵢ) are n images generated from fixed initial noises by K deterministic DDIM steps
 * ({@link EmbeddingGenerator}), p the classifier's softmax, c the target class and e₀ the learned embedding of the
 * label the run starts from. The gradient is the chain rule across the two models: ∂J/∂x₀ from the classifier (in image
 * intensity, times the denoiser's intensity scale for model units), pulled back to e by the generator's vector–Jacobian
 * product, minus 2λ(e − e₀). The step is Adam (Kingma &amp; Ba 2015, Algorithm 1, β₁ = 0.9, β₂ = 0.999, ε = 1e-8), which
 * makes the learning rate the size of a step per embedding component whatever the gradient's scale.
 *
 * <p>Iteration 0 evaluates the learned embedding; iteration k the embedding after k Adam steps. Every evaluation
 * records J, the mean log-probability, the mean target probability, the penalty and the distance ‖e − e₀‖ (also
 * relative to the distance from e₀ to the nearest other class's learned embedding). The result is the evaluated
 * embedding with the largest J (Adam's fixed-size steps can overshoot once log p saturates near 0, so the last iterate
 * need not be the best); the record keeps every iteration. Noise: image i starts from the
 * first H·W·C values of {@code GaussianNoise.forSample(seed, i)}, as Synthesize's sample i with the same seed.
 */
public final class ConditioningOptimizer {
  private static final double BETA1 = 0.9;
  private static final double BETA2 = 0.999;
  private static final double ADAM_EPS = 1e-8;

  private final EmbeddingGenerator generator;
  private final DifferentiableClassifier classifier;
  private final IntensityMapping mapping;
  private int target;
  private int label = -1;
  private double lambda = 0.01;
  private double learningRate = 0.05;
  private int iterations = 10;
  private int samples = 2;
  private long seed;

  public ConditioningOptimizer(EmbeddingGenerator generator, DifferentiableClassifier classifier,
      IntensityMapping mapping) {
    if (generator.height() != classifier.height() || generator.width() != classifier.width()
        || generator.channels() != classifier.channels()) {
      throw new UserException("The denoiser makes " + generator.width() + "x" + generator.height() + "x"
          + generator.channels() + " images but the classifier takes " + classifier.width() + "x"
          + classifier.height() + "x" + classifier.channels() + ". Use a classifier trained on the denoiser's images.");
    }
    this.generator = generator;
    this.classifier = classifier;
    this.mapping = mapping;
  }

  /** The classifier's class whose log-probability is maximised. */
  public ConditioningOptimizer target(int classIndex) {
    if (classIndex < 0 || classIndex >= classifier.classNames().size()) {
      throw new UserException("The classifier has no class " + classIndex + "; it has " + classifier.classNames());
    }
    target = classIndex;
    return this;
  }

  /** The denoiser label whose learned embedding e₀ is the start and the anchor (default: the target index). */
  public ConditioningOptimizer label(int l) {
    if (l < 0 || l >= generator.classes()) {
      throw new UserException("The denoiser has no class " + l + "; it has " + generator.classes() + " classes.");
    }
    label = l;
    return this;
  }

  /** λ ≥ 0 of the closeness term λ·‖e − e₀‖². */
  public ConditioningOptimizer lambda(double v) {
    if (!(v >= 0) || Double.isInfinite(v)) throw new UserException("lambda must be 0 or more; got " + v + ".");
    lambda = v;
    return this;
  }

  public ConditioningOptimizer learningRate(double v) {
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new UserException("learning_rate must be more than 0; got " + v + ". Use e.g. learning_rate=0.05.");
    }
    learningRate = v;
    return this;
  }

  public ConditioningOptimizer iterations(int v) {
    if (v < 1) throw new UserException("iterations must be 1 or more; got " + v + ".");
    iterations = v;
    return this;
  }

  /** Number of initial noises the objective averages over. */
  public ConditioningOptimizer samples(int v) {
    if (v < 1) throw new UserException("samples must be 1 or more; got " + v + ".");
    samples = v;
    return this;
  }

  public ConditioningOptimizer seed(long v) {
    seed = v;
    return this;
  }

  /** What one evaluation (one iteration) measured. */
  public static final class Step {
    public final int iteration;
    public final double objective;
    public final double logProbability;
    public final double probability;
    public final double penalty;
    public final double distance;
    public final double seconds;

    Step(int iteration, double objective, double logProbability, double probability, double penalty, double distance,
        double seconds) {
      this.iteration = iteration;
      this.objective = objective;
      this.logProbability = logProbability;
      this.probability = probability;
      this.penalty = penalty;
      this.distance = distance;
      this.seconds = seconds;
    }
  }

  /** The outcome of a run. */
  public static final class Result {
    public final float[] learned;
    /** The evaluated embedding with the largest objective (iteration {@link #best}; 0 when no step improved it). */
    public final float[] optimised;
    public final int best;
    /** Distance from e₀ to the nearest other class's learned embedding (NaN with one class). */
    public final double classDistance;
    public final List<Step> steps;
    /** Images of the learned embedding (iteration 0) and of the optimised one (best), image intensity, n·H·W·C each. */
    public final float[] firstImages;
    public final float[] optimisedImages;
    /** Target probability per image, learned and optimised embedding. */
    public final double[] firstProbability;
    public final double[] optimisedProbability;

    Result(float[] learned, float[] optimised, int best, double classDistance, List<Step> steps, float[] firstImages,
        float[] optimisedImages, double[] firstProbability, double[] optimisedProbability) {
      this.learned = learned;
      this.optimised = optimised;
      this.best = best;
      this.classDistance = classDistance;
      this.steps = steps;
      this.firstImages = firstImages;
      this.optimisedImages = optimisedImages;
      this.firstProbability = firstProbability;
      this.optimisedProbability = optimisedProbability;
    }

    public Step first() {
      return steps.get(0);
    }

    public Step last() {
      return steps.get(steps.size() - 1);
    }

    /** The evaluation of {@link #optimised}. */
    public Step bestStep() {
      return steps.get(best);
    }

    /** Distance of {@link #optimised} from the learned embedding, relative to {@link #classDistance}. */
    public double relativeDistance() {
      return bestStep().distance / classDistance;
    }
  }

  /**
   * Runs the optimisation.
   *
   * @throws org.diffxai.core.CancelledException when cancelled (between model calls)
   */
  public Result run(Progress progress) {
    if (progress == null) progress = Progress.NONE;
    int start = label >= 0 ? label : target;
    if (start >= generator.classes()) {
      throw new UserException("The denoiser has " + generator.classes() + " classes, so there is no learned embedding "
          + "for class " + start + "; give the denoiser label to start from.");
    }
    float[] e0 = generator.embedding(start);
    double classDistance = Double.NaN;
    for (int c = 0; c < generator.classes(); c++) {
      if (c != start) {
        double dc = distance(generator.embedding(c), e0);
        classDistance = Double.isNaN(classDistance) ? dc : Math.min(classDistance, dc);
      }
    }
    int n = samples;
    int d = generator.height() * generator.width() * generator.channels();
    float[] xT = new float[n * d];
    for (int i = 0; i < n; i++) GaussianNoise.forSample(seed, i).fill(xT, i * d, d);
    float[] e = e0.clone();
    int dim = e.length;
    double[] m = new double[dim];
    double[] v = new double[dim];
    List<Step> steps = new ArrayList<>();
    float[] firstImages = null;
    double[] firstP = null;
    float[] images;
    double[] p;
    double bestJ = Double.NaN;
    int best = 0;
    float[] bestE = e0;
    float[] bestImages = null;
    double[] bestP = null;
    for (int it = 0; it <= iterations; it++) {
      progress.checkCancelled();
      progress.report("Optimise conditioning: iteration " + it + "/" + iterations, (double) it / (iterations + 1));
      long t0 = System.nanoTime();
      images = mapping.toImage(generator.generate(e, xT, n));
      progress.checkCancelled();
      DifferentiableClassifier.Gradient g = classifier.gradient(images, n,
          DifferentiableClassifier.Objective.of(DifferentiableClassifier.Kind.LOG_PROBABILITY, target, n));
      p = new double[n];
      double logP = 0;
      double meanP = 0;
      for (int i = 0; i < n; i++) {
        logP += g.values[i] / n;
        p[i] = Math.exp(g.values[i]); // the objective is log softmax, so this is the softmax probability
        meanP += p[i] / n;
      }
      double dist = distance(e, e0);
      double penalty = lambda * dist * dist;
      if (it == 0) {
        firstImages = images;
        firstP = p;
      }
      if (it == 0 || logP - penalty > bestJ) {
        bestJ = logP - penalty;
        best = it;
        bestE = e.clone();
        bestImages = images;
        bestP = p;
      }
      if (it < iterations) {
        progress.checkCancelled();
        // ∂J/∂x₀ in model units: the classifier's image-intensity gradient times d image / d model, over n.
        float[] u = new float[n * d];
        float a = (float) (mapping.scale / n);
        for (int j = 0; j < u.length; j++) u[j] = g.gradient[j] * a;
        float[] ge = generator.embeddingGradient(e, xT, n, u);
        int k = it + 1;
        for (int j = 0; j < dim; j++) {
          double grad = ge[j] - 2 * lambda * (e[j] - e0[j]);
          m[j] = BETA1 * m[j] + (1 - BETA1) * grad;
          v[j] = BETA2 * v[j] + (1 - BETA2) * grad * grad;
          double mh = m[j] / (1 - Math.pow(BETA1, k));
          double vh = v[j] / (1 - Math.pow(BETA2, k));
          e[j] = (float) (e[j] + learningRate * mh / (Math.sqrt(vh) + ADAM_EPS)); // ascent
        }
      }
      steps.add(new Step(it, logP - penalty, logP, meanP, penalty, dist, (System.nanoTime() - t0) / 1e9));
    }
    return new Result(e0, bestE, best, classDistance, steps, firstImages, bestImages, firstP, bestP);
  }

  /** Euclidean distance ‖a − b‖. */
  public static double distance(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      double x = (double) a[i] - b[i];
      s += x * x;
    }
    return Math.sqrt(s);
  }
}
