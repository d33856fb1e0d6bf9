package org.diffxai.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.diffxai.core.Classifier;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;

/**
 * Perturbation metrics of an attribution map: how well does the map predict what the classifier does when the pixels
 * it ranks high are removed? Engine-free: the classifier is any {@link Classifier}, called with batches of perturbed
 * images built in one reused buffer, so a metric costs about as much as its classifier forwards.
 *
 * <p>A <em>pixel</em> is one (y, x) position with all its channels; an attribution map has one value per pixel
 * ({@code a[y * w + x]}). Images are one sample, NHWC order, in image intensity. Removing a pixel sets all its channels
 * to the {@link Baseline} image's values there. Formulas, defaults and citations: docs/faithfulness.md.
 */
public final class FaithfulnessMetrics {

  /** Metric settings; field names follow the command's keys. 0 means "auto" where documented. */
  public static final class Settings {
    /** What removed pixels become. */
    public Baseline baseline = Baseline.BLUR;
    /** Random subsets of faithfulness correlation (at least 3). */
    public int runs = 100;
    /** Pixels per random subset; 0 = the image width. */
    public int subsetSize = 0;
    /** Pixels removed (inserted) per point of the deletion, insertion and monotonicity curves; 0 = the image width. */
    public int step = 0;
    /** Side of the square patches of region perturbation; 0 = max(1, min(h, w) / 16). */
    public int patchSize = 0;
    /** Images per classifier call. */
    public int batch = 32;

    int subsetSize(int h, int w) {
      return subsetSize == 0 ? w : subsetSize;
    }

    int step(int h, int w) {
      return step == 0 ? w : step;
    }

    int patchSize(int h, int w) {
      return patchSize == 0 ? Math.max(1, Math.min(h, w) / 16) : patchSize;
    }

    /**
     * Checks the settings against an h×w image.
     *
     * @throws UserException naming the key and the valid range
     */
    public void check(int h, int w) {
      int hw = h * w;
      FaithfulnessMetrics.check(runs >= 3, "runs=" + runs + " is too few for a correlation. Use at least 3 (default"
          + " 100).");
      FaithfulnessMetrics.check(subsetSize >= 0 && subsetSize(h, w) <= hw, "subset_size=" + subsetSize + " does not"
          + " fit the " + w + "x" + h + " image's " + hw + " pixels. Use 1 to " + hw + " (0 = the image width).");
      FaithfulnessMetrics.check(step >= 0 && step(h, w) <= hw, "step=" + step + " does not fit the " + w + "x" + h
          + " image's " + hw + " pixels. Use 1 to " + hw + " (0 = the image width).");
      FaithfulnessMetrics.check(patchSize >= 0 && patchSize(h, w) <= Math.min(h, w), "patch_size=" + patchSize
          + " does not fit the " + w + "x" + h + " image. Use 1 to " + Math.min(h, w) + " (0 = auto).");
      FaithfulnessMetrics.check(batch >= 1, "batch=" + batch + " must be at least 1.");
    }

    /** The settings with every auto value replaced by its value for an h×w image. */
    public Settings resolved(int h, int w) {
      Settings s = new Settings();
      s.baseline = baseline;
      s.runs = runs;
      s.subsetSize = subsetSize(h, w);
      s.step = step(h, w);
      s.patchSize = patchSize(h, w);
      s.batch = batch;
      return s;
    }
  }

  /** Writes perturbed image {@code index} into {@code buf} at {@code off}; called with index 0, 1, 2, … in order. */
  private interface Filler {
    void fill(int index, float[] buf, int off);
  }

  private final Classifier classifier;
  private final Settings settings;
  private final Progress progress;
  private final int h, w, c, hw, d;

  public FaithfulnessMetrics(Classifier classifier, Settings settings, Progress progress) {
    this.classifier = classifier;
    this.settings = settings;
    this.progress = progress == null ? Progress.NONE : progress;
    this.h = classifier.height();
    this.w = classifier.width();
    this.c = classifier.channels();
    this.hw = h * w;
    this.d = hw * c;
    settings.check(h, w);
  }

