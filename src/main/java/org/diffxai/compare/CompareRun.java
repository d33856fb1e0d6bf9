package org.diffxai.compare;

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
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.diffxai.Version;
import org.diffxai.compare.ModelRandomization.Stage;
import org.diffxai.core.Classifier;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Csv;
import org.diffxai.io.FloatStack;
import org.diffxai.metrics.Bootstrap;
import org.diffxai.metrics.FaithfulnessMetrics;
import org.diffxai.metrics.FaithfulnessRun;
import org.diffxai.metrics.Metric;
import org.diffxai.metrics.MetricResult;

/**
 * One {@code Compare Explanation Methods} run: the same images through several prototype networks, each scored by the
 * faithfulness metrics on its own explanation ({@link FaithfulnessRun} with the network's own map), with two
 * controls — a random attribution map scored on the same network, and the model-randomisation check of Adebayo et
 * al. 2018 ({@link ModelRandomization}: how similar the explanation of a re-initialised copy of the network is to the
 * real one). Every (model, method, metric) becomes one row: the mean over the images with its percentile-bootstrap 95 %
 * interval and n; plus a bar plot per metric and, with an output directory, {@code compare.csv},
 * {@code compare_images.csv} (every image's value), {@code compare.json} and {@code compare_<metric>.png}, all written
 * only when everything is computed.
 */
public final class CompareRun {

  public static final String TABLE_FILE = "compare.csv";
  public static final String IMAGES_FILE = "compare_images.csv";
  public static final String PROVENANCE_FILE = "compare.json";
  /** The method name of the random-attribution control. */
  public static final String RANDOM = "random";
  /** Prefix of the method names of the model-randomisation control, followed by the stage key. */
  public static final String RANDOMIZED = "randomized_";

  /** What to compare. Field names follow the command's keys. */
  public static final class Request {
    /** One channel; every slice and frame is one image. */
    public FloatStack images;
    public String imagesName = "";
    /** Where the images came from (e.g. the synthesis run that made them), recorded with the results. */
    public Map<String, String> imagesProvenance = new LinkedHashMap<>();
    /** A {@link Metric} key or {@code all}. */
    public String metric = FaithfulnessRun.ALL;
    public FaithfulnessMetrics.Settings settings = new FaithfulnessMetrics.Settings();
    /** Bootstrap resamples of every interval. */
    public int bootstrap = FaithfulnessRun.BOOTSTRAP_RESAMPLES;
    public long seed = 0;
    /** Class name or index; empty = each image's predicted class (per model). */
    public String target = "";
    /** Prototypes tested by prototype perturbation. */
    public int top = 10;
    public List<Stage> randomization = List.of(Stage.TOP, Stage.FULL);
    /** Output directory, or null. */
    public Path output;
  }

  /** Makes the re-initialised copy of model {@code index} (closed by the run after use). */
  public interface Randomizer {
    PrototypeClassifier randomize(int index, Stage stage, long seed);
  }

  /** One row: a metric of one method on one model, over the images. */
  public static final class Row {
    public final String model;
    public final String method;
    public final String metric;
    /** Per image, NaN where undefined. */
    public final double[] values;
    public final double mean;
    public final double low;
    public final double high;
    /** Images with a finite value. */
    public final int n;

    Row(String model, String method, String metric, double[] values, double mean, double low, double high, int n) {
      this.model = model;
      this.method = method;
      this.metric = metric;
      this.values = values;
      this.mean = mean;
      this.low = low;
      this.high = high;
      this.n = n;
    }
  }

  /** What a run produced. */
  public static final class Result {
    public List<Row> rows;
    public ResultsTable table;
    /** One bar plot per metric, as an RGB stack (slice label = metric). */
    public ImagePlus plots;
    public Map<String, String> provenance;
    /** Wall time in seconds by "model/method" ({@code PPNet}, {@code random}, {@code randomized_top}, ...). */
    public Map<String, Double> seconds = new LinkedHashMap<>();
  }

  private CompareRun() {}

