package org.diffxai.metrics;

import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.diffxai.core.ClassNames;
import org.diffxai.core.Classifier;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.UserException;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;

/**
 * The faithfulness metrics of a classifier's explanation on a stack of images (docs/faithfulness.md): the chosen
 * metrics for every image, for a given attribution map or a prototype network's own map. Engine-free; the
 * {@code Faithfulness Score} and {@code Compare Explanation Methods} runs build their tables, plots and files on it.
 */
public final class FaithfulnessScoring {

  /** The value of the attribution key that scores a prototype network's own explanation. */
  public static final String PROTOTYPES = "prototypes";
  public static final String ALL = "all";
  /** Bootstrap resamples of the summary rows. */
  public static final int BOOTSTRAP_RESAMPLES = 2000;

  /** What to score. */
  public static final class Job {
    /** The images: every slice and frame is one image of the model's channels. */
    public FloatStack image;
    public String imageName = "";
    /** One map per image (channels are summed), or null. */
    public FloatStack attribution;
    /** Title or file of the attribution, or {@link #PROTOTYPES}. */
    public String attributionName = "";
    /** Score the prototype network's own attribution map ({@link PrototypeAttribution}) instead of a given one. */
    public boolean prototypeAttribution;
    /** Class name or index; empty = each image's predicted class. */
    public String target = "";
    /** A {@link Metric} key or {@link #ALL}. */
    public String metric = ALL;
    public FaithfulnessMetrics.Settings settings = new FaithfulnessMetrics.Settings();
    public long seed = 0;
    /** Prototypes tested by prototype perturbation (at most the model's). */
    public int top = 10;
    /** Images whose pooled features are the NIS references, or null for the prototype vectors. */
    public FloatStack references;
    public String referencesName = "";
  }

  /** The metrics of one image. */
  public static final class ImageResult {
    /** 0-based image (slice) index. */
    public final int index;
    public final int target;
    public final List<MetricResult> metrics = new ArrayList<>();

    ImageResult(int index, int target) {
      this.index = index;
      this.target = target;
    }
  }

  /** What a scoring produced: per image results, the metrics run, and how many prototypes were tested. */
  public static final class Scores {
    public final List<ImageResult> images;
    public final Set<Metric> metrics;
    public final int top;

    Scores(List<ImageResult> images, Set<Metric> metrics, int top) {
      this.images = images;
      this.metrics = metrics;
      this.top = top;
    }
  }

  private FaithfulnessScoring() {}

  /**
   * Scores every image.
   *
   * @param name the model's name, for messages
   */
  public static Scores score(Job r, Classifier c, String name, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    int h = c.height(), w = c.width(), ch = c.channels(), d = h * w * ch;
    checkStack(r.image, r.imageName, "image", w, h, ch, name);
    ImageReaders.requireFinite(r.image, Paths.get(r.imageName));
    int n = r.image.sampleCount();
    PrototypeClassifier pc = c instanceof PrototypeClassifier ? (PrototypeClassifier) c : null;
    Set<Metric> metrics = selectMetrics(r, pc != null, name);
    if (r.prototypeAttribution && pc == null) {
      throw new UserException("attribution=" + PROTOTYPES + " scores a prototype network's own explanation, but model "
          + name + " is not a prototype network. Give an attribution map (an open image or a file) instead.");
    }
    float[][] maps = r.attribution == null ? null : attributionMaps(r, n, w, h);
    r.settings.check(h, w);
    List<String> classes = c.classNames();
    int fixedTarget = ClassNames.target(classes, r.target, name);
    float[] all = r.image.toNHWC();
    int[] targets = targets(c, all, n, fixedTarget, r.settings.batch);

    boolean explain = pc != null && (r.prototypeAttribution || metrics.contains(Metric.PROTOTYPE_PERTURBATION));
    PrototypeExplainer explainer = explain ? new PrototypeExplainer(pc, name) : null;
    if (pc != null && r.top < 1) throw new UserException("top=" + r.top + ": test at least 1 prototype.");
    int top = pc == null ? 0 : Math.min(r.top, pc.prototypes());
    List<Metric> perImage = new ArrayList<>();
    for (Metric mt : metrics) {
      if (mt != Metric.NIS) perImage.add(mt);
    }

    List<ImageResult> results = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      float[] x = Arrays.copyOfRange(all, i * d, (i + 1) * d);
      ImageResult ir = new ImageResult(i, targets[i]);
      Explanation e = null;
      if (explainer != null) {
        FloatStack one = new FloatStack(w, h, 1, 1, 1, new float[][] {x}, null);
        e = explainer.explain(one, r.prototypeAttribution ? pc.prototypes() : top, targets[i], 1, r.imageName,
            progress.silent()).get(0);
      }
      float[] a = r.prototypeAttribution ? PrototypeAttribution.map(e, w, h) : maps == null ? null : maps[i];
      for (int k = 0; k < perImage.size(); k++) {
        Metric mt = perImage.get(k);
        double from = (double) (i * perImage.size() + k) / (n * perImage.size());
        Progress sub = progress.sub(from, from + 1.0 / (n * perImage.size()), "Image " + (i + 1) + "/" + n + ", ");
        if (mt == Metric.PROTOTYPE_PERTURBATION) {
          int[] protos = new int[top];
          int[][] boxes = new int[top][];
          for (int j = 0; j < top; j++) {
            protos[j] = e.top.get(j).prototype;
            boxes[j] = e.top.get(j).box;
          }
          ir.metrics.addAll(PrototypePerturbation.compute(pc, x, targets[i], protos, boxes, r.settings.baseline,
              r.settings.batch, sub));
        } else {
          FaithfulnessMetrics one = new FaithfulnessMetrics(c, r.settings, sub);
          ir.metrics.add(one.compute(mt, x, a, targets[i], GaussianNoise.streamSeed(r.seed, i)));
        }
      }
      results.add(ir);
    }
    if (metrics.contains(Metric.NIS)) addNis(r, pc, name, all, n, results);
    progress.checkCancelled();

