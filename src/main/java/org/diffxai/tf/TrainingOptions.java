package org.diffxai.tf;

import java.util.LinkedHashMap;
import java.util.Map;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.SchedulerConfig.BetaSchedule;
import org.diffxai.core.SchedulerConfig.PredictionType;

/** Optimisation settings for {@link DenoiserTrainer}. Mutable with fluent setters. */
public final class TrainingOptions {
  private int iterations = 2000;
  private int batch = 16;
  private double learningRate = 2e-4;
  private int warmupIterations = 100;
  private long seed = 1;
  private double emaDecay = 0.999;
  private boolean flip = true;
  private double gradientClip = 1.0;
  private PredictionType predictionType = PredictionType.EPSILON;
  private BetaSchedule betaSchedule = BetaSchedule.LINEAR;
  private double minSnrGamma;
  private double labelDropout;
  private int threads;
  private boolean graphOptimizer;

  public TrainingOptions() {}

  /** A copy of {@code o}. */
  public TrainingOptions(TrainingOptions o) {
    iterations = o.iterations;
    batch = o.batch;
    learningRate = o.learningRate;
    warmupIterations = o.warmupIterations;
    seed = o.seed;
    emaDecay = o.emaDecay;
    flip = o.flip;
    gradientClip = o.gradientClip;
    predictionType = o.predictionType;
    betaSchedule = o.betaSchedule;
    minSnrGamma = o.minSnrGamma;
    labelDropout = o.labelDropout;
    threads = o.threads;
    graphOptimizer = o.graphOptimizer;
  }

  /** Total optimiser steps of the training run (a resumed run continues up to this count). */
  public TrainingOptions iterations(int n) {
    iterations = n;
    return this;
  }

  public TrainingOptions batch(int n) {
    batch = n;
    return this;
  }

  /** Adam step size after warm-up (Kingma &amp; Ba 2015). */
  public TrainingOptions learningRate(double lr) {
    learningRate = lr;
    return this;
  }

  /** Linear learning-rate warm-up from 0 over this many iterations (0: none). */
  public TrainingOptions warmupIterations(int n) {
    warmupIterations = n;
    return this;
  }

  public TrainingOptions seed(long s) {
    seed = s;
    return this;
  }

  /** Maximum EMA decay; the decay used at step k is min(decay, (1+k)/(10+k)) as in diffusers' EMAModel. */
  public TrainingOptions emaDecay(double d) {
    emaDecay = d;
    return this;
  }

  /** Random horizontal flips of the training images (and conditions). */
  public TrainingOptions flip(boolean f) {
    flip = f;
    return this;
  }

  /** Clip the global gradient norm to this value (0: no clipping). */
  public TrainingOptions gradientClip(double c) {
    gradientClip = c;
    return this;
  }

  /**
   * What the network learns to output: the noise ε (Ho et al. 2020) or the velocity v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans
   * &amp; Ho 2022, Sec. 4). {@link PredictionType#SAMPLE} is not offered for training.
   */
  public TrainingOptions predictionType(PredictionType p) {
    predictionType = p;
    return this;
  }

  /** @param p "epsilon" or "v_prediction" (diffusers' spelling; a clear message for others) */
  public TrainingOptions predictionType(String p) {
    return predictionType(new SchedulerConfig().predictionType(p).predictionType());
  }

  /** @param s "linear", "scaled_linear" or "squaredcos_cap_v2" (diffusers' spelling; a clear message for others) */
  public TrainingOptions betaSchedule(String s) {
    return betaSchedule(new SchedulerConfig().betaSchedule(s).betaSchedule());
  }

  /** The training noise schedule: diffusers' {@code linear} (Ho et al. 2020) or {@code squaredcos_cap_v2} (cosine). */
  public TrainingOptions betaSchedule(BetaSchedule s) {
    betaSchedule = s;
    return this;
  }

  /**
   * Min-SNR-γ loss weighting (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting Strategy", Eq. 8
   * and Sec. 3.4): the loss of a sample at timestep t is weighted by min(SNR_t, γ)/SNR_t for ε-prediction and
   * min(SNR_t, γ)/(SNR_t + 1) for v-prediction, SNR_t = ᾱ_t/(1 − ᾱ_t). 0 turns it off (weight 1); the paper uses 5.
   */
  public TrainingOptions minSnrGamma(double g) {
    minSnrGamma = g;
    return this;
  }