  /**
   * @param models loaded prototype networks with their names and bundle provenance (the caller closes them)
   */
  public static Result run(Request r, List<FaithfulnessRun.Model> models, Randomizer randomizer, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    if (r.output != null) AtomicFiles.ensureDirectory(r.output);
    if (models.isEmpty()) throw new UserException("No models given. Set models= to one or more prototype bundles.");
    if (r.bootstrap < 1) throw new UserException("bootstrap=" + r.bootstrap + ": use at least 1 resample (default "
        + FaithfulnessRun.BOOTSTRAP_RESAMPLES + ").");
    if (r.images.channels != 1) {
      throw new UserException("The images " + r.imagesName + " have " + r.images.channels + " channels; the prototype"
          + " explanations work on gray images. Give 1-channel images.");
    }
    List<String> seen = new ArrayList<>();
    for (FaithfulnessRun.Model m : models) {
      if (seen.contains(m.name)) {
        throw new UserException("Two models are called " + m.name + ". Compare each model once (give different"
            + " bundles, or rename one in its model.json).");
      }
      seen.add(m.name);
      if (!(m.classifier instanceof PrototypeClassifier)) {
        throw new UserException("Model " + m.name + " is not a prototype network, so it has no explanation of its own"
            + " to compare. Give prototype bundles (e.g. models=sample-ppnet,sample-eppnet,sample-protopool).");
      }
    }
    List<String> labels = barLabels(models);
    boolean randomControl = attributionMetric(r.metric);
    int n = r.images.sampleCount();
    List<Row> rows = new ArrayList<>();
    Map<String, Double> seconds = new LinkedHashMap<>();
    double parts = models.size() * ((randomControl ? 2 : 1) + 0.2 * r.randomization.size());
    double done = 0;
    for (int mi = 0; mi < models.size(); mi++) {
      FaithfulnessRun.Model m = models.get(mi);
      PrototypeClassifier pc = (PrototypeClassifier) m.classifier;
      String prefix = m.name + ": ";

      FaithfulnessRun.Request own = faithfulness(r);
      own.prototypeAttribution = true;
      own.attributionName = FaithfulnessRun.PROTOTYPES;
      long t0 = System.nanoTime();
      FaithfulnessRun.Result res = FaithfulnessRun.run(own, m, sub(progress, prefix + "own map, ", done / parts,
          1 / parts));
      seconds.put(m.name + "/" + pc.method(), (System.nanoTime() - t0) / 1e9);
      done++;
      rows.addAll(rows(m.name, pc.method(), res, r));
      int[] targets = new int[n];
      for (int i = 0; i < n; i++) targets[i] = res.images.get(i).target;

      if (randomControl) {
        FaithfulnessRun.Request rnd = faithfulness(r);
        rnd.attribution = randomMaps(r.images.width, r.images.height, n, r.seed);
        rnd.attributionName = "random (i.i.d. normal per pixel)";
        t0 = System.nanoTime();
        FaithfulnessRun.Result rr = FaithfulnessRun.run(rnd, new FaithfulnessRun.Model(plain(pc), m.name,
            m.provenance), sub(progress, prefix + "random map, ", done / parts, 1 / parts));
        seconds.put(m.name + "/" + RANDOM, (System.nanoTime() - t0) / 1e9);
        done++;
        rows.addAll(rows(m.name, RANDOM, rr, r));
      }

      if (!r.randomization.isEmpty()) {
        FloatStack gray = planes(r.images);
        t0 = System.nanoTime();
        float[][] real = ModelRandomization.maps(pc, m.name, gray, targets, progress);
        double realSeconds = (System.nanoTime() - t0) / 1e9;
        for (Stage st : r.randomization) {
          progress.report(prefix + "randomised network (" + st.key() + ")", done / parts);
          t0 = System.nanoTime();
          double[] rho = new double[n], ssim = new double[n];
          try (PrototypeClassifier rand = randomizer.randomize(mi, st, r.seed)) {
            float[][] other = ModelRandomization.maps(rand, m.name + " (randomised)", gray, targets, progress);
            for (int i = 0; i < n; i++) {
              rho[i] = ModelRandomization.spearman(real[i], other[i]);
              ssim[i] = ModelRandomization.ssim(real[i], other[i], gray.width, gray.height);
            }
          }
          seconds.put(m.name + "/" + RANDOMIZED + st.key(), realSeconds + (System.nanoTime() - t0) / 1e9);
          rows.add(row(m.name, RANDOMIZED + st.key(), ModelRandomization.SPEARMAN, rho, r));
          rows.add(row(m.name, RANDOMIZED + st.key(), ModelRandomization.SSIM, ssim, r));
          done += 0.2;
        }
      }
    }
    progress.checkCancelled();
    Result out = new Result();
    out.rows = rows;
    out.seconds = seconds;
    out.table = table(rows);
    out.provenance = provenance(r, models, n);
    for (Map.Entry<String, Double> e : seconds.entrySet()) {
      out.provenance.put("seconds." + e.getKey(), String.format(Locale.ROOT, "%.2f", e.getValue()));
    }
    out.plots = plots(rows, models, labels, r.imagesName, n);
    if (out.plots != null) out.plots.setProperty("Info", infoText(out.provenance));
    if (r.output != null) write(r.output, out);
    progress.report("Compared " + models.size() + " model" + (models.size() == 1 ? "" : "s") + " on " + n + " image"
        + (n == 1 ? "" : "s"), 1);
    return out;
  }