    progress.report("Scored " + n + " image" + (n == 1 ? "" : "s"), 1);
    return new Scores(results, metrics, top);
  }

  /** The metrics the request asks for and the inputs allow, in the order of {@link Metric}. */
  public static Set<Metric> selectMetrics(Job r, boolean prototypeModel, String model) {
    boolean haveMap = r.attribution != null || r.prototypeAttribution;
    String key = r.metric == null ? ALL : r.metric.trim();
    Set<Metric> out = EnumSet.noneOf(Metric.class);
    if (key.equalsIgnoreCase(ALL)) {
      for (Metric mt : Metric.values()) {
        if (mt == Metric.PROTOTYPE_SIMILARITY_DROP) continue; // computed with prototype_perturbation
        if (mt.needsAttribution ? haveMap : prototypeModel) out.add(mt);
      }
      if (out.isEmpty()) {
        throw new UserException("Nothing to score: model " + model + " is not a prototype network, so every metric"
            + " needs an attribution map. Give attribution= (an open image or a file of the image's size).");
      }
      return out;
    }
    Metric mt = Metric.of(key);
    if (mt == null || mt == Metric.PROTOTYPE_SIMILARITY_DROP) {
      StringBuilder valid = new StringBuilder(ALL);
      for (Metric v : Metric.values()) {
        if (v != Metric.PROTOTYPE_SIMILARITY_DROP) valid.append(", ").append(v.key());
      }
      throw new UserException("metric=" + key + " is not a metric. Use one of " + valid + ".");
    }
    if (mt.needsAttribution && !haveMap) {
      throw new UserException("metric=" + mt.key() + " scores an attribution map: give attribution= (an open image or"
          + " a file of the image's size" + (prototypeModel ? ", or " + PROTOTYPES + " for the model's own map)."
          : ")."));
    }
    if (!mt.needsAttribution && !prototypeModel) {
      throw new UserException("metric=" + mt.key() + " needs a prototype network, but model " + model + " is not one."
          + " Use a prototype bundle, or one of the attribution metrics.");
    }
    out.add(mt);
    return out;
  }

  private static void checkStack(FloatStack s, String name, String key, int w, int h, int ch, String model) {
    if (s.width != w || s.height != h || s.channels != ch) {
      throw new UserException("The " + key + " " + name + " is " + s.width + "x" + s.height + " with " + s.channels
          + " channel(s) but model " + model + " takes " + w + "x" + h + " with " + ch + " channel(s). Resize it"
          + " (Image > Adjust > Size...) or choose the matching model.");
    }
  }

  /** One map per image: the attribution's channels summed; one slice per image. */
  private static float[][] attributionMaps(Job r, int n, int w, int h) {
    FloatStack a = r.attribution;
    if (a.width != w || a.height != h) {
      throw new UserException("The attribution " + r.attributionName + " is " + a.width + "x" + a.height + " but the"
          + " image is " + w + "x" + h + ". Give a map of the image's size.");
    }
    if (a.sampleCount() != n) {
      throw new UserException("The attribution " + r.attributionName + " has " + a.sampleCount() + " slice(s) for "
          + n + " image(s). Give one map per image (a stack with the image's slices).");
    }
    float[][] maps = new float[n][w * h];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < a.channels; k++) {
        float[] p = a.plane(i * a.channels + k);
        for (int j = 0; j < p.length; j++) maps[i][j] += p[j];
      }
    }
    return maps;
  }

  /** The fixed target for every image, or each image's predicted class (one batched pass). */
  private static int[] targets(Classifier c, float[] all, int n, int fixed, int batch) {
    int[] t = new int[n];
    if (fixed >= 0) {
      Arrays.fill(t, fixed);
      return t;
    }
    int d = c.height() * c.width() * c.channels();
    for (int start = 0; start < n; start += batch) {
      int b = Math.min(batch, n - start);
      float[][] l = c.logits(Arrays.copyOfRange(all, start * d, (start + b) * d), b);
      for (int i = 0; i < b; i++) {
        int best = 0;
        for (int k = 1; k < l[i].length; k++) if (l[i][k] > l[i][best]) best = k;
        t[start + i] = best;
      }
    }
    return t;
  }

  private static void addNis(Job r, PrototypeClassifier pc, String model, float[] all, int n,
      List<ImageResult> results) {
    int batch = r.settings.batch;
    float[][] gen = Nis.pooledFeatures(pc, all, n, batch);
    float[][] refs;
    String note;
    if (r.references != null) {
      checkStack(r.references, r.referencesName, "references", pc.width(), pc.height(), pc.channels(), model);
      ImageReaders.requireFinite(r.references, Paths.get(r.referencesName));
      int m = r.references.sampleCount();
      refs = Nis.pooledFeatures(pc, r.references.toNHWC(), m, batch);
      note = "references: pooled features of " + m + " images (" + r.referencesName + ")";
    } else {
      refs = pc.prototypeVectors();
      note = "references: the " + refs.length + " prototype vectors";
    }
    double[] v = Nis.perImage(gen, refs);
    for (int i = 0; i < n; i++) results.get(i).metrics.add(new MetricResult(Metric.NIS, v[i], null, 1, note));
  }
}