  /**
   * Share of training samples whose class label is replaced by the "no class" label (index = number of classes; the
   * network needs {@link UNetConfig#unconditionalLabel}), so that one network learns the conditional and the
   * unconditional model that classifier-free guidance combines (Ho &amp; Salimans 2022, "Classifier-Free Diffusion
   * Guidance", Algorithm 1, p_uncond; they use 0.1–0.2). 0: none.
   */
  public TrainingOptions labelDropout(double p) {
    labelDropout = p;
    return this;
  }

  /** TensorFlow intra-op threads, with one inter-op thread (0: TensorFlow's defaults, i.e. all cores). */
  public TrainingOptions threads(int n) {
    threads = n;
    return this;
  }

  /** Run TensorFlow's grappler graph optimiser (off by default: no gain measured on CPU, seconds of set-up). */
  public TrainingOptions graphOptimizer(boolean on) {
    graphOptimizer = on;
    return this;
  }

  public int iterations() {
    return iterations;
  }

  public int batch() {
    return batch;
  }

  public double learningRate() {
    return learningRate;
  }

  public int warmupIterations() {
    return warmupIterations;
  }

  public long seed() {
    return seed;
  }

  public double emaDecay() {
    return emaDecay;
  }

  public boolean flip() {
    return flip;
  }

  public double gradientClip() {
    return gradientClip;
  }

  public PredictionType predictionType() {
    return predictionType;
  }

  public BetaSchedule betaSchedule() {
    return betaSchedule;
  }

  public double minSnrGamma() {
    return minSnrGamma;
  }

  public double labelDropout() {
    return labelDropout;
  }

  public int threads() {
    return threads;
  }

  public boolean graphOptimizer() {
    return graphOptimizer;
  }

  /** Throws IllegalArgumentException naming the first bad value. */
  public TrainingOptions validate() {
    if (iterations < 1) throw new IllegalArgumentException("iterations must be >= 1, got " + iterations);
    if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
    if (!(learningRate > 0 && learningRate < 1)) {
      throw new IllegalArgumentException("learning rate must be in (0, 1), got " + learningRate);
    }
    if (warmupIterations < 0) throw new IllegalArgumentException("warm-up iterations must be >= 0");
    if (!(emaDecay >= 0 && emaDecay < 1)) throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + emaDecay);
    if (!(gradientClip >= 0)) throw new IllegalArgumentException("gradient clip must be >= 0");
    if (predictionType == null || predictionType == PredictionType.SAMPLE) {
      throw new IllegalArgumentException("prediction type must be epsilon or v_prediction, got " + predictionType);
    }
    if (betaSchedule == null) throw new IllegalArgumentException("beta schedule is null");
    if (!(minSnrGamma >= 0 && Double.isFinite(minSnrGamma))) {
      throw new IllegalArgumentException("min-SNR gamma must be >= 0 (0: off), got " + minSnrGamma);
    }
    if (!(labelDropout >= 0 && labelDropout < 1)) {
      throw new IllegalArgumentException("label dropout must be in [0, 1), got " + labelDropout);
    }
    if (threads < 0) throw new IllegalArgumentException("threads must be >= 0");
    return this;
  }

  /**
   * The diffusers DDPMScheduler configuration of this training (1000 steps, β from 1e-4 to 0.02 for {@code linear},
   * the prediction type, clip_sample, leading spacing). The trainer draws ᾱ_t from the same object and the bundle
   * writes it as scheduler_config.json, so training and sampling cannot disagree.
   */
  public SchedulerConfig schedulerConfig() {
    return new SchedulerConfig().className("DDPMScheduler").setAlphaToOne(false).betaSchedule(betaSchedule)
        .predictionType(predictionType);
  }

  /** Key/value description for model.json and checkpoints. */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("objective", predictionType == PredictionType.EPSILON ? "ddpm_epsilon_mse" : "ddpm_v_mse");
    m.put("prediction_type", predictionType.key());
    m.put("beta_schedule", betaSchedule.key());
    m.put("min_snr_gamma", minSnrGamma);
    m.put("label_dropout", labelDropout);
    m.put("iterations", iterations);
    m.put("batch", batch);
    m.put("learning_rate", learningRate);
    m.put("warmup_iterations", warmupIterations);
    m.put("optimizer", "adam(beta1=0.9, beta2=0.999, eps=1e-8)");
    m.put("gradient_clip", gradientClip);
    m.put("seed", seed);
    m.put("ema_decay", emaDecay);
    m.put("horizontal_flip", flip);
    return m;
  }

  /**
   * {@link #describe()} without what a resumed run may change (the total iteration count) and without the objective
   * (it follows from the prediction type).
   */
  Map<String, Object> resumeKeys() {
    Map<String, Object> m = describe();
    m.remove("iterations");
    m.remove("objective");
    return m;
  }
}