  /** True when the metric key selects attribution metrics (all, or one of them): the random map is then scored. */
  static boolean attributionMetric(String key) {
    String k = key == null ? FaithfulnessRun.ALL : key.trim();
    if (k.equalsIgnoreCase(FaithfulnessRun.ALL)) return true;
    Metric m = Metric.of(k);
    return m != null && m.needsAttribution;
  }

  private static FaithfulnessRun.Request faithfulness(Request r) {
    FaithfulnessRun.Request f = new FaithfulnessRun.Request();
    f.image = r.images;
    f.imageName = r.imagesName;
    f.target = r.target;
    f.metric = r.metric;
    f.settings = r.settings;
    f.seed = r.seed;
    f.top = r.top;
    return f;
  }

  /**
   * The random attribution control: i.i.d. standard-normal values per pixel, image i from the stream
   * {@code GaussianNoise.forSample(mix64(seed ^ "random"), i)} (independent of the metrics' own random subsets).
   */
  static FloatStack randomMaps(int w, int h, int n, long seed) {
    long s = GaussianNoise.mix64(seed ^ 0x72616E646F6DL);
    float[][] planes = new float[n][];
    for (int i = 0; i < n; i++) planes[i] = GaussianNoise.forSample(s, i).fill(new float[w * h]);
    return new FloatStack(w, h, 1, n, 1, planes, null);
  }

  /** The classifier without its prototype interface, so the faithfulness run scores only the given map. */
  private static Classifier plain(Classifier c) {
    return new Classifier() {
      @Override
      public int height() {
        return c.height();
      }

      @Override
      public int width() {
        return c.width();
      }

      @Override
      public int channels() {
        return c.channels();
      }

      @Override
      public List<String> classNames() {
        return c.classNames();
      }

      @Override
      public float[][] logits(float[] x, int n) {
        return c.logits(x, n);
      }
    };
  }

  /** Every image as one gray plane (the images have one channel). */
  private static FloatStack planes(FloatStack s) {
    float[][] p = new float[s.planeCount()][];
    for (int i = 0; i < p.length; i++) p[i] = s.plane(i);
    return new FloatStack(s.width, s.height, 1, p.length, 1, p, null);
  }

  /** The rows of one faithfulness run, one per metric in the order the run produced them. */
  private static List<Row> rows(String model, String method, FaithfulnessRun.Result res, Request r) {
    List<Metric> order = new ArrayList<>();
    for (FaithfulnessRun.ImageResult ir : res.images) {
      for (MetricResult mr : ir.metrics) if (!order.contains(mr.metric)) order.add(mr.metric);
    }
    List<Row> out = new ArrayList<>();
    int n = res.images.size();
    for (Metric mt : order) {
      double[] v = new double[n];
      Arrays.fill(v, Double.NaN);
      for (int i = 0; i < n; i++) {
        for (MetricResult mr : res.images.get(i).metrics) if (mr.metric == mt) v[i] = mr.value;
      }
      out.add(row(model, method, mt.key(), v, r));
    }
    return out;
  }

