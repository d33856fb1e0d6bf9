package org.diffxai.core;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The sampling loop: from x_T to x_0 with a {@link Denoiser} and a {@link DiffusionScheduler}, for N samples in
 * batches, streaming kept trajectory frames to a {@link TrajectorySink}.
 *
 * <p>The step loop is outer and the batches inner: at each timestep the denoiser runs on chunks of at most
 * {@code batchSize} samples, then every sample is stepped with its own noise stream. So at every step all N samples'
 * x_t exist together and a frame can be written in order, and no frame is kept after the sink returns.
 *
 * <p>Noise: sample i uses {@link GaussianNoise#forSample(long, long) GaussianNoise.forSample(seed, i)}. Its first
 * H·W·C values are x_T (drawn and discarded when the caller supplies x_T, so supplying a run's own x_T reproduces the
 * run); after that, each step that adds noise ({@link DiffusionScheduler#addsNoise(int)}) takes the next H·W·C values.
 * The noise therefore depends on (seed, sample index) only, not on the batch size or the number of samples; so do the
 * results when the denoiser's output for a sample does not depend on the batch it is in. TensorFlow denoisers do not
 * quite meet that: a batch of one is computed in another order (see docs/security.md, "Reproducibility").
 *
 * <p>Usage:
 *
 * <pre>
 * DiffusionSampler s = new DiffusionSampler(denoiser, scheduler).steps(50).samples(8).seed(42).batchSize(4)
 *     .keepEvery(10);
 * List&lt;KeptStep&gt; plan = s.keptSteps(); // frame count and t/ᾱ before running
 * float[][] x0 = s.run(frame -&gt; writer.write(frame), progress);
 * </pre>
 *
 * Not thread-safe; one run at a time.
 */
public final class DiffusionSampler {
  private final Denoiser denoiser;
  private final DiffusionScheduler scheduler;
  private int steps = 50;
  private int samples = 1;
  private long seed;
  private float[][] init;
  private float[] sharedInit;
  private int[] labels;
  private Integer sharedLabel;
  private float[][] condition;
  private float[] sharedCondition;
  private int batchSize = 1;
  private int keepEvery;
  private Guide guide;

  /**
   * Changes the denoiser's outputs before the scheduler steps with them (classifier guidance:
   * {@code org.diffxai.guidance.GuidedSampler}). The kept trajectory then shows the guided x̂₀ and ε.
   */
  public interface Guide {
    /**
     * @param t the timestep
     * @param out the denoiser's outputs of the samples {@code samples} (their H·W·C values one after the other, model
     *     space), changed in place
     * @param x x_t of every sample of the run (read only)
     * @param samples the indices into {@code x} of the samples in {@code out}
     */
    void guide(int t, float[] out, float[][] x, int[] samples);
  }

  public DiffusionSampler(Denoiser denoiser, DiffusionScheduler scheduler) {
    if (denoiser == null || scheduler == null) throw new NullPointerException("denoiser and scheduler are required");
    this.denoiser = denoiser;
    this.scheduler = scheduler;
  }

  /** Number of inference steps S (default 50), between 1 and num_train_timesteps. */
  public DiffusionSampler steps(int steps) {
    Timesteps.checkSteps(steps, scheduler.schedule().size());
    this.steps = steps;
    return this;
  }

  /** Number of samples N (default 1). */
  public DiffusionSampler samples(int n) {
    if (n < 1) throw new UserException("samples must be at least 1; got " + n + ". Use e.g. samples=4.");
    this.samples = n;
    return this;
  }

  /** Seed of the noise streams (default 0). */
  public DiffusionSampler seed(long seed) {
    this.seed = seed;
    return this;
  }

  /** x_T per sample (H·W·C values each, model space), or null to draw x_T from the noise streams. */
  public DiffusionSampler init(float[][] xT) {
    this.init = xT;
    this.sharedInit = null;
    return this;
  }

  /** One x_T for every sample (H·W·C values, model space). */
  public DiffusionSampler init(float[] xT) {
    this.sharedInit = xT;
    this.init = null;
    return this;
  }

  /** Class label per sample (required for class-conditional models, not allowed otherwise); null for none. */
  public DiffusionSampler labels(int[] labels) {
    this.labels = labels;
    this.sharedLabel = null;
    return this;
  }

  /** One class label for every sample. */
  public DiffusionSampler label(int label) {
    this.sharedLabel = label;
    this.labels = null;
    return this;
  }

  /** Condition channels per sample (H·W·K values each; required when K &gt; 0, not allowed otherwise). */
  public DiffusionSampler condition(float[][] condition) {
    this.condition = condition;
    this.sharedCondition = null;
    return this;
  }

  /** One condition (H·W·K values) for every sample. */
  public DiffusionSampler condition(float[] condition) {
    this.sharedCondition = condition;
    this.condition = null;
    return this;
  }

  /** Samples per denoiser call (default 1); does not change the results. */
  public DiffusionSampler batchSize(int batchSize) {
    if (batchSize < 1) throw new UserException("batch must be at least 1; got " + batchSize + ". Use e.g. batch=4.");
    this.batchSize = batchSize;
    return this;
  }

  /**
   * Keep every k-th step as a trajectory frame: step indices i with i % k == 0, plus the last step; 0 (default) keeps
   * none.
   */
  public DiffusionSampler keepEvery(int k) {
    if (k < 0) throw new UserException("keep_every must be 0 (no trajectory) or more; got " + k + ". Use e.g. 10.");
    this.keepEvery = k;
    return this;
  }

  /** Guidance applied to every denoiser output before it is stepped (null, the default, for none). */
  public DiffusionSampler guide(Guide g) {
    this.guide = g;
    return this;
  }

  /** H·W·C of the denoiser. */
  public int sampleSize() {
    return denoiser.height() * denoiser.width() * denoiser.channels();
  }

  /**
   * The kept step indices of a run: i in [0, steps) with i % keepEvery == 0, plus steps − 1; none when keepEvery is 0.
   */
  public static int[] keptStepIndices(int steps, int keepEvery) {
    if (keepEvery <= 0) return new int[0];
    int count = (steps - 1) / keepEvery + 1 + ((steps - 1) % keepEvery == 0 ? 0 : 1);
    int[] out = new int[count];
    int j = 0;
    for (int i = 0; i < steps; i += keepEvery) out[j++] = i;
    if (j < count) out[j] = steps - 1;
    return out;
  }

  /** The kept steps of the configured run (index, step, t, ᾱ_t), known before running. */
  public List<KeptStep> keptSteps() {
    scheduler.setTimesteps(steps);
    int[] ts = scheduler.timesteps();
    int[] idx = keptStepIndices(steps, keepEvery);
    List<KeptStep> out = new ArrayList<>(idx.length);
    for (int k = 0; k < idx.length; k++) {
      int t = ts[idx[k]];
      out.add(new KeptStep(k, idx[k], t, scheduler.alphaCumprod(t)));
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * Runs the loop.
   *
   * @param sink receives the kept frames in order; null keeps none
   * @param progress reported once per step ("Step i/S (t=981)", fraction (i−1)/S at the start of step i) and polled
   *     before every denoiser call, so a cancel stops the run within one step
   * @return the final samples x_0, [sample][H·W·C], model space
   * @throws UserException for inputs that do not fit the model (sizes, labels, condition, non-finite x_T)
   * @throws CancelledException when cancelled
   * @throws IOException from the sink
   */
  public float[][] run(TrajectorySink sink, Progress progress) throws IOException {
    if (progress == null) progress = Progress.NONE;
    final int n = samples;
    final int d = sampleSize();
    if (d <= 0) throw new IllegalStateException("Denoiser reports an empty sample shape");
    float[][] xT = resolveInit(n, d);
    int[] lab = resolveLabels(n);
    float[][] cond = resolveCondition(n);

    List<KeptStep> plan = keptSteps(); // also sets the scheduler's timesteps
    int[] ts = scheduler.timesteps();
    int s = ts.length;
    boolean[] keep = new boolean[s];
    KeptStep[] keptAt = new KeptStep[s];
    if (sink != null) {
      for (KeptStep k : plan) {
        keep[k.stepIndex] = true;
        keptAt[k.stepIndex] = k;
      }
    }

    // per-sample noise streams; the first d values of each are x_T
    GaussianNoise[] streams = new GaussianNoise[n];
    float[][] x = new float[n][];
    for (int i = 0; i < n; i++) {
      streams[i] = GaussianNoise.forSample(seed, i);
      if (xT == null) {
        x[i] = streams[i].fill(new float[d]);
      } else {
        streams[i].skip(d);
        x[i] = xT[i].clone();
      }
    }

    int k = denoiser.conditionChannels();
    int hw = denoiser.height() * denoiser.width();
    StepOutput so = new StepOutput(d);
    float[] modelOut = new float[d];
    float[] noise = new float[d];
    for (int si = 0; si < s; si++) {
      int t = ts[si];
      progress.checkCancelled();
      progress.report("Step " + (si + 1) + "/" + s + " (t=" + t + ")", (double) si / s);
      boolean kept = keep[si];
      float[][] fxt = null;
      float[][] fx0 = null;
      float[][] feps = null;
      if (kept) {
        fxt = new float[n][];
        for (int i = 0; i < n; i++) fxt[i] = x[i].clone();
        fx0 = new float[n][];
        feps = new float[n][];
      }
      for (int b0 = 0; b0 < n; b0 += batchSize) {
        progress.checkCancelled();
        int m = Math.min(batchSize, n - b0);
        float[] xb = new float[m * d];
        float[] tb = new float[m];
        int[] lb = lab == null ? null : new int[m];
        float[] cb = cond == null ? null : new float[m * hw * k];
        for (int j = 0; j < m; j++) {
          System.arraycopy(x[b0 + j], 0, xb, j * d, d);
          tb[j] = t;
          if (lb != null) lb[j] = lab[b0 + j];
          if (cb != null) System.arraycopy(cond[b0 + j], 0, cb, j * hw * k, hw * k);
        }
        float[] out = denoiser.predict(xb, tb, lb, cb, m);
        if (out == null || out.length != m * d) {
          throw new UserException("The model returned " + (out == null ? "nothing" : out.length + " values")
              + " for a batch of " + m + " samples of " + denoiser.height() + "x" + denoiser.width() + "x"
              + denoiser.channels() + " (expected " + (m * d) + "). Check that the model's output shape matches its"
              + " model.json.");
        }
        if (guide != null) {
          int[] idx = new int[m];
          for (int j = 0; j < m; j++) idx[j] = b0 + j;
          guide.guide(t, out, x, idx);
        }
        for (int j = 0; j < m; j++) {
          int i = b0 + j;
          System.arraycopy(out, j * d, modelOut, 0, d);
          float[] z = null;
          if (scheduler.addsNoise(t)) z = streams[i].fill(noise);
          scheduler.step(modelOut, t, x[i], z, so);
          if (kept) {
            fx0[i] = so.predOriginalSample.clone();
            feps[i] = so.predEpsilon.clone();
          }
          System.arraycopy(so.prevSample, 0, x[i], 0, d);
        }
      }
      if (kept) sink.accept(new TrajectoryFrame(keptAt[si], fxt, fx0, feps));
    }
    return x;
  }

  private float[][] resolveInit(int n, int d) {
    float[][] xT;
    if (sharedInit != null) {
      xT = new float[n][];
      for (int i = 0; i < n; i++) xT[i] = sharedInit;
    } else if (init != null) {
      if (init.length != n) {
        throw new UserException("The init image has " + init.length + " samples but samples=" + n
            + "; give one init slice per sample, or one for all.");
      }
      xT = init;
    } else {
      return null;
    }
    for (int i = 0; i < n; i++) {
      float[] v = xT[i];
      if (v == null || v.length != d) {
        throw new UserException("The init image has " + (v == null ? 0 : v.length) + " values per sample but the model"
            + " needs " + denoiser.height() + "x" + denoiser.width() + "x" + denoiser.channels() + " = " + d
            + ". Give an init image of the model's size.");
      }
      for (int j = 0; j < d; j++) {
        if (!Float.isFinite(v[j])) {
          throw new UserException("The init image contains " + v[j] + " (sample " + (i + 1) + ", value " + j
              + "); x_T must be finite. Replace NaN/infinite pixels or omit init to start from noise.");
        }
      }
    }
    return xT;
  }

  private int[] resolveLabels(int n) {
    boolean given = labels != null || sharedLabel != null;
    if (!denoiser.classConditional()) {
      if (given) throw new UserException("This model is not class-conditional; remove the label.");
      return null;
    }
    if (!given) throw new UserException("This model is class-conditional; give a class label, e.g. label=0.");
    int[] out = new int[n];
    if (sharedLabel != null) {
      Arrays.fill(out, sharedLabel);
    } else {
      if (labels.length != n) {
        throw new UserException(labels.length + " labels for " + n + " samples; give one label per sample or one"
            + " for all.");
      }
      System.arraycopy(labels, 0, out, 0, n);
    }
    for (int l : out) {
      if (l < 0) throw new UserException("Class labels must be 0 or more; got " + l + ".");
    }
    return out;
  }

  private float[][] resolveCondition(int n) {
    int k = denoiser.conditionChannels();
    boolean given = condition != null || sharedCondition != null;
    if (k == 0) {
      if (given) throw new UserException("This model takes no condition input; remove the condition image.");
      return null;
    }
    if (!given) {
      throw new UserException("This model needs a condition image with " + k + " channel(s) of "
          + denoiser.height() + "x" + denoiser.width() + "; give one.");
    }
    int size = denoiser.height() * denoiser.width() * k;
    float[][] c;
    if (sharedCondition != null) {
      c = new float[n][];
      for (int i = 0; i < n; i++) c[i] = sharedCondition;
    } else {
      if (condition.length != n) {
        throw new UserException("The condition image has " + condition.length + " samples but samples=" + n
            + "; give one condition per sample, or one for all.");
      }
      c = condition;
    }
    for (int i = 0; i < n; i++) {
      float[] v = c[i];
      if (v == null || v.length != size) {
        throw new UserException("The condition has " + (v == null ? 0 : v.length) + " values per sample but the model"
            + " needs " + denoiser.height() + "x" + denoiser.width() + "x" + k + " = " + size
            + ". Give a condition image of the model's size and channel count.");
      }
      for (float f : v) {
        if (!Float.isFinite(f)) {
          throw new UserException("The condition image contains " + f + "; replace NaN/infinite pixels.");
        }
      }
    }
    return c;
  }
}
