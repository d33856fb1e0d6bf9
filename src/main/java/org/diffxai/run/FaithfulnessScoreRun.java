package org.diffxai.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.Chart;
import org.diffxai.core.Classifier;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.io.Fit;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageInput;
import org.diffxai.io.InputImages;
import org.diffxai.metrics.FolderAccuracy;
import org.diffxai.metrics.Localisation;
import org.diffxai.io.Csv;
import org.diffxai.metrics.Baseline;
import org.diffxai.metrics.Bootstrap;
import org.diffxai.metrics.Curve;
import org.diffxai.metrics.FaithfulnessMetrics;
import org.diffxai.metrics.FaithfulnessScoring;
import org.diffxai.metrics.PrototypeAttribution;
import org.diffxai.metrics.FaithfulnessScoring.ImageResult;
import org.diffxai.metrics.Metric;
import org.diffxai.metrics.MetricResult;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.scijava.plugin.Parameter;

/**
 * Faithfulness Score: how faithful an attribution map (or a prototype network's own explanation) is to a classifier,
 * by perturbing the image ({@link FaithfulnessScoring}, docs/faithfulness.md). A table with one row per image and
 * metric, plus the mean with a bootstrap 95 % interval when there are several images; the curves as plots; with an
 * output folder {@code faithfulness.csv}, {@code faithfulness_curves.csv}, {@code faithfulness.json} and one
 * {@code faithfulness_<metric>.png} per plotted metric.
 */
public final class FaithfulnessScoreRun {
  public static final String COMMAND = "Faithfulness Score";
  public static final String TABLE_FILE = "faithfulness.csv";
  public static final String CURVES_FILE = "faithfulness_curves.csv";
  public static final String PROVENANCE_FILE = "faithfulness.json";
  public static final String ACCURACY_FILE = "faithfulness_accuracy.csv";
  public static final String LOCALISATION_FILE = "localisation.csv";

  /** The keys of Faithfulness Score. */
  public static class Request extends MetricKeys {
    @Parameter(style = "model:classifier", persist = false,
        description = "Classifier bundle folder, or a bundled sample classifier (e.g. sample-ppnet)")
    public String model = "";

    @Parameter(style = "image,directory", persist = false,
        description = "Images to score: an open image, an image file or a"
        + " folder (with class sub-folders: the accuracy too); every slice is one image")
    public String image = "";

    @Parameter(style = "image", required = false, persist = false, description = "Attribution map: an open image or a"
        + " file with one slice per image; 'prototypes' for a prototype network's own map; empty for none")
    public String attribution = "";

    @Parameter(style = "image", required = false, persist = false, description = "NIS references: images whose"
        + " pooled features replace the prototype vectors; empty = the prototype vectors")
    public String references = "";

    @Parameter(required = false, persist = false, description = ImageKeys.MASKS_DESCRIPTION)
    public String masks = "";

    @Parameter(min = "1", persist = false, description = "Images per model call")
    public int batch = 32;

    @Parameter(choices = {"pad", "crop", "stretch"}, persist = false, description = Fit.KEY_DESCRIPTION)
    public String fit = Fit.KEY_DEFAULT;
  }

  /** What a run produced. */
  public static final class Result {
    public final List<ImageResult> images;
    public final Table table;
    /** Accuracy against the folder's class sub-folders, or null. */
    public final Table accuracy;
    /** Localisation of the map against the masks, or null without masks. */
    public final Table localisation;
    /** One plot per metric with a curve (every image overlaid). */
    public final List<Chart> curves;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(List<ImageResult> images, Table table, Table accuracy, Table localisation, List<Chart> curves,
        Map<String, String> provenance, List<Path> files) {
      this.images = images;
      this.table = table;
      this.accuracy = accuracy;
      this.localisation = localisation;
      this.curves = curves;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      Outputs o = new Outputs().table("results", "Faithfulness", table).table("accuracy", "Accuracy", accuracy)
          .table("localisation", "Localisation", localisation);
      for (int i = 0; i < curves.size(); i++) o.chart(i == 0 ? "curves" : "curves_" + (i + 1), curves.get(i));
      return o;
    }
  }

