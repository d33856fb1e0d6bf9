package org.diffxai.attribution;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.Classifier;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.DifferentiableClassifier.Gradient;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.UserException;

/**
 * Attribution maps of any classifier, engine-free: Saliency, Gradient × Input, Integrated Gradients, SmoothGrad,
 * Grad-CAM (these need a {@link DifferentiableClassifier}) and Occlusion (any {@link Classifier}). Images are n·H·W·C
 * values in image intensity (NHWC); every map is H·W values, one per pixel; the objective f (a class logit, its
 * log-probability or a prototype's score) is chosen per image. Work is batched: a method that needs m gradient
 * evaluations per image makes about n·m/32 classifier calls of 32 images. Formulas, defaults and citations:
 * docs/attributions.md.
 */
public final class Attributions {
  /** Values per chunk of inputs built at once (16 MB of floats); at least one classifier batch is built. */
  private static final int CHUNK_VALUES = 1 << 22;

  static final String MAX_ABS = "max over channels of |value| (Simonyan et al. 2014)";
  static final String SUM = "sum over channels (keeps completeness)";

  private Attributions() {}

  /**
   * One method on n images.
   *
   * @param model how the model is called in messages
   * @throws UserException when the method needs gradients and the classifier cannot give them, or a setting is invalid
   */
  public static AttributionResult compute(AttributionMethod method, Classifier c, String model, float[] x, int n,
      Objective objective, AttributionSettings s, Progress progress) {
    Progress p = progress == null ? Progress.NONE : progress;
    s.check(c.height(), c.width());
    checkImages(c, x, n);
    if (method == AttributionMethod.OCCLUSION) return Occlusion.compute(c, model, x, n, objective, s, p);
    DifferentiableClassifier d = differentiable(c, method, model);
    switch (method) {
      case SALIENCY:
        return saliency(d, x, n, objective, p);
      case GRADIENT_X_INPUT:
        return gradientTimesInput(d, x, n, objective, p);
      case INTEGRATED_GRADIENTS:
        return IntegratedGradients.compute(d, model, x, n, objective, s, p);
      case SMOOTHGRAD:
        return SmoothGrad.compute(d, model, x, n, objective, s, p, null);
      case GRAD_CAM:
        return GradCam.compute(d, x, n, objective, p);
      default:
        throw new AssertionError(method);
    }
  }

  /**
   * The maps of one method explaining each image's class logit, for scoring and comparing methods (the {@code methods}
   * key of Compare Explanation Methods, Faithfulness Score with a method, the model-randomisation check on a
   * re-initialised network).
   *
   * @param images one plane per image, the model's size and channels (NHWC planes)
   * @param targets the class of each image (e.g. the predicted class of the real network)
   * @return [image][H·W]
   */
  public static float[][] classMaps(AttributionMethod method, Classifier c, String model, float[][] images,
      int[] targets, AttributionSettings s, Progress progress) {
    int n = images.length, px = c.height() * c.width() * c.channels();
    float[] x = new float[n * px];
    for (int i = 0; i < n; i++) {
      if (images[i].length != px) {
        throw new IllegalArgumentException("image " + i + " has " + images[i].length + " values, not " + px);
      }
      System.arraycopy(images[i], 0, x, i * px, px);
    }
    return compute(method, c, model, x, n, new Objective(Kind.LOGIT, targets), s, progress).maps;
  }

  /**
   * Saliency (Simonyan, Vedaldi &amp; Zisserman, "Deep inside convolutional networks", ICLR workshop 2014, §3.1):
   * M = max over channels of |∂f/∂x|. One gradient evaluation per image.
   */
  public static AttributionResult saliency(DifferentiableClassifier c, float[] x, int n, Objective o, Progress p) {
    checkImages(c, x, n);
    p.report("Saliency", 0);
    Gradient g = c.gradient(x, n, o);
    int hw = c.height() * c.width(), ch = c.channels();
    return new AttributionResult(AttributionMethod.SALIENCY, c.width(), c.height(), maxAbs(g.gradient, n, hw, ch),
        g.values, new LinkedHashMap<>(), MAX_ABS, n);
  }

  /**
   * Gradient × Input (Shrikumar, Greenside, Shcherbina &amp; Kundaje 2016, arXiv:1605.01713): M = Σ_channels x ⊙ ∂f/∂x,
   * signed, with x in image intensity (so its zero, black, is the implicit reference). One gradient evaluation per
   * image.
   */
  public static AttributionResult gradientTimesInput(DifferentiableClassifier c, float[] x, int n, Objective o,
      Progress p) {
    checkImages(c, x, n);
    p.report("Gradient x Input", 0);
    Gradient g = c.gradient(x, n, o);
    float[] prod = new float[x.length];
    for (int i = 0; i < prod.length; i++) prod[i] = x[i] * g.gradient[i];
    int hw = c.height() * c.width(), ch = c.channels();
    Map<String, double[]> numbers = new LinkedHashMap<>();
    numbers.put("attribution_sum", sums(sum(prod, n, hw, ch)));
    return new AttributionResult(AttributionMethod.GRADIENT_X_INPUT, c.width(), c.height(), sum(prod, n, hw, ch),
        g.values, numbers, SUM, n);
  }

  // ---------------------------------------------------------------------------------------------- shared helpers