  /** All five attribution metrics in the order of {@link Metric}. */
  public List<MetricResult> all(float[] image, float[] attribution, int target, long seed) {
    List<MetricResult> out = new ArrayList<>();
    out.add(faithfulnessCorrelation(image, attribution, target, seed));
    out.add(deletion(image, attribution, target));
    out.add(insertion(image, attribution, target));
    out.add(monotonicity(image, attribution, target));
    out.add(regionPerturbation(image, attribution, target));
    return out;
  }

  /** One metric by name ({@link Metric#needsAttribution} metrics only). */
  public MetricResult compute(Metric m, float[] image, float[] attribution, int target, long seed) {
    switch (m) {
      case FAITHFULNESS_CORRELATION:
        return faithfulnessCorrelation(image, attribution, target, seed);
      case DELETION:
        return deletion(image, attribution, target);
      case INSERTION:
        return insertion(image, attribution, target);
      case MONOTONICITY:
        return monotonicity(image, attribution, target);
      case REGION_PERTURBATION:
        return regionPerturbation(image, attribution, target);
      default:
        throw new IllegalArgumentException(m.key() + " does not score an attribution map");
    }
  }

  /**
   * Faithfulness correlation (Bhatt, Weller &amp; Moura, "Evaluating and aggregating feature-based model
   * explanations", IJCAI 2020, eq. 4): over {@code runs} subsets S of {@code subset_size} pixels drawn uniformly
   * without replacement, Pearson's correlation of Σ_{i∈S} a_i and f(x) − f(x with S at the baseline), f the target
   * logit. Subsets come from a partial Fisher–Yates shuffle driven by {@link SplitMix64}(seed).
   */
  public MetricResult faithfulnessCorrelation(float[] image, float[] attribution, int target, long seed) {
    checkInputs(image, attribution, target);
    float[] base = settings.baseline.of(image, h, w, c);
    int runs = settings.runs, k = settings.subsetSize(h, w);
    double[] sums = new double[runs];
    int[] perm = identity(hw);
    SplitMix64 rnd = new SplitMix64(seed);
    double[][] out = evaluate(runs + 1, (index, buf, off) -> {
      System.arraycopy(image, 0, buf, off, d);
      if (index == 0) return;
      double s = 0;
      for (int j = 0; j < k; j++) {
        int r = j + rnd.nextInt(hw - j);
        int p = perm[r];
        perm[r] = perm[j];
        perm[j] = p;
        s += attribution[p];
        copyPixel(base, buf, off, p);
      }
      sums[index - 1] = s;
    }, target, "Faithfulness correlation");
    double[] drops = new double[runs];
    for (int r = 0; r < runs; r++) drops[r] = out[0][0] - out[0][r + 1];
    double v = Stats.pearson(sums, drops);
    return new MetricResult(Metric.FAITHFULNESS_CORRELATION, v,
        new Curve("attribution sum of the subset", "target logit drop", sums, drops, true), runs + 1,
        Double.isNaN(v) ? undefined(sums, drops) : "");
  }

  /**
   * Deletion (Petsiuk, Das &amp; Saenko, "RISE", BMVC 2018): pixels in descending attribution order (ties: lower
   * index first) go to the baseline {@code step} at a time; y = softmax probability of the target after removing the
   * first ⌊min(k·step, n)⌋ pixels, x = that count / n; value = trapezoidal area, in [0, 1]. Lower is better.
   */
  public MetricResult deletion(float[] image, float[] attribution, int target) {
    checkInputs(image, attribution, target);
    return sweep(Metric.DELETION, image, settings.baseline.of(image, h, w, c), attribution, target,
        "fraction of pixels deleted");
  }

  /**
   * Insertion (Petsiuk et al. 2018): the same walk in reverse, from the {@link Baseline#BLUR blurred} image towards the
   * image: the most relevant pixels are put back first. Higher is better.
   */
  public MetricResult insertion(float[] image, float[] attribution, int target) {
    checkInputs(image, attribution, target);
    return insertion(image, Baseline.BLUR.of(image, h, w, c), attribution, target);
  }

  /** Insertion starting from a given image (the blurred one in {@link #insertion(float[], float[], int)}). */
  public MetricResult insertion(float[] image, float[] start, float[] attribution, int target) {
    checkInputs(image, attribution, target);
    if (start.length != d) throw new IllegalArgumentException("start image of " + start.length + " values");
    return sweep(Metric.INSERTION, start, image, attribution, target, "fraction of pixels inserted");
  }