  private FaithfulnessScoreRun() {}

  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    if (r.model == null || r.model.trim().isEmpty()) {
      throw new UserException("Give model= (a classifier bundle folder, e.g. model=sample-ppnet).");
    }
    try (LoadedModel<org.diffxai.core.Classifier> m = Models.classifier(r.model.trim(), r.deviceChoice(), r.batch,
        r.trust, env.progress)) {
      return run(r, m, env);
    }
  }

  /** Scores with an opened classifier (the caller closes it). */
  public static Result run(Request r, LoadedModel<? extends Classifier> m, Env env) {
    RequestKeys.of(Request.class).validate(r);
    Classifier c = m.get();
    if (r.image == null || r.image.trim().isEmpty()) {
      throw new UserException("Give image= (an open image, an image file or a folder).");
    }
    ImageInput.Settings at = ImageInput.Settings.size(c.width(), c.height()).fit(Fit.of(r.fit)).channels(c.channels());
    InputImages in = ImageKeys.read(env, "image", r.image, at, env.progress);
    ImageInput.Settings maps = ImageInput.Settings.size(c.width(), c.height()).fit(Fit.of(r.fit)); // any channels
    FaithfulnessScoring.Job job = job(r, in, ImageKeys.name(env, "image", r.image, in), at, maps, env);
    boolean[][] masks = null;
    if (!r.masks.trim().isEmpty()) {
      if (job.attribution == null && !job.prototypeAttribution) {
        throw new UserException("masks= scores where a map points, but no map is given. Give attribution= (a map) or"
            + " attribution=" + FaithfulnessScoring.PROTOTYPES + " (a prototype network's own map).");
      }
      masks = ImageKeys.masks("image", r.image, in, r.masks.trim(), c.width(), c.height());
    }
    try (OutputFolder out = OutputFolder.open(r, COMMAND, TABLE_FILE, CURVES_FILE, PROVENANCE_FILE, ACCURACY_FILE,
        LOCALISATION_FILE, "faithfulness_*.png")) {
      FaithfulnessScoring.Scores s = FaithfulnessScoring.score(job, c, m.name(), env.progress);
      Table table = table(job.imageName, job.seed, s.images, c.classNames());
      List<Chart> curves = curves(s.images, job.imageName);
      Map<String, String> prov = provenance(r, job, m, s);
      prov.putAll(in.summary().toStrings());
      FolderAccuracy acc = in.classNames().isEmpty() ? null : ImageKeys.accuracy(in, predicted(c, job.image,
          r.batch), c.classNames(), job.imageName, m.name());
      if (acc != null) prov.putAll(acc.toMap());
      Table accuracy = acc == null ? null : ImageKeys.accuracyTable(acc);
      Table localisation = masks == null ? null
          : localisation(job.imageName, job.seed, s.images, masks, c.width(), c.height(), c.classNames());
      if (out.active()) {
        if (localisation != null) out.csv(LOCALISATION_FILE, localisation);
        out.csv(TABLE_FILE, table);
        out.text(CURVES_FILE, curvesCsv(s.images, job.imageName));
        out.json(PROVENANCE_FILE, prov);
        if (accuracy != null) out.csv(ACCURACY_FILE, accuracy);
        for (Chart ch : curves) out.png("faithfulness_" + ch.title.substring(0, ch.title.indexOf(' ')) + ".png", ch);
      }
      return new Result(s.images, table, accuracy, localisation, curves, prov, out.commit());
    }
  }

  /** The scoring job: the images and maps at the model's size (maps fitted like their images). */
  private static FaithfulnessScoring.Job job(Request r, InputImages in, String name, ImageInput.Settings at,
      ImageInput.Settings maps, Env env) {
    FaithfulnessScoring.Job j = new FaithfulnessScoring.Job();
    j.image = in.stack();
    j.imageName = name;
    String a = r.attribution == null ? "" : r.attribution.trim();
    j.attributionName = a;
    if (a.equalsIgnoreCase(FaithfulnessScoring.PROTOTYPES)) j.prototypeAttribution = true;
    else if (!a.isEmpty()) j.attribution = ImageKeys.read(env, "attribution", a, maps, env.progress).stack();
    if (r.references != null && !r.references.trim().isEmpty()) {
      InputImages refs = ImageKeys.read(env, "references", r.references, at, env.progress);
      j.references = refs.stack();
      j.referencesName = ImageKeys.name(env, "references", r.references, refs);
    }
    j.target = r.target == null ? "" : r.target;
    j.map = r.mapKind();
    j.mapSettings = r.mapSettings();
    j.metric = r.metric;
    j.settings = r.settings(r.batch);
    j.seed = r.seed;
    j.top = r.top;
    return j;
  }

  /** Each image's predicted class (one batched pass). */
  private static int[] predicted(Classifier c, FloatStack images, int batch) {
    int n = images.sampleCount(), d = c.height() * c.width() * c.channels();
    float[] all = images.toNHWC();
    int[] out = new int[n];
    for (int start = 0; start < n; start += batch) {
      int b = Math.min(batch, n - start);
      float[][] l = c.logits(Arrays.copyOfRange(all, start * d, (start + b) * d), b);
      for (int i = 0; i < b; i++) {
        int best = 0;
        for (int k = 1; k < l[i].length; k++) if (l[i][k] > l[i][best]) best = k;
        out[start + i] = best;
      }
    }
    return out;
  }

  /** One row per image and metric, plus per metric the mean with its bootstrap interval when there are several. */
  static Table table(String imageName, long seed, List<ImageResult> results, List<String> classes) {
    Table rt = new Table();
    List<Metric> order = new ArrayList<>();
    for (ImageResult ir : results) {
      for (MetricResult mr : ir.metrics) {
        if (!order.contains(mr.metric)) order.add(mr.metric);
        row(rt, imageName, Integer.toString(ir.index + 1), classes.get(ir.target), mr.metric.key(), mr.value,
            Double.NaN, Double.NaN, mr.forwards, mr.note);
      }
    }
    if (results.size() > 1) {
      int resamples = FaithfulnessScoring.BOOTSTRAP_RESAMPLES;
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
          row(rt, imageName, "mean", target, mt.key(), Double.NaN, Double.NaN, Double.NaN, forwards,
              "undefined on every image");
          continue;
        }
        Bootstrap.Interval ci = Bootstrap.meanCi(Arrays.copyOf(v, k), resamples, 0.95, seed);
        row(rt, imageName, "mean", target, mt.key(), ci.mean, ci.low, ci.high, forwards, "mean of " + k + " of "
            + results.size() + " images; percentile bootstrap 95 % CI, " + resamples + " resamples");
      }
    }
    rt.setDecimalPlaces("value", 6);
    return rt;
  }

  /**
   * Where each map points against its image's mask ({@link Localisation}: pointing game, relevance mass and rank
   * accuracy, ROC AUC, with the uniform map's values beside them), one row per image with a non-empty mask, plus the
   * mean of each with a bootstrap 95 % interval.
   */
  static Table localisation(String imageName, long seed, List<ImageResult> results, boolean[][] masks, int w, int h,
      List<String> classes) {
    Table t = new Table();
    String[] cols = {"pointing_game", "relevance_mass", "relevance_mass_x_area", "relevance_rank", "auc",
        "area_fraction", "pointing_game_random"};
    List<double[]> rows = new ArrayList<>();
    for (ImageResult ir : results) {
      boolean[] m = masks[ir.index];
      if (m == null || ir.map == null) continue;
      Localisation.Result l = Localisation.evaluate(ir.map, m, w, h);
      if (l.maskPixels == 0) continue;
      double[] v = {l.pointingGame, l.relevanceMass, l.relevanceMassRatio(), l.relevanceRank, l.auc, l.areaFraction,
          l.pointingGameRandom};
      rows.add(v);
      t.incrementCounter();
      t.addValue("image", imageName);
      t.addValue("slice", Integer.toString(ir.index + 1));
      t.addValue("target", classes.get(ir.target));
      for (int k = 0; k < cols.length; k++) t.addValue(cols[k], v[k]);
      t.addValue("ci", "");
    }
    if (rows.isEmpty()) {
      throw new UserException("Every mask given is empty, so there is nothing to localise. Give the masks of images"
          + " that show a lesion (e.g. the lesion class of Generate Phantoms' output).");
    }
    if (rows.size() > 1) {
      t.incrementCounter();
      t.addValue("image", imageName);
      t.addValue("slice", "mean");
      t.addValue("target", "");
      StringBuilder ci = new StringBuilder();
      for (int k = 0; k < cols.length; k++) {
        double[] v = new double[rows.size()];
        for (int i = 0; i < v.length; i++) v[i] = rows.get(i)[k];
        Bootstrap.Interval in = Bootstrap.meanCi(v, FaithfulnessScoring.BOOTSTRAP_RESAMPLES, 0.95, seed + k);
        t.addValue(cols[k], in.mean);
        if (k < 4) ci.append(String.format(Locale.ROOT, "%s%s [%.3f, %.3f]", k == 0 ? "" : "; ", cols[k], in.low,
            in.high));
      }
      t.addValue("ci", "mean of " + rows.size() + " images, 95 % bootstrap: " + ci);
    }
    return t;
  }

  private static void row(Table rt, String image, String slice, String target, String metric, double value,
      double low, double high, int forwards, String note) {
    rt.incrementCounter();
    rt.addValue("image", image);
    rt.addValue("slice", slice);
    rt.addValue("target", target);
    rt.addValue("metric", metric);
    rt.addValue("value", value);
    if (Double.isNaN(low)) rt.addValue("ci_low", "");
    else rt.addValue("ci_low", low);
    if (Double.isNaN(high)) rt.addValue("ci_high", "");
    else rt.addValue("ci_high", high);
    rt.addValue("forwards", forwards);
    rt.addValue("note", note);
  }

  /** One plot per metric that has a curve, every image in its own colour (legend up to 8 images). */
  static List<Chart> curves(List<ImageResult> results, String imageName) {
    List<Chart> out = new ArrayList<>();
    for (Metric mt : Metric.values()) {
      Chart chart = null;
      double[] lim = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY,
          Double.NEGATIVE_INFINITY};
      for (ImageResult ir : results) {
        for (MetricResult mr : ir.metrics) {
          if (mr.metric != mt || mr.curve == null) continue;
          Curve cv = mr.curve;
          if (chart == null) chart = new Chart(mt.key() + " — " + imageName, cv.xLabel, cv.yLabel);
          chart.add("slice " + (ir.index + 1), cv.x, cv.y, cv.scatter ? Chart.Style.CIRCLES : Chart.Style.LINE,
              Chart.PALETTE[ir.index % Chart.PALETTE.length]);
          for (int i = 0; i < cv.x.length; i++) {
            if (!Double.isFinite(cv.y[i])) continue;
            lim[0] = Math.min(lim[0], cv.x[i]);
            lim[1] = Math.max(lim[1], cv.x[i]);
            lim[2] = Math.min(lim[2], cv.y[i]);
            lim[3] = Math.max(lim[3], cv.y[i]);
          }
        }
      }
      if (chart == null) continue;
      if (mt == Metric.DELETION || mt == Metric.INSERTION) lim = new double[] {0, 1, 0, 1};
      double px = pad(lim[0], lim[1]), py = pad(lim[2], lim[3]);
      if (Double.isFinite(lim[0])) chart.limits(lim[0] - px, lim[1] + px, lim[2] - py, lim[3] + py);
      chart.legend(results.size() <= Chart.PALETTE.length);
      out.add(chart);
    }
    return out;
  }

  private static double pad(double lo, double hi) {
    double span = hi - lo;
    return span > 0 ? 0.04 * span : Math.max(1e-9, 0.05 * Math.abs(hi));
  }

  /** Every curve point: image, slice, metric, point, x, y. */
  static String curvesCsv(List<ImageResult> results, String imageName) {
    StringBuilder sb = new StringBuilder("image,slice,metric,point,x,y\n");
    String name = Csv.quote(imageName);
    for (ImageResult ir : results) {
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

  private static Map<String, String> provenance(Request r, FaithfulnessScoring.Job j,
      LoadedModel<? extends Classifier> m, FaithfulnessScoring.Scores s) {
    Classifier c = m.get();
    FaithfulnessMetrics.Settings set = j.settings.resolved(c.height(), c.width());
    Map<String, String> p = Provenance.of(COMMAND, r);
    p.putAll(m.provenance());
    if (c instanceof PrototypeClassifier) p.put("method", ((PrototypeClassifier) c).method());
    p.put("image", j.imageName);
    p.put("image_size", c.width() + "x" + c.height() + "x" + c.channels());
    p.put("images", Integer.toString(s.images.size()));
    p.put("attribution", j.prototypeAttribution ? FaithfulnessScoring.PROTOTYPES + ": "
        + PrototypeAttribution.describe(j.map) : j.attribution == null ? "" : j.attributionName);
    if (j.map != PrototypeMapKind.UPSAMPLE && (j.prototypeAttribution || s.top > 0)) {
      p.putAll(j.mapSettings.describe(c.height(), c.width()));
    }
    p.put("target", j.target == null || j.target.trim().isEmpty() ? "predicted class" : j.target.trim());
    StringBuilder ms = new StringBuilder();
    for (Metric mt : s.metrics) ms.append(ms.length() == 0 ? "" : ",").append(mt.key());
    p.put("metrics", ms.toString());
    p.put("blur_sigma", String.format(Locale.ROOT, "%.4g", Baseline.blurSigma(c.height(), c.width())));
    p.put("insertion_start", "blur (Gaussian, sigma = blur_sigma)");
    p.put("subset_size", Integer.toString(set.subsetSize));
    p.put("step", Integer.toString(set.step));
    p.put("patch_size", Integer.toString(set.patchSize));
    p.put("random_subsets", "image i draws its subsets from SplitMix64(GaussianNoise.streamSeed(seed, i))");
    p.put("bootstrap", "mean of the images' values, percentile 95 % CI, " + FaithfulnessScoring.BOOTSTRAP_RESAMPLES
        + " resamples, SplitMix64(seed)");
    if (s.top > 0) p.put("top", Integer.toString(s.top));
    if (s.metrics.contains(Metric.NIS)) {
      p.put("nis_features", "global average of the prototype network's latent features");
      p.put("nis_references", j.references == null ? "prototype vectors" : j.referencesName);
    }
    p.put("units", "image intensity (the bundle's intensity mapping is applied by the classifier)");
    return p;
  }
}