  /** The classifier as a differentiable one, or a message naming what still works. */
  static DifferentiableClassifier differentiable(Classifier c, AttributionMethod m, String model) {
    if (c instanceof DifferentiableClassifier) return (DifferentiableClassifier) c;
    throw new UserException("Model " + model + " gives no gradients, so " + m.key() + " cannot be computed. Use "
        + "method=occlusion, which needs none, or the perturbation metrics (Faithfulness Score).");
  }

  static void checkImages(Classifier c, float[] x, int n) {
    long px = (long) c.height() * c.width() * c.channels();
    if (n < 1 || x == null || x.length != n * px) {
      throw new IllegalArgumentException("need n*H*W*C = " + n + "*" + px + " values, got "
          + (x == null ? "null" : x.length));
    }
  }

  /** Builds input {@code item} into {@code buf} at {@code off}; called with items in increasing order. */
  interface Inputs {
    void fill(int item, float[] buf, int off);
  }

  /** Receives the value and gradient of input {@code item} ({@code grad} from {@code off}, H·W·C values). */
  interface Sink {
    void accept(int item, float value, float[] grad, int off);
  }

  /** Receives chunk {@code [start, start + m)} of the inputs, built in {@code buf}. */
  interface Chunk {
    void accept(int start, int m, float[] buf);
  }

  /**
   * Builds {@code count} inputs of px values in chunks of up to {@link #CHUNK_VALUES} values (at least 32 inputs) and
   * hands each chunk on; reports progress and checks for cancellation per chunk.
   */
  static void inChunks(int count, int px, Inputs in, Chunk body, Progress p, String what) {
    int chunk = Math.max(32, CHUNK_VALUES / px);
    float[] buf = new float[Math.min(chunk, count) * px];
    for (int start = 0; start < count; start += chunk) {
      p.checkCancelled();
      int m = Math.min(chunk, count - start);
      for (int j = 0; j < m; j++) in.fill(start + j, buf, j * px);
      body.accept(start, m, m * px == buf.length ? buf : java.util.Arrays.copyOf(buf, m * px));
      p.report(String.format(Locale.ROOT, "%s: %d/%d", what, start + m, count), (double) (start + m) / count);
    }
  }

  /**
   * The gradients of {@code count} inputs built on the fly, in chunks of many classifier batches, each with the
   * objective index {@code index[item / per]} (per inputs per image).
   */
  static void gradients(DifferentiableClassifier c, Kind kind, int[] index, int per, int count, Inputs in, Sink out,
      Progress p, String what) {
    int px = c.height() * c.width() * c.channels();
    inChunks(count, px, in, (start, m, buf) -> {
      int[] idx = new int[m];
      for (int j = 0; j < m; j++) idx[j] = index[(start + j) / per];
      Gradient g = c.gradient(buf, m, new Objective(kind, idx));
      for (int j = 0; j < m; j++) out.accept(start + j, g.values[j], g.gradient, j * px);
    }, p, what + " gradients");
  }

  /**
   * The objective of n images from forward passes only: logits (and their log-softmax) for class objectives, the
   * scores of a {@link PrototypeClassifier} for prototype objectives.
   */
  static float[] values(Classifier c, float[] x, int n, Objective o, String model) {
    if (o.kind == Kind.PROTOTYPE_SCORE) {
      if (!(c instanceof PrototypeClassifier)) {
        throw new UserException("Model " + model + " is not a prototype network, so it has no prototype scores. "
            + "Explain a class (logit or log-probability) instead.");
      }
      float[][] s = ((PrototypeClassifier) c).activations(x, n).scores;
      float[] v = new float[n];
      for (int i = 0; i < n; i++) v[i] = s[i][o.index[i]];
      return v;
    }
    float[][] logits = c.logits(x, n);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      float[] l = logits[i];
      v[i] = o.kind == Kind.LOGIT ? l[o.index[i]] : (float) logSoftmax(l, o.index[i]);
    }
    return v;
  }

  /** log(exp(l_t) / Σ_k exp(l_k)), in double. */
  static double logSoftmax(float[] l, int t) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : l) max = Math.max(max, v);
    double s = 0;
    for (float v : l) s += Math.exp(v - max);
    return l[t] - max - Math.log(s);
  }

  /** [n][hw]: max over channels of |v|. */
  static float[][] maxAbs(float[] v, int n, int hw, int c) {
    float[][] out = new float[n][hw];
    for (int i = 0; i < n; i++) {
      for (int q = 0; q < hw; q++) {
        float m = 0;
        for (int ch = 0; ch < c; ch++) m = Math.max(m, Math.abs(v[(i * hw + q) * c + ch]));
        out[i][q] = m;
      }
    }
    return out;
  }

  /** [n][hw]: sum over channels. */
  static float[][] sum(float[] v, int n, int hw, int c) {
    float[][] out = new float[n][hw];
    for (int i = 0; i < n; i++) {
      for (int q = 0; q < hw; q++) {
        double s = 0;
        for (int ch = 0; ch < c; ch++) s += v[(i * hw + q) * c + ch];
        out[i][q] = (float) s;
      }
    }
    return out;
  }

  /** Σ of each map, in double. */
  static double[] sums(float[][] maps) {
    double[] s = new double[maps.length];
    for (int i = 0; i < maps.length; i++) {
      for (float v : maps[i]) s[i] += v;
    }
    return s;
  }
}