  /** The mean of the finite values with its bootstrap interval; NaN and n = 0 when there is none. */
  static Row row(String model, String method, String metric, double[] values, Request r) {
    double[] finite = Arrays.stream(values).filter(Double::isFinite).toArray();
    if (finite.length == 0) return new Row(model, method, metric, values, Double.NaN, Double.NaN, Double.NaN, 0);
    Bootstrap.Interval ci = Bootstrap.meanCi(finite, r.bootstrap, 0.95, r.seed);
    return new Row(model, method, metric, values, ci.mean, ci.low, ci.high, finite.length);
  }

  /** Which direction is better for a metric, as the table's {@code better} column says. */
  static String better(String metric) {
    switch (metric) {
      case "deletion":
        return "lower";
      case "nis":
        return "see docs";
      case ModelRandomization.SPEARMAN:
      case ModelRandomization.SSIM:
        return "nearer 0";
      default:
        return "higher";
    }
  }

  static ResultsTable table(List<Row> rows) {
    ResultsTable rt = new ResultsTable();
    for (Row row : rows) {
      rt.incrementCounter();
      rt.addValue("model", row.model);
      rt.addValue("method", row.method);
      rt.addValue("metric", row.metric);
      rt.addValue("mean", row.mean);
      rt.addValue("ci_low", row.low);
      rt.addValue("ci_high", row.high);
      rt.addValue("n", row.n);
      rt.addValue("better", better(row.metric));
      int undefined = row.values.length - row.n;
      rt.addValue("note", undefined == 0 ? "" : undefined + " of " + row.values.length + " images undefined");
    }
    for (String c : new String[] {"mean", "ci_low", "ci_high"}) rt.setDecimalPlaces(rt.getColumnIndex(c), 6);
    return rt;
  }

  /** Every image's value: model, method, metric, image (1-based), value. */
  static String imagesCsv(List<Row> rows) {
    StringBuilder sb = new StringBuilder("model,method,metric,image,value\n");
    for (Row row : rows) {
      for (int i = 0; i < row.values.length; i++) {
        sb.append(csv(row.model)).append(',').append(csv(row.method)).append(',').append(row.metric).append(',')
            .append(i + 1).append(',').append(row.values[i]).append('\n');
      }
    }
    return sb.toString();
  }

  private static String csv(String s) {
    return s.matches("[^,\"\n]*") ? s : '"' + s.replace("\"", "\"\"") + '"';
  }

  /** Bar labels: the method of each model (PPNet, EPPNet, ProtoPool), or the model name when two share a method. */
  private static List<String> barLabels(List<FaithfulnessRun.Model> models) {
    List<String> methods = new ArrayList<>();
    for (FaithfulnessRun.Model m : models) methods.add(((PrototypeClassifier) m.classifier).method());
    List<String> out = new ArrayList<>();
    for (int i = 0; i < models.size(); i++) {
      String method = methods.get(i);
      boolean unique = methods.indexOf(method) == methods.lastIndexOf(method);
      out.add((unique ? method : models.get(i).name).replace(',', ' ').replace('{', '(').replace('}', ')'));
    }
    return out;
  }

  private static final Color OWN = new Color(0x4c78a8);
  private static final Color RANDOM_COLOR = new Color(0xb0b0b0);
  private static final Color TOP_COLOR = new Color(0xf58518);
  private static final Color FULL_COLOR = new Color(0xe45756);

