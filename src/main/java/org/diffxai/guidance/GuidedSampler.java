package org.diffxai.guidance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.diffxai.core.Confidence;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DiffusionSampler;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.Seeds;
import org.diffxai.core.StepOutput;
import org.diffxai.core.UserException;

/**
 * Classifier-guided denoising with a classifier trained on clean images: guided synthesis (global explanations of a
 * class or a prototype) and diffusion counterfactuals.
 *
 * <p><b>The update</b> (classifier guidance, Dhariwal &amp; Nichol 2021, "Diffusion Models Beat GANs on Image
 * Synthesis", Sec. 4 and Algorithm 2, in its x̂₀ form). At each step t with ᾱ = ᾱ_t the denoiser gives ε̂ and the
 * scheduler's predicted clean image x̂₀ = (x_t − √(1−ᾱ)·ε̂)/√ᾱ (after the bundle's clipping). The classifier, trained on
 * clean images, is evaluated at x̂₀ in image units, and its gradient g = ∇ J(x̂₀) is taken there:
 *
 * <pre>
 *   J(x̂₀)  = f(x̂₀) − λ·Σ_i |x̂₀,i − x_in,i|          (f = log p(c|x̂₀) or prototype score; λ = closeness, 0 in synthesis)
 *   x̂₀'    = clip(x̂₀ + s·(1 − ᾱ)·a·g)                 (s = guidance scale; a = d image / d model, the intensity scale;
 *                                                      clip as the bundle's scheduler config says)
 *   ε'     = (x_t − √ᾱ·x̂₀') / √(1 − ᾱ)
 * </pre>
 *
 * and the unchanged DDIM or DDPM step is taken with the model output that gives (x̂₀', ε') (ε' for ε-prediction, x̂₀'
 * for sample prediction, √ᾱ·ε' − √(1−ᾱ)·x̂₀' for v-prediction). Dhariwal &amp; Nichol shift ε by −√(1−ᾱ)·s·∇_{x_t} log p,
 * which moves x̂₀ by s·(1−ᾱ)/√ᾱ·∇_{x_t} log p; replacing ∇_{x_t} (a noisy-image classifier) by √ᾱ·∇_{x̂₀} (a clean-image
 * classifier at the predicted clean image, without differentiating through the denoiser) gives the update above. The
 * weight 1−ᾱ = σ_t² makes guidance strongest while the image is still undetermined and vanish as t → 0. The gradient is
 * not normalised, so a useful scale depends on the classifier. The closeness term is DiME's L1 loss on x̂₀ (Jeanneret,
 * Simon &amp; Jurie 2022, "Diffusion Models for Counterfactual Explanations", Sec. 3; see also Augustin et al. 2022,
 * "Diffusion Visual Counterfactual Explanations"); DiME obtains x̂₀ by denoising to 0 at every step, here x̂₀ is the
 * one-step estimate (cheaper, and blurrier at large t).
 *
 * <p><b>Counterfactuals</b> start from an input image x_in: x_τ = √ᾱ_τ·x_in + √(1−ᾱ_τ)·ε with the first inference step
 * whose timestep is at most τ·num_train_timesteps (like diffusers' img2img {@code strength}), then denoise with
 * guidance towards the target class. After each guided x̂₀' the classifier is asked again; with {@code stopOnFlip}
 * the run ends for that image at the first step where the target class has the largest probability, and x̂₀' is the
 * counterfactual; otherwise (or when it never flips) the counterfactual is the fully denoised x₀.
 * {@link #reconstruction} runs the same loop without guidance and without classifier calls, stopping each image at a
 * given step: the reference that leaves, in counterfactual − reference, only what the guidance changed.
 *
 * <p>Per step and image the trace keeps the objective f at x̂₀ (what the step differentiates) and the target class's
 * probability at x̂₀' (after the step's guidance), calibrated with the classifier's temperature
 * ({@code Classifier.confidence()}, docs/confidence.md; T = 1 for a bundle without one). Synthesis runs the unguided
 * loop of {@link DiffusionSampler} with this guidance as its {@link DiffusionSampler.Guide} (so Synthesize with a
 * guidance model keeps trajectories, DDPM, η, init and conditions); counterfactuals run their own loop (partial
 * schedule, stop at the flip) around the same guidance step. Noise: synthesis uses {@code GaussianNoise.forSample(seed, i)}
 * exactly as {@link org.diffxai.core.DiffusionSampler} does (so scale 0 reproduces Synthesize bit for bit at the same
 * batch size); counterfactuals use {@code Seeds.gaussian(seed, "counterfactual", i)}: the first H·W·C values noise the
 * input, the rest feed the steps that add noise. Not thread-safe.
 */
