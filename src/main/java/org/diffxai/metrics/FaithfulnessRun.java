package org.diffxai.metrics;

import com.google.gson.GsonBuilder;
import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Plot;
import ij.measure.ResultsTable;
import ij.process.ImageProcessor;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.diffxai.Version;
import org.diffxai.core.Classifier;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.UserException;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Csv;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;

/**
 * One {@code Faithfulness Score} run on a loaded classifier: the chosen metrics for every image of a stack, a results
 * table (one row per image and metric, plus the mean with a bootstrap 95 % interval when there are several images),
 * the curves as ImageJ plots and, with an output directory, {@code faithfulness.csv}, {@code faithfulness_curves.csv},
 * {@code faithfulness.json} and one {@code faithfulness_<metric>.png} per plotted metric — all written only when
 * everything is computed, each to a temporary name renamed into place.
 */
public final class FaithfulnessRun {

  public static final String TABLE_FILE = "faithfulness.csv";
  public static final String CURVES_FILE = "faithfulness_curves.csv";
  public static final String PROVENANCE_FILE = "faithfulness.json";
  /** The value of the attribution key that scores a prototype network's own explanation. */
  public static final String PROTOTYPES = "prototypes";
  public static final String ALL = "all";
  /** Bootstrap resamples of the summary rows. */
  public static final int BOOTSTRAP_RESAMPLES = 2000;

  /** What to score. Field names follow the command's keys. */
  public static final class Request {
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
    /** Output directory, or null. */
    public Path output;
  }

  /** A loaded classifier with its name and the provenance of its bundle. */
  public static final class Model {
    public final Classifier classifier;
    public final String name;
    public final Map<String, String> provenance;

    public Model(Classifier classifier, String name, Map<String, String> provenance) {
      this.classifier = classifier;
      this.name = name;
      this.provenance = provenance;
    }
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

  /** What a run produced. */
  public static final class Result {
    public List<ImageResult> images;
    public ResultsTable table;
    /** One plot per metric with a curve (all images overlaid), as an RGB stack; null when no metric has one. */
    public ImagePlus curves;
    public Map<String, String> provenance;
  }

  private FaithfulnessRun() {}

  public static Result run(Request r, Model m, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    if (r.output != null) AtomicFiles.ensureDirectory(r.output);
    Classifier c = m.classifier;
    int h = c.height(), w = c.width(), ch = c.channels(), d = h * w * ch;
    checkStack(r.image, r.imageName, "image", w, h, ch, m.name);
    ImageReaders.requireFinite(r.image, Paths.get(r.imageName));
    int n = r.image.sampleCount();
    PrototypeClassifier pc = c instanceof PrototypeClassifier ? (PrototypeClassifier) c : null;
    Set<Metric> metrics = selectMetrics(r, pc != null, m.name);
    if (r.prototypeAttribution && pc == null) {
      throw new UserException("attribution=" + PROTOTYPES + " scores a prototype network's own explanation, but model "
          + m.name + " is not a prototype network. Give an attribution map (an open image or a file) instead.");
    }
    float[][] maps = r.attribution == null ? null : attributionMaps(r, n, w, h);
    r.settings.check(h, w);
    List<String> classes = c.classNames();
    int fixedTarget = PrototypeExplainer.targetIndex(r.target, classes, m.name);
    float[] all = r.image.toNHWC();
    int[] targets = targets(c, all, n, fixedTarget, r.settings.batch);

    boolean explain = pc != null && (r.prototypeAttribution || metrics.contains(Metric.PROTOTYPE_PERTURBATION));
    PrototypeExplainer explainer = explain ? new PrototypeExplainer(pc, m.name) : null;
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
            cancelOnly(progress)).get(0);
      }
      float[] a = r.prototypeAttribution ? PrototypeAttribution.map(e, w, h) : maps == null ? null : maps[i];
      for (int k = 0; k < perImage.size(); k++) {
        Metric mt = perImage.get(k);
        Progress sub = sub(progress, "Image " + (i + 1) + "/" + n + ", ", (double) (i * perImage.size() + k)
            / (n * perImage.size()), 1.0 / (n * perImage.size()));
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
    if (metrics.contains(Metric.NIS)) addNis(r, pc, m.name, all, n, results);
    progress.checkCancelled();

    Result res = new Result();
    res.images = results;
    res.provenance = provenance(r, m, metrics, n, top);
    res.table = table(r, results, classes);
    res.curves = curves(results, r.imageName);
    if (res.curves != null) res.curves.setProperty("Info", infoText(res.provenance));
    if (r.output != null) write(r.output, res);
    progress.report("Scored " + n + " image" + (n == 1 ? "" : "s"), 1);
    return res;
  }