  /** Moves pixels from {@code from} to {@code to} in attribution order; the probability curve and its AUC. */
  private MetricResult sweep(Metric m, float[] from, float[] to, float[] attribution, int target, String xLabel) {
    int[] order = descendingOrder(attribution);
    int step = settings.step(h, w);
    int points = (hw + step - 1) / step + 1;
    float[] current = from.clone();
    double[][] out = evaluate(points, (index, buf, off) -> {
      if (index > 0) {
        for (int j = (index - 1) * step, end = Math.min(index * step, hw); j < end; j++) {
          copyPixel(to, current, 0, order[j]);
        }
      }
      System.arraycopy(current, 0, buf, off, d);
    }, target, m == Metric.DELETION ? "Deletion" : "Insertion");
    double[] x = new double[points];
    for (int i = 0; i < points; i++) x[i] = (double) Math.min(i * step, hw) / hw;
    double[] y = out[1];
    return new MetricResult(m, Stats.trapezoid(x, y), new Curve(xLabel, "target probability", x, y, false), points, "");
  }

  /**
   * Monotonicity correlation, after Nguyen &amp; Rodríguez Martínez, "On quantitative aspects of model
   * interpretability", arXiv:2007.07584, 2020: pixels in descending attribution order are cut into consecutive groups
   * of {@code step}; group g alone goes to the baseline; value = Spearman's correlation of the group's attribution
   * sum and the target-logit drop f(x) − f(x_g).
   * (The paper correlates |a_i| with the expected change under sampled values, per feature; see
   * docs/faithfulness.md for why this signed, grouped, deterministic version is used.)
   */
  public MetricResult monotonicity(float[] image, float[] attribution, int target) {
    checkInputs(image, attribution, target);
    float[] base = settings.baseline.of(image, h, w, c);
    int[] order = descendingOrder(attribution);
    int step = settings.step(h, w);
    int groups = (hw + step - 1) / step;
    double[] sums = new double[groups];
    double[][] out = evaluate(groups + 1, (index, buf, off) -> {
      System.arraycopy(image, 0, buf, off, d);
      if (index == 0) return;
      double s = 0;
      for (int j = (index - 1) * step, end = Math.min(index * step, hw); j < end; j++) {
        s += attribution[order[j]];
        copyPixel(base, buf, off, order[j]);
      }
      sums[index - 1] = s;
    }, target, "Monotonicity");
    double[] drops = new double[groups];
    for (int g = 0; g < groups; g++) drops[g] = out[0][0] - out[0][g + 1];
    double v = Stats.spearman(sums, drops);
    return new MetricResult(Metric.MONOTONICITY, v,
        new Curve("attribution sum of the pixel group", "target logit drop", sums, drops, true), groups + 1,
        Double.isNaN(v) ? undefined(sums, drops) : "");
  }