public final class GuidedSampler {
  private final Denoiser denoiser;
  private final DiffusionScheduler scheduler;
  private final DifferentiableClassifier classifier;
  private final IntensityMapping mapping;
  private Kind kind = Kind.LOG_PROBABILITY;
  private int index;
  private int probabilityClass;
  private double scale = 1;
  private double closeness;
  private int steps = 50;
  private long seed;
  private int batchSize = 1;
  private int[] labels;
  private boolean stopOnFlip;
  /** The counterfactuals' inputs (image units) while a counterfactual runs, else null. */
  private float[][] references;

  /** What one image went through. */
  public static final class Trace {
    /** The result in image units (H·W·C). */
    public final float[] image;
    /**
     * Per step taken: the timestep, objective f at x̂₀ (log softmax of the logits, T = 1, or the prototype's score),
     * calibrated probability of the target class at x̂₀'.
     */
    public final int[] timesteps;
    public final double[] objective;
    public final double[] probability;
    /** Index (0-based, among the steps taken) of the first step whose x̂₀' is classified as the target; −1 if none. */
    public final int flipStep;

    Trace(float[] image, int[] timesteps, double[] objective, double[] probability, int flipStep) {
      this.image = image;
      this.timesteps = timesteps;
      this.objective = objective;
      this.probability = probability;
      this.flipStep = flipStep;
    }

    public int stepsUsed() {
      return timesteps.length;
    }

    /** Probability of the target class of the result (the last recorded one). */
    public double finalProbability() {
      return probability.length == 0 ? Double.NaN : probability[probability.length - 1];
    }
  }

  /**
   * @param mapping the denoiser bundle's intensity mapping (image = model·scale + offset); the classifier takes image
   *     units
   * @throws UserException when the classifier's input size is not the denoiser's sample size
   */
  public GuidedSampler(Denoiser denoiser, DiffusionScheduler scheduler, DifferentiableClassifier classifier,
      IntensityMapping mapping) {
    if (denoiser.height() != classifier.height() || denoiser.width() != classifier.width()
        || denoiser.channels() != classifier.channels()) {
      throw new UserException("The classifier takes " + classifier.width() + "x" + classifier.height() + "x"
          + classifier.channels() + " images but the denoiser makes " + denoiser.width() + "x" + denoiser.height()
          + "x" + denoiser.channels() + ". Use a classifier trained on images of the denoiser's size.");
    }
    this.denoiser = denoiser;
    this.scheduler = scheduler;
    this.classifier = classifier;
    this.mapping = mapping == null ? IntensityMapping.IDENTITY : mapping;
  }

  /**
   * What to maximise: {@code Kind.LOG_PROBABILITY} of class {@code index}, or {@code Kind.PROTOTYPE_SCORE} of
   * prototype {@code index}; {@code probabilityClass} is the class whose probability the trace records and whose
   * flip ends a counterfactual (the class itself, or the prototype's class).
   */
  public GuidedSampler target(Kind kind, int index, int probabilityClass) {
    if (kind == Kind.LOGIT) throw new IllegalArgumentException("guide on LOG_PROBABILITY or PROTOTYPE_SCORE");
    int k = classifier.classNames().size();
    if (probabilityClass < 0 || probabilityClass >= k) {
      throw new UserException("Target class " + probabilityClass + " is not one of the classifier's " + k
          + " classes (0.." + (k - 1) + ").");
    }
    if (index < 0) throw new UserException("The target index must be 0 or more; got " + index + ".");
    this.kind = kind;
    this.index = index;
    this.probabilityClass = probabilityClass;
    return this;
  }

  /** Guidance scale s ≥ 0 (0 = unguided). */
  public GuidedSampler scale(double s) {
    if (!(s >= 0 && Double.isFinite(s))) {
      throw new UserException("scale must be a finite number of 0 or more; got " + s + ". Use e.g. scale=10.");
    }
    this.scale = s;
    return this;
  }