  /** One bar chart per metric: a bar per (model, method) with its 95 % interval as an error bar. */
  static ImagePlus plots(List<Row> rows, List<FaithfulnessRun.Model> models, List<String> labels, String imagesName,
      int n) {
    List<String> metrics = new ArrayList<>();
    for (Row row : rows) if (!metrics.contains(row.metric)) metrics.add(row.metric);
    ImageStack stack = null;
    for (String metric : metrics) {
      List<Row> bars = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Row row : rows) {
        if (!row.metric.equals(metric)) continue;
        bars.add(row);
        String model = labels.get(indexOf(models, row.model));
        names.add(row.method.equals(RANDOM) ? "random (" + model + ")" : row.method.startsWith(RANDOMIZED)
            ? model + " " + row.method.substring(RANDOMIZED.length()) : model);
      }
      Plot plot = new Plot(metric + " — " + imagesName, "{" + String.join(",", names) + "}", metric);
      plot.setFrameSize(Math.max(360, 110 * bars.size()), 300);
      double lo = 0, hi = 0;
      List<String> legend = new ArrayList<>();
      for (String kind : new String[] {"own", RANDOM, RANDOMIZED + Stage.TOP.key(), RANDOMIZED + Stage.FULL.key()}) {
        double[] x = new double[bars.size()], y = new double[bars.size()];
        boolean any = false;
        for (int i = 0; i < bars.size(); i++) {
          x[i] = i;
          Row b = bars.get(i);
          boolean mine = kind.equals("own") ? !b.method.equals(RANDOM) && !b.method.startsWith(RANDOMIZED)
              : b.method.equals(kind);
          y[i] = mine && Double.isFinite(b.mean) ? b.mean : 0; // ImageJ draws a NaN bar down to the frame's bottom
          any |= mine && Double.isFinite(b.mean);
        }
        if (!any) continue;
        Color c = kind.equals("own") ? OWN : kind.equals(RANDOM) ? RANDOM_COLOR
            : kind.endsWith(Stage.TOP.key()) ? TOP_COLOR : FULL_COLOR;
        plot.setColor(c.darker(), c);
        plot.addPoints(x, y, Plot.SEPARATED_BAR);
        legend.add(kind.equals("own") ? "the model's own explanation" : kind.equals(RANDOM) ? "random map"
            : "randomised network (" + kind.substring(RANDOMIZED.length()) + ") vs real");
      }
      plot.setColor(Color.BLACK);
      for (int i = 0; i < bars.size(); i++) {
        Row b = bars.get(i);
        if (!Double.isFinite(b.mean)) continue;
        lo = Math.min(lo, Math.min(b.low, b.mean));
        hi = Math.max(hi, Math.max(b.high, b.mean));
        plot.drawLine(i, b.low, i, b.high);
        plot.drawLine(i - 0.12, b.low, i + 0.12, b.low);
        plot.drawLine(i - 0.12, b.high, i + 0.12, b.high);
      }
      double pad = hi > lo ? 0.08 * (hi - lo) : 1;
      plot.setLimits(-0.6, bars.size() - 0.4, lo < 0 ? lo - pad : 0, hi + pad);
      plot.addLegend(String.join("\n", legend), "auto");
      String better = better(metric);
      plot.addLabel(0, 0, "mean and 95% bootstrap CI over n = " + n + " images; "
          + (better.equals("see docs") ? "see docs/faithfulness.md" : better + " is better"));
      ImageProcessor ip = plot.getProcessor().convertToRGB();
      if (stack == null) stack = new ImageStack(ip.getWidth(), ip.getHeight());
      if (ip.getWidth() != stack.getWidth() || ip.getHeight() != stack.getHeight()) {
        ip.setInterpolationMethod(ImageProcessor.BILINEAR);
        ImageProcessor fit = ip.createProcessor(stack.getWidth(), stack.getHeight());
        fit.setColor(Color.WHITE);
        fit.fill();
        fit.insert(ip, 0, 0);
        ip = fit;
      }
      stack.addSlice(metric, ip);
    }
    return stack == null ? null : new ImagePlus("Compare Explanation Methods", stack);
  }

  private static int indexOf(List<FaithfulnessRun.Model> models, String name) {
    for (int i = 0; i < models.size(); i++) if (models.get(i).name.equals(name)) return i;
    throw new IllegalStateException(name);
  }

  private static Map<String, String> provenance(Request r, List<FaithfulnessRun.Model> models, int n) {
    Classifier first = models.get(0).classifier;
    FaithfulnessMetrics.Settings s = r.settings.resolved(first.height(), first.width());
    Map<String, String> p = new LinkedHashMap<>();
    p.put("software", "Diffusion XAI for Fiji " + Version.get());
    p.put("command", "Compare Explanation Methods");
    p.put("date", OffsetDateTime.now().toString());
    p.put("images", r.imagesName);
    p.put("image_count", Integer.toString(n));
    p.put("image_size", r.images.width + "x" + r.images.height);
    for (Map.Entry<String, String> e : r.imagesProvenance.entrySet()) p.put("images." + e.getKey(), e.getValue());
    for (int i = 0; i < models.size(); i++) {
      FaithfulnessRun.Model m = models.get(i);
      String pre = "model" + (i + 1) + ".";
      p.put(pre + "method", ((PrototypeClassifier) m.classifier).method());
      for (Map.Entry<String, String> e : m.provenance.entrySet()) {
        p.put(pre + e.getKey().replaceFirst("^model\\.", ""), e.getValue());
      }
    }
    p.put("metric", r.metric);
    p.put("explanation", "each model's own map: sum over all prototypes of contribution x similarity map (bicubic,"
        + " scaled to peak 1), for the target class");
    p.put("target", r.target == null || r.target.trim().isEmpty() ? "predicted class (per model)" : r.target.trim());
    p.put("baseline", s.baseline.key());
    p.put("runs", Integer.toString(s.runs));
    p.put("subset_size", Integer.toString(s.subsetSize));
    p.put("step", Integer.toString(s.step));
    p.put("patch_size", Integer.toString(s.patchSize));
    p.put("top", Integer.toString(r.top));
    p.put("seed", Long.toString(r.seed));
    p.put("bootstrap", "mean over the images with a finite value, percentile 95 % CI, " + r.bootstrap
        + " resamples, SplitMix64(seed)");
    p.put("random_control", attributionMetric(r.metric) ? "attribution = i.i.d. standard normal per pixel, image i"
        + " from GaussianNoise.forSample(mix64(seed ^ 0x72616E646F6D), i), scored on each model with the same"
        + " settings and random subsets as its own map" : "not run (no attribution metric selected)");
    StringBuilder st = new StringBuilder();
    for (Stage stage : r.randomization) {
      st.append(st.length() == 0 ? "" : "; ").append(stage.key()).append(": ").append(stage.description());
    }
    p.put("randomization", r.randomization.isEmpty() ? "none" : st + "; re-initialised as Train Prototype Network"
        + " initialises a new network with seed=" + r.seed + " (Adebayo et al., NeurIPS 2018)");
    p.put("randomization_similarity", "Spearman rank correlation and SSIM (maps min-max scaled to [0,1], data range 1)"
        + " between the real and the randomised network's map of each image, same target class");
    return p;
  }

  private static String infoText(Map<String, String> prov) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : prov.entrySet()) {
      sb.append(e.getKey()).append(" = ").append(e.getValue()).append('\n');
    }
    return sb.toString();
  }

  /** Every file to a temporary name first, then all renamed into place: none appears unless all were written. */
  private static void write(Path dir, Result res) {
    List<AtomicFiles.Pending> files = new ArrayList<>();
    try {
      try {
        Files.write(add(files, dir.resolve(TABLE_FILE)), Csv.of(res.table).getBytes(StandardCharsets.UTF_8));
        Files.write(add(files, dir.resolve(IMAGES_FILE)), imagesCsv(res.rows).getBytes(StandardCharsets.UTF_8));
        Files.write(add(files, dir.resolve(PROVENANCE_FILE)), (new GsonBuilder().setPrettyPrinting()
            .disableHtmlEscaping().create().toJson(res.provenance) + "\n").getBytes(StandardCharsets.UTF_8));
        if (res.plots != null) {
          ImageStack st = res.plots.getStack();
          for (int i = 1; i <= st.getSize(); i++) {
            Path png = add(files, dir.resolve("compare_" + st.getSliceLabel(i) + ".png"));
            if (!ImageIO.write(st.getProcessor(i).getBufferedImage(), "png", png.toFile())) {
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

  private static Path add(List<AtomicFiles.Pending> files, Path target) {
    AtomicFiles.Pending p = AtomicFiles.begin(target);
    files.add(p);
    return p.temp();
  }

  /** Maps a sub-task's fractions into [offset, offset + span], with a prefix; cancels with the run. */
  static Progress sub(Progress p, String prefix, double offset, double span) {
    return new Progress() {
      @Override
      public void report(String message, double fraction) {
        p.report(prefix + message, Double.isNaN(fraction) ? fraction : offset + span * fraction);
      }

      @Override
      public boolean isCancelled() {
        return p.isCancelled();
      }
    };
  }
}