  /** The metrics the request asks for and the inputs allow, in the order of {@link Metric}. */
  static Set<Metric> selectMetrics(Request r, boolean prototypeModel, String model) {
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
  private static float[][] attributionMaps(Request r, int n, int w, int h) {
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

  private static void addNis(Request r, PrototypeClassifier pc, String model, float[] all, int n,
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

  static ResultsTable table(Request r, List<ImageResult> results, List<String> classes) {
    ResultsTable rt = new ResultsTable();
    List<Metric> order = new ArrayList<>();
    for (ImageResult ir : results) {
      for (MetricResult mr : ir.metrics) {
        if (!order.contains(mr.metric)) order.add(mr.metric);
        row(rt, r.imageName, Integer.toString(ir.index + 1), classes.get(ir.target), mr.metric.key(), mr.value, "",
            "", mr.forwards, mr.note);
      }
    }
    if (results.size() > 1) {
      for (Metric mt : order) {
        double[] v = new double[results.size()];
        int k = 0, forwards = 0;
        boolean sameTarget = true;
        for (ImageResult ir : results) {
          sameTarget &= ir.target == results.get(0).target;
          for (MetricResult mr : ir.metrics) {
            if (mr.metric != mt) continue;
            forwards += mr.forwards;
            if (!Double.isNaN(mr.value)) v[k++] = mr.value;
          }
        }
        String target = sameTarget ? classes.get(results.get(0).target) : "per image";
        if (k == 0) {
          row(rt, r.imageName, "mean", target, mt.key(), Double.NaN, "", "", forwards, "undefined on every image");
          continue;
        }
        Bootstrap.Interval ci = Bootstrap.meanCi(Arrays.copyOf(v, k), BOOTSTRAP_RESAMPLES, 0.95, r.seed);
        row(rt, r.imageName, "mean", target, mt.key(), ci.mean, ci.low, ci.high, forwards, "mean of " + k + " of "
            + results.size() + " images; percentile bootstrap 95 % CI, " + BOOTSTRAP_RESAMPLES + " resamples");
      }
    }
    rt.setDecimalPlaces(rt.getColumnIndex("value"), 6);
    return rt;
  }

  private static void row(ResultsTable rt, String image, String slice, String target, String metric, double value,
      Object low, Object high, int forwards, String note) {
    rt.incrementCounter();
    rt.addValue("image", image);
    rt.addValue("slice", slice);
    rt.addValue("target", target);
    rt.addValue("metric", metric);
    rt.addValue("value", value);
    cell(rt, "ci_low", low);
    cell(rt, "ci_high", high);
    rt.addValue("forwards", forwards);
    rt.addValue("note", note);
  }

  private static void cell(ResultsTable rt, String col, Object v) {
    if (v instanceof Double) rt.addValue(col, (Double) v);
    else rt.addValue(col, String.valueOf(v));
  }

  private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
      new Color(0x9467bd), new Color(0xff7f0e), new Color(0x17becf), new Color(0x8c564b), new Color(0xe377c2)};

  /** One plot per metric that has a curve, every image in its own colour (legend up to 8 images). */
  static ImagePlus curves(List<ImageResult> results, String imageName) {
    ImageStack stack = null;
    for (Metric mt : Metric.values()) {
      Plot plot = null;
      StringBuilder legend = new StringBuilder();
      double[] lim = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY,
          Double.NEGATIVE_INFINITY};
      for (ImageResult ir : results) {
        for (MetricResult mr : ir.metrics) {
          if (mr.metric != mt || mr.curve == null) continue;
          Curve cv = mr.curve;
          if (plot == null) plot = new Plot(mt.key() + " — " + imageName, cv.xLabel, cv.yLabel);
          plot.setColor(PALETTE[ir.index % PALETTE.length]);
          plot.addPoints(cv.x, cv.y, cv.scatter ? Plot.CIRCLE : Plot.LINE);
          legend.append(legend.length() == 0 ? "" : "\n").append("slice ").append(ir.index + 1);
          for (int i = 0; i < cv.x.length; i++) {
            if (!Double.isFinite(cv.y[i])) continue;
            lim[0] = Math.min(lim[0], cv.x[i]);
            lim[1] = Math.max(lim[1], cv.x[i]);
            lim[2] = Math.min(lim[2], cv.y[i]);
            lim[3] = Math.max(lim[3], cv.y[i]);
          }
        }
      }
      if (plot == null) continue;
      if (mt == Metric.DELETION || mt == Metric.INSERTION) lim = new double[] {0, 1, 0, 1};
      double px = pad(lim[0], lim[1]), py = pad(lim[2], lim[3]);
      if (Double.isFinite(lim[0])) plot.setLimits(lim[0] - px, lim[1] + px, lim[2] - py, lim[3] + py);
      if (results.size() <= PALETTE.length) plot.addLegend(legend.toString());
      ImageProcessor ip = plot.getProcessor().convertToRGB();
      if (stack == null) stack = new ImageStack(ip.getWidth(), ip.getHeight());
      if (ip.getWidth() == stack.getWidth() && ip.getHeight() == stack.getHeight()) stack.addSlice(mt.key(), ip);
    }
    return stack == null ? null : new ImagePlus("Faithfulness Curves", stack);
  }

  private static double pad(double lo, double hi) {
    double span = hi - lo;
    return span > 0 ? 0.04 * span : Math.max(1e-9, 0.05 * Math.abs(hi));
  }

  /** Every curve point: image, slice, metric, point, x, y. */
  static String curvesCsv(Result res, String imageName) {
    StringBuilder sb = new StringBuilder("image,slice,metric,point,x,y\n");
    String name = imageName.matches("[^,\"\n]*") ? imageName : '"' + imageName.replace("\"", "\"\"") + '"';
    for (ImageResult ir : res.images) {
      for (MetricResult mr : ir.metrics) {
        if (mr.curve == null) continue;
        for (int i = 0; i < mr.curve.x.length; i++) {
          sb.append(name).append(',').append(ir.index + 1).append(',').append(mr.metric.key()).append(',').append(i)
              .append(',').append(mr.curve.x[i]).append(',').append(mr.curve.y[i]).append('\n');
        }
      }
    }
    return sb.toString();
  }

  private static Map<String, String> provenance(Request r, Model m, Set<Metric> metrics, int n, int top) {
    Classifier c = m.classifier;
    FaithfulnessMetrics.Settings s = r.settings.resolved(c.height(), c.width());
    Map<String, String> p = new LinkedHashMap<>();
    p.put("software", "Diffusion XAI for Fiji " + Version.get());
    p.put("command", "Faithfulness Score");
    p.put("date", OffsetDateTime.now().toString());
    p.putAll(m.provenance);
    if (c instanceof PrototypeClassifier) p.put("method", ((PrototypeClassifier) c).method());
    p.put("image", r.imageName);
    p.put("image_size", c.width() + "x" + c.height() + "x" + c.channels());
    p.put("images", Integer.toString(n));
    p.put("attribution", r.prototypeAttribution ? PROTOTYPES + ": sum over all prototypes of contribution x"
        + " similarity map (bicubic, scaled to peak 1)" : r.attribution == null ? "" : r.attributionName);
    p.put("target", r.target == null || r.target.trim().isEmpty() ? "predicted class" : r.target.trim());
    StringBuilder ms = new StringBuilder();
    for (Metric mt : metrics) ms.append(ms.length() == 0 ? "" : ",").append(mt.key());
    p.put("metrics", ms.toString());
    p.put("baseline", s.baseline.key());
    p.put("blur_sigma", String.format(Locale.ROOT, "%.4g", Baseline.blurSigma(c.height(), c.width())));
    p.put("insertion_start", "blur (Gaussian, sigma = blur_sigma)");
    p.put("runs", Integer.toString(s.runs));
    p.put("subset_size", Integer.toString(s.subsetSize));
    p.put("step", Integer.toString(s.step));
    p.put("patch_size", Integer.toString(s.patchSize));
    p.put("seed", Long.toString(r.seed));
    p.put("random_subsets", "image i draws its subsets from SplitMix64(GaussianNoise.streamSeed(seed, i))");
    p.put("bootstrap", "mean of the images' values, percentile 95 % CI, " + BOOTSTRAP_RESAMPLES
        + " resamples, SplitMix64(seed)");
    if (top > 0) p.put("top", Integer.toString(top));
    if (metrics.contains(Metric.NIS)) {
      p.put("nis_features", "global average of the prototype network's latent features");
      p.put("nis_references", r.references == null ? "prototype vectors" : r.referencesName);
    }
    p.put("batch", Integer.toString(s.batch));
    p.put("units", "image intensity (the bundle's intensity mapping is applied by the classifier)");
    return p;
  }

  private static String infoText(Map<String, String> prov) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : prov.entrySet()) sb.append(e.getKey()).append(" = ").append(e.getValue())
        .append('\n');
    return sb.toString();
  }

  /** Every file to a temporary name first, then all renamed into place: none appears unless all were written. */
  private static void write(Path dir, Result res) {
    List<AtomicFiles.Pending> files = new ArrayList<>();
    try {
      AtomicFiles.Pending csv = add(files, dir.resolve(TABLE_FILE));
      AtomicFiles.Pending curves = add(files, dir.resolve(CURVES_FILE));
      AtomicFiles.Pending json = add(files, dir.resolve(PROVENANCE_FILE));
      try {
        Files.write(csv.temp(), Csv.of(res.table).getBytes(StandardCharsets.UTF_8));
        Files.write(curves.temp(), curvesCsv(res, res.provenance.get("image")).getBytes(StandardCharsets.UTF_8));
        Files.write(json.temp(), (new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create()
            .toJson(res.provenance) + "\n").getBytes(StandardCharsets.UTF_8));
        if (res.curves != null) {
          ImageStack st = res.curves.getStack();
          for (int i = 1; i <= st.getSize(); i++) {
            AtomicFiles.Pending png = add(files, dir.resolve("faithfulness_" + st.getSliceLabel(i) + ".png"));
            if (!ImageIO.write(st.getProcessor(i).getBufferedImage(), "png", png.temp().toFile())) {
              throw new IOException("no PNG writer");
            }
          }
        }
      } catch (IOException e) {
        throw AtomicFiles.cannotWrite(dir, e);
      }
      for (AtomicFiles.Pending f : files) f.commit();
    } finally {
      for (AtomicFiles.Pending f : files) f.close();
    }
  }

  private static AtomicFiles.Pending add(List<AtomicFiles.Pending> files, Path target) {
    AtomicFiles.Pending p = AtomicFiles.begin(target);
    files.add(p);
    return p;
  }

  /** Reports nothing, but passes cancellation through. */
  private static Progress cancelOnly(Progress p) {
    return new Progress() {
      @Override
      public void report(String message, double fraction) {}

      @Override
      public boolean isCancelled() {
        return p.isCancelled();
      }
    };
  }

  /** Maps a step's fraction into [offset, offset + span] of the run, with a prefix. */
  private static Progress sub(Progress p, String prefix, double offset, double span) {
    return new Progress() {
      @Override
      public void report(String message, double fraction) {
        p.report(prefix + message, offset + span * fraction);
      }

      @Override
      public boolean isCancelled() {
        return p.isCancelled();
      }
    };
  }
}