  /** Weight λ ≥ 0 of the L1 closeness to the input (counterfactuals). */
  public GuidedSampler closeness(double lambda) {
    if (!(lambda >= 0 && Double.isFinite(lambda))) {
      throw new UserException("closeness must be a finite number of 0 or more; got " + lambda + ". Use e.g. 0.01.");
    }
    this.closeness = lambda;
    return this;
  }

  /** Inference steps of the full schedule (counterfactuals run the last ≈ τ·steps of them). */
  public GuidedSampler steps(int steps) {
    org.diffxai.core.Timesteps.checkSteps(steps, scheduler.schedule().size());
    this.steps = steps;
    return this;
  }

  public GuidedSampler seed(long seed) {
    this.seed = seed;
    return this;
  }

  /** Images per denoiser and classifier call (default 1). */
  public GuidedSampler batchSize(int b) {
    if (b < 1) throw new UserException("batch must be at least 1; got " + b + ".");
    this.batchSize = b;
    return this;
  }

  /** Class label per image for class-conditional denoisers (null otherwise). */
  public GuidedSampler labels(int[] labels) {
    this.labels = labels == null ? null : labels.clone();
    return this;
  }

  /** End an image's run at the first step whose x̂₀' is classified as the target class. */
  public GuidedSampler stopOnFlip(boolean on) {
    this.stopOnFlip = on;
    return this;
  }

