package org.diffxai.tf;

import java.util.LinkedHashMap;
import java.util.Map;

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
  private int threads;
  private boolean graphOptimizer;

  public TrainingOptions() {}

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
    if (threads < 0) throw new IllegalArgumentException("threads must be >= 0");
    return this;
  }

  /** Key/value description for model.json. */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("objective", "ddpm_epsilon_mse");
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
}