  /**
   * Region perturbation (Samek, Binder, Montavon, Lapuschkin &amp; Müller, "Evaluating the visualization of what a deep
   * neural network has learned", IEEE TNNLS 2017), most relevant first (MoRF): the image is tiled into
   * {@code patch_size}² patches (smaller at the right and bottom edges), ordered by attribution sum (ties: row-major
   * first), and patches go to the baseline one at a time, cumulatively. y_k = f(x) − f(x after k patches), f the target
   * logit; value = AOPC = mean of y_0 … y_L over the L patches (eq. 12 for one image). Higher is better.
   */
  public MetricResult regionPerturbation(float[] image, float[] attribution, int target) {
    checkInputs(image, attribution, target);
    float[] base = settings.baseline.of(image, h, w, c);
    int ps = settings.patchSize(h, w);
    int rows = (h + ps - 1) / ps, cols = (w + ps - 1) / ps, patches = rows * cols;
    float[] patchSums = new float[patches];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) patchSums[(y / ps) * cols + x / ps] += attribution[y * w + x];
    }
    int[] order = descendingOrder(patchSums);
    float[] current = image.clone();
    double[][] out = evaluate(patches + 1, (index, buf, off) -> {
      if (index > 0) {
        int p = order[index - 1], py = (p / cols) * ps, px = (p % cols) * ps;
        for (int y = py; y < Math.min(py + ps, h); y++) {
          for (int x = px; x < Math.min(px + ps, w); x++) copyPixel(base, current, 0, y * w + x);
        }
      }
      System.arraycopy(current, 0, buf, off, d);
    }, target, "Region perturbation");
    double[] x = new double[patches + 1];
    double[] y = new double[patches + 1];
    for (int k = 0; k <= patches; k++) {
      x[k] = k;
      y[k] = out[0][0] - out[0][k];
    }
    return new MetricResult(Metric.REGION_PERTURBATION, Stats.mean(y),
        new Curve("patches removed (most relevant first)", "target logit drop", x, y, false), patches + 1, "");
  }

  /**
   * Runs the classifier on {@code count} images from the filler, in batches of {@code batch} images built in one
   * buffer. Returns [0] the target logit and [1] the target's softmax probability of every image.
   */
  private double[][] evaluate(int count, Filler filler, int target, String what) {
    int b = Math.min(settings.batch, count);
    float[] buf = new float[b * d];
    double[][] out = new double[2][count];
    for (int start = 0; start < count; start += b) {
      progress.checkCancelled();
      int n = Math.min(b, count - start);
      for (int i = 0; i < n; i++) filler.fill(start + i, buf, i * d);
      float[][] logits = classifier.logits(n == b ? buf : Arrays.copyOf(buf, n * d), n);
      for (int i = 0; i < n; i++) {
        out[0][start + i] = logits[i][target];
        out[1][start + i] = softmax(logits[i], target);
      }
      progress.report(what + ": " + (start + n) + "/" + count + " images", (double) (start + n) / count);
    }
    return out;
  }

  /** exp(l_t − max) / Σ_k exp(l_k − max), in double. */
  public static double softmax(float[] logits, int target) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) max = Math.max(max, l);
    double sum = 0;
    for (float l : logits) sum += Math.exp(l - max);
    return Math.exp(logits[target] - max) / sum;
  }

  private void copyPixel(float[] src, float[] dst, int off, int p) {
    if (c == 1) dst[off + p] = src[p];
    else System.arraycopy(src, p * c, dst, off + p * c, c);
  }

  /**
   * Indices of {@code v} by descending value, ties by ascending index: one primitive sort of keys that hold the
   * value's order-preserving bits (negated) above the index.
   */
  static int[] descendingOrder(float[] v) {
    long[] keys = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      int bits = Float.floatToIntBits(v[i] == 0 ? 0f : v[i]); // -0 sorts as 0
      int ordered = bits < 0 ? bits ^ 0x7fffffff : bits; // signed int order == float order
      keys[i] = ((long) ~ordered << 32) | i; // ~ reverses the int order; the index breaks ties
    }
    Arrays.sort(keys);
    int[] order = new int[v.length];
    for (int i = 0; i < v.length; i++) order[i] = (int) (keys[i] & 0xffffffffL);
    return order;
  }

  private static int[] identity(int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) a[i] = i;
    return a;
  }

  private void checkInputs(float[] image, float[] attribution, int target) {
    int k = classifier.classNames().size();
    if (target < 0 || target >= k) {
      throw new UserException("target=" + target + " is not a class of the model, which has " + k
          + " classes (0 to " + (k - 1) + "). Give a class index or name.");
    }
    if (image.length != d) {
      throw new UserException("The image has " + image.length + " values but the model takes " + w + "x" + h + " with "
          + c + " channel(s). Resize the image or use another model.");
    }
    if (attribution.length != hw) {
      throw new UserException("The attribution map has " + attribution.length + " pixels but the image has " + hw
          + " (" + w + "x" + h + "). Give a map of the image's size.");
    }
    for (int i = 0; i < hw; i++) {
      if (!Float.isFinite(attribution[i])) {
        throw new UserException("The attribution map has a non-finite value at x=" + (i % w) + ", y=" + (i / w)
            + ". Replace NaN and infinite values (Process > Math > Remove NaNs...).");
      }
    }
  }

  private static String undefined(double[] a, double[] b) {
    boolean ca = constant(a), cb = constant(b);
    return "undefined: " + (ca && cb ? "attribution sums and logit drops are" : ca ? "attribution sums are"
        : "logit drops are") + " all equal";
  }

  private static boolean constant(double[] v) {
    for (double x : v) {
      if (x != v[0]) return false;
    }
    return true;
  }

  private static void check(boolean ok, String message) {
    if (!ok) throw new UserException(message);
  }
}