  /**
   * Guided synthesis of n images from x_T = the first H·W·C values of GaussianNoise.forSample(seed, i): the unguided
   * sampling loop ({@link DiffusionSampler}) with this guidance as its {@link DiffusionSampler.Guide}, recording per
   * step the objective and the target class's probability at x̂₀'.
   */
  public List<Trace> synthesize(int n, Progress progress) {
    if (n < 1) throw new UserException("samples must be at least 1; got " + n + ".");
    Recorder rec = recorder(n, true);
    DiffusionSampler s = new DiffusionSampler(denoiser, scheduler).steps(steps).samples(n).seed(seed)
        .batchSize(batchSize).guide(rec);
    if (labels != null) s.labels(labels);
    float[][] x0;
    try {
      x0 = s.run(null, progress);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e); // no sink, nothing written
    }
    List<Trace> traces = new ArrayList<>(n);
    for (int i = 0; i < n; i++) traces.add(rec.trace(i, mapping.toImage(x0[i].clone()), -1));
    return traces;
  }

  /**
   * This guidance as a {@link DiffusionSampler.Guide} for a sampler over n samples that uses this sampler's scheduler
   * (Synthesize with a {@code guidance} model): it records the objective per step and, with {@code probabilities}, the
   * target class's calibrated probability at x̂₀' (one more classifier pass per step).
   */
  public Recorder recorder(int n, boolean probabilities) {
    return new Recorder(n, probabilities);
  }

  /** A {@link DiffusionSampler.Guide} that applies this guidance and records what each sample went through. */
  public final class Recorder implements DiffusionSampler.Guide {
    private final List<List<double[]>> rec = new ArrayList<>();
    private final boolean probabilities;

    private Recorder(int n, boolean probabilities) {
      this.probabilities = probabilities;
      for (int i = 0; i < n; i++) rec.add(new ArrayList<>());
    }

    @Override
    public void guide(int t, float[] out, float[][] x, int[] samples) {
      float[] guidedImg = probabilities ? new float[out.length] : null;
      double[] f = guideBatch(t, out, x, samples, guidedImg);
      double[][] p = probabilities ? classifier.confidence().probabilities(classifier.logits(guidedImg,
          samples.length)) : null;
      for (int j = 0; j < samples.length; j++) {
        rec.get(samples[j]).add(new double[] {t, f[j], p == null ? Double.NaN : p[j][probabilityClass]});
      }
    }

    /** The trace of sample i with its final image (image units) and flip step. */
    public Trace trace(int i, float[] image, int flipStep) {
      List<double[]> r = rec.get(i);
      int[] tt = new int[r.size()];
      double[] f = new double[r.size()];
      double[] p = new double[r.size()];
      for (int k = 0; k < tt.length; k++) {
        tt[k] = (int) r.get(k)[0];
        f[k] = r.get(k)[1];
        p[k] = r.get(k)[2];
      }
      return new Trace(image, tt, f, p, flipStep);
    }

    void add(int i, int t, double f, double p) {
      rec.get(i).add(new double[] {t, f, p});
    }
  }

  /**
   * Counterfactuals of the input images (image units, H·W·C each), noised to depth τ in (0, 1].
   *
   * @throws UserException for a depth outside (0, 1] or one so small that no step remains
   */
  public List<Trace> counterfactual(float[][] inputs, double depth, Progress progress) {
    int[] idx = new int[inputs.length];
    for (int i = 0; i < idx.length; i++) idx[i] = i;
    return counterfactual(inputs, depth, idx, progress);
  }

  /**
   * {@link #counterfactual(float[][], double, Progress)} where image i draws its noise from stream
   * {@code streamIndex[i]} (its index in a larger set, so a subset gets the same noise as in the whole run).
   */
  public List<Trace> counterfactual(float[][] inputs, double depth, int[] streamIndex, Progress progress) {
    return run(inputs, depth, streamIndex, null, progress);
  }

  /**
   * The unguided reconstructions that the counterfactuals of the same inputs are compared with: the counterfactual loop
   * at scale 0 (same depth, steps, labels, batch size and noise stream {@code streamIndex[i]}) without classifier
   * calls, image i taken at step {@code stopSteps[i]} (0-based among the steps taken, as {@link Trace#flipStep}) as
   * that step's x̂₀ in image units, or for −1 the fully denoised x₀. With the stop steps of a scale-0 counterfactual run
   * (its flip steps, stopping at the flip) the result is that run's images bit for bit; with the stop steps of a guided
   * run, counterfactual − reconstruction is what the guidance changed, without the denoiser's reconstruction error.
   */
  public float[][] reconstruction(float[][] inputs, double depth, int[] streamIndex, int[] stopSteps,
      Progress progress) {
    if (stopSteps.length != inputs.length) {
      throw new IllegalArgumentException(stopSteps.length + " stop steps for " + inputs.length + " images");
    }
    List<Trace> t = run(inputs, depth, streamIndex, stopSteps, progress);
    float[][] out = new float[t.size()][];
    for (int i = 0; i < out.length; i++) out[i] = t.get(i).image;
    return out;
  }

  /** Counterfactuals, or with {@code stopAt} the unguided reconstructions stopped there. */
  private List<Trace> run(float[][] inputs, double depth, int[] streamIndex, int[] stopAt, Progress progress) {
    if (!(depth > 0 && depth <= 1)) {
      throw new UserException("depth must be in (0, 1] (a fraction of the noise schedule); got " + depth
          + ". Use e.g. depth=0.4.");
    }
    int d = size();
    scheduler.setTimesteps(steps);
    int[] all = scheduler.timesteps();
    double limit = depth * scheduler.schedule().size();
    int first = 0;
    while (first < all.length && all[first] > limit) first++;
    if (first == all.length) {
      throw new UserException("depth=" + depth + " with steps=" + steps + " leaves no denoising step (the smallest "
          + "timestep is " + all[all.length - 1] + " of " + scheduler.schedule().size() + "). Raise depth or steps.");
    }
    int[] ts = Arrays.copyOfRange(all, first, all.length);
    float ab = scheduler.alphaCumprod(ts[0]);
    float sa = (float) Math.sqrt(ab);
    float sb = (float) Math.sqrt(1 - ab);
    int n = inputs.length;
    GaussianNoise[] streams = new GaussianNoise[n];
    float[][] x = new float[n][];
    float[][] ref = new float[n][];
    for (int i = 0; i < n; i++) {
      if (inputs[i].length != d) {
        throw new UserException("Image " + (i + 1) + " has " + inputs[i].length + " values; the denoiser needs "
            + denoiser.width() + "x" + denoiser.height() + "x" + denoiser.channels() + ".");
      }
      ref[i] = inputs[i].clone();
      float[] m = mapping.toModel(inputs[i].clone());
      streams[i] = Seeds.gaussian(seed, "counterfactual", streamIndex[i]);
      float[] eps = streams[i].fill(new float[d]);
      for (int j = 0; j < d; j++) m[j] = sa * m[j] + sb * eps[j];
      x[i] = m;
    }
    if (stopAt != null) {
      for (int k : stopAt) {
        if (k < -1 || k >= ts.length) throw new IllegalArgumentException("stop step " + k + " of " + ts.length);
      }
    }
    references = ref;
    try {
      return loop(x, streams, ts, stopAt, progress);
    } finally {
      references = null;
    }
  }

  private int size() {
    return denoiser.height() * denoiser.width() * denoiser.channels();
  }

  /**
   * The counterfactual loop: guided DDIM steps from x_τ, each image stopping at its flip; with {@code stopAt} unguided
   * steps without classifier calls, image i stopping at step {@code stopAt[i]} (−1: never).
   */
  private List<Trace> loop(float[][] x, GaussianNoise[] streams, int[] ts, int[] stopAt, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    int n = x.length;
    int d = size();
    if (denoiser.classConditional() && (labels == null || labels.length != n)) {
      throw new UserException("The denoiser is class-conditional; give one class label per image.");
    }
    if (!denoiser.classConditional() && labels != null) {
      throw new UserException("The denoiser is not class-conditional; remove the label.");
    }
    if (denoiser.conditionChannels() > 0) {
      throw new UserException("Counterfactuals do not support denoisers with condition channels yet.");
    }
    Recorder rec = recorder(n, false);
    float[][] result = new float[n][];
    int[] flip = new int[n];
    Arrays.fill(flip, -1);
    boolean[] done = new boolean[n];
    StepOutput so = new StepOutput(d);
    float[] noise = new float[d];
    float[] mOut = new float[d];
    for (int si = 0; si < ts.length; si++) {
      int t = ts[si];
      progress.checkCancelled();
      progress.report("Step " + (si + 1) + "/" + ts.length + " (t=" + t + ")", (double) si / ts.length);
      int[] active = active(done);
      for (int b0 = 0; b0 < active.length; b0 += batchSize) {
        progress.checkCancelled();
        int m = Math.min(batchSize, active.length - b0);
        int[] idx = Arrays.copyOfRange(active, b0, b0 + m);
        float[] xb = new float[m * d];
        float[] tb = new float[m];
        int[] lb = labels == null ? null : new int[m];
        for (int j = 0; j < m; j++) {
          System.arraycopy(x[idx[j]], 0, xb, j * d, d);
          tb[j] = t;
          if (lb != null) lb[j] = labels[idx[j]];
        }
        float[] out = denoiser.predict(xb, tb, lb, null, m);
        checkOutput(out, m);
        float[] guidedImg = new float[m * d];
        double[] f = null;
        double[][] probs = null;
        if (stopAt == null) {
          f = guideBatch(t, out, x, idx, guidedImg);
          probs = classifier.confidence().probabilities(classifier.logits(guidedImg, m));
        } else {
          predictedClean(t, out, x, idx, guidedImg); // what guideBatch gives at scale 0
        }
        for (int j = 0; j < m; j++) {
          int i = idx[j];
          boolean stop;
          if (stopAt == null) {
            double[] p = probs[j];
            rec.add(i, t, f[j], p[probabilityClass]);
            boolean flipped = argmax(p) == probabilityClass;
            if (flipped && flip[i] < 0) flip[i] = si;
            stop = stopOnFlip && flipped;
          } else {
            stop = stopAt[i] == si;
          }
          if (stop) {
            done[i] = true;
            result[i] = Arrays.copyOfRange(guidedImg, j * d, (j + 1) * d);
            continue;
          }
          System.arraycopy(out, j * d, mOut, 0, d);
          float[] z = scheduler.addsNoise(t) ? streams[i].fill(noise) : null;
          scheduler.step(mOut, t, x[i], z, so);
          System.arraycopy(so.prevSample, 0, x[i], 0, d);
        }
      }
    }
    List<Trace> traces = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      traces.add(rec.trace(i, result[i] != null ? result[i] : mapping.toImage(x[i].clone()), flip[i]));
    }
    return traces;
  }

  private void checkOutput(float[] out, int m) {
    int d = size();
    if (out == null || out.length != m * d) {
      throw new UserException("The denoiser returned " + (out == null ? "nothing" : out.length + " values")
          + " for " + m + " samples (expected " + m * d + "). Check its model.json.");
    }
  }

  /**
   * The guidance of one batch (the update in the class comment): the denoiser outputs {@code out} of the samples
   * {@code idx} (x_t = x[idx[j]]) at timestep t are replaced in place by the outputs that give (x̂₀', ε').
   *
   * @param guidedImg receives x̂₀' in image units when not null
   * @return the objective f at x̂₀ per sample
   */
  private double[] guideBatch(int t, float[] out, float[][] x, int[] idx, float[] guidedImg) {
    int m = idx.length;
    int d = size();
    SchedulerConfig.PredictionType prediction = scheduler.config().predictionType();
    float ab = scheduler.alphaCumprod(t);
    float sa = (float) Math.sqrt(ab);
    float sb = (float) Math.sqrt(1 - ab);
    float w = (float) (scale * (1 - ab)) * (float) mapping.scale;
    StepOutput so = new StepOutput(d);
    float[] zero = new float[d];
    float[] mOut = new float[d];
    float[] img = new float[m * d];
    predictedClean(t, out, x, idx, img);
    DifferentiableClassifier.Gradient g = null;
    if (scale > 0) g = classifier.gradient(img, m, DifferentiableClassifier.Objective.of(kind, index, m));
    // the model output whose (x̂₀, ε̂) are shifted by (Δ, −√ᾱ/√(1−ᾱ)·Δ), Δ = s·(1−ᾱ)·a·∇J; and x̂₀' from it
    for (int j = 0; j < m; j++) {
      int i = idx[j];
      if (g != null) {
        for (int p = 0; p < d; p++) {
          float grad = g.gradient[j * d + p];
          if (references != null && closeness > 0) {
            grad -= (float) closeness * Math.signum(img[j * d + p] - references[i][p]);
          }
          float delta = w * grad;
          int q = j * d + p;
          switch (prediction) {
            case EPSILON:
              out[q] -= sa / sb * delta;
              break;
            case SAMPLE:
              out[q] += delta;
              break;
            case V_PREDICTION:
              out[q] -= delta / sb;
              break;
            default:
              throw new AssertionError(prediction);
          }
        }
      }
      if (g == null && guidedImg == null) continue;
      System.arraycopy(out, j * d, mOut, 0, d);
      scheduler.step(mOut, t, x[i], zero, so);
      if (g != null) {
        // ε' from the (clipped) guided x̂₀', so that the step moves x_t towards x̂₀' even where clipping cut Δ
        float[] x0g = so.predOriginalSample;
        for (int p = 0; p < d; p++) {
          float eps = (x[i][p] - sa * x0g[p]) / sb;
          out[j * d + p] = prediction == SchedulerConfig.PredictionType.EPSILON ? eps
              : prediction == SchedulerConfig.PredictionType.SAMPLE ? x0g[p] : sa * eps - sb * x0g[p];
        }
      }
      if (guidedImg != null) {
        float[] v = mapping.toImage(so.predOriginalSample.clone());
        System.arraycopy(v, 0, guidedImg, j * d, d);
      }
    }
    return g != null ? toDouble(g.values) : objectiveWithoutGuidance(img, m);
  }

  /** x̂₀ of each sample of the batch (the scheduler's, clipped as the bundle says) in image units, into {@code img}. */
  private void predictedClean(int t, float[] out, float[][] x, int[] idx, float[] img) {
    int d = size();
    StepOutput so = new StepOutput(d);
    float[] zero = new float[d];
    float[] mOut = new float[d];
    for (int j = 0; j < idx.length; j++) {
      System.arraycopy(out, j * d, mOut, 0, d);
      scheduler.step(mOut, t, x[idx[j]], zero, so);
      float[] v = mapping.toImage(so.predOriginalSample.clone());
      System.arraycopy(v, 0, img, j * d, d);
    }
  }

  /** The objective at x̂₀ when no gradient is taken (scale 0): log p from the logits, or the prototype's score. */
  private double[] objectiveWithoutGuidance(float[] img, int m) {
    if (kind == Kind.LOG_PROBABILITY) {
      float[][] l = classifier.logits(img, m);
      double[] f = new double[m];
      for (int j = 0; j < m; j++) f[j] = Math.log(Confidence.softmax(l[j], 1)[index]);
      return f;
    }
    return toDouble(classifier.gradient(img, m, DifferentiableClassifier.Objective.of(kind, index, m)).values);
  }

  private static int[] active(boolean[] done) {
    int c = 0;
    for (boolean b : done) if (!b) c++;
    int[] a = new int[c];
    c = 0;
    for (int i = 0; i < done.length; i++) if (!done[i]) a[c++] = i;
    return a;
  }

  private static double[] toDouble(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) d[i] = v[i];
    return d;
  }

  /** Index of the largest value (the first on ties). */
  public static int argmax(double[] p) {
    int b = 0;
    for (int k = 1; k < p.length; k++) if (p[k] > p[b]) b = k;
    return b;
  }
}
