package org.diffxai.run;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.attribution.AttributionSettings;
import org.diffxai.core.ClassNames;
import org.diffxai.core.Foreground;
import org.diffxai.core.InfoText;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.core.Table;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.ExplanationImages;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.core.UserException;
import org.diffxai.io.Fit;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageInput;
import org.diffxai.io.InputImages;
import org.diffxai.metrics.FolderAccuracy;
import org.diffxai.metrics.PrototypeQuality;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.scijava.plugin.Parameter;

/**
 * Explain with Prototypes: why a prototype network classified each slice of an image — the top prototypes by
 * contribution, their similarity maps and boxes, and the training patches they stand for. Outputs the overlay panels
 * ({@link ExplanationImages}), a table with one row per (slice, rank), and with an output folder {@code explain.csv},
 * {@code overlays.tif} and {@code explain.json}.
 */
public final class ExplainPrototypesRun {
  public static final String COMMAND = "Explain with Prototypes";
  public static final String TABLE_FILE = "explain.csv";
  public static final String OVERLAYS_FILE = "overlays.tif";
  public static final String PROVENANCE_FILE = "explain.json";
  public static final String ACCURACY_FILE = "explain_accuracy.csv";
  public static final String QUALITY_FILE = "prototype_quality.csv";
  /** Stability of the top prototypes: noise σ as a share of the images' 0.5–99.5 % intensity span, and runs. */
  static final double STABILITY_NOISE = 0.02;
  static final int STABILITY_RUNS = 3;
  /** The fixed seed of the stability noise (sub-stream "prototype-quality.stability"). */
  static final long STABILITY_SEED = 1;

  /** The keys of Explain with Prototypes. */
  public static class Request extends ModelKeys {
    @Parameter(style = "image,directory", required = false, persist = false,
        description = "Image to explain: an open image, an"
        + " image file, or a folder (with class sub-folders: the accuracy too); empty = the active image. A stack"
        + " explains every slice.")
    public String image = "";

    @Parameter(style = "model:prototypes", persist = false,
        description = "Prototype network bundle folder, or 'sample-ppnet' for the bundled sample")
    public String model = "sample-ppnet";

    @Parameter(min = "1", persist = false, description = "Prototypes to show per slice, largest contribution first")
    public int top = 5;

    @Parameter(required = false, persist = false,
        description = "Class to explain (name or index); empty = each slice's predicted class")
    public String target = "";

    @Parameter(min = "1", persist = false, description = "Slices per model call")
    public int batch = 32;

    @Parameter(choices = {"pad", "crop", "stretch"}, persist = false, description = Fit.KEY_DESCRIPTION)
    public String fit = Fit.KEY_DEFAULT;

    @Parameter(choices = {"ig", "gradient", "smoothgrad", "upsample"}, persist = false,
        description = PrototypeMapKind.KEY_DESCRIPTION)
    public String map = PrototypeMapKind.KEY_DEFAULT;

    @Parameter(persist = false, description = "Also measure the prototype quality on these images: distinct"
        + " prototypes, boxes outside the anatomy or on the border, stability of the top prototypes under noise")
    public boolean quality;
  }

  /** What a run produced. */
  public static final class Result {
    public final List<Explanation> explanations;
    public final ResultImage overlays;
    public final Table table;
    /** Accuracy against the folder's class sub-folders, or null. */
    public final Table accuracy;
    /** With {@code quality}: one row of prototype-quality numbers, else null. */
    public final Table quality;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(List<Explanation> explanations, ResultImage overlays, Table table, Table accuracy, Table quality,
        Map<String, String> provenance, List<Path> files) {
      this.explanations = explanations;
      this.overlays = overlays;
      this.table = table;
      this.accuracy = accuracy;
      this.quality = quality;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().image(overlays).table("results", "Prototype explanation table", table)
          .table("accuracy", "Accuracy", accuracy).table("quality", "Prototype quality", quality);
    }
  }

  private ExplainPrototypesRun() {}

  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    try (LoadedModel<PrototypeClassifier> m = Models.prototypes(r.model, r.deviceChoice(), r.batch, r.trust,
        env.progress)) {
      return run(r, m, env);
    }
  }

  /** Explains with an opened prototype network (the caller closes it). */
  public static Result run(Request r, LoadedModel<PrototypeClassifier> m, Env env) {
    RequestKeys.of(Request.class).validate(r);
    PrototypeClassifier c = m.get();
    Fit fit = Fit.of(r.fit);
    boolean folder = ImageKeys.isFolder(r.image);
    // A folder's images are brought to the model's size; one image keeps its own and is fitted while explained.
    InputImages in = ImageKeys.read(env, "image", r.image, folder ? ImageInput.Settings.size(c.width(), c.height())
        .fit(fit).channels(1) : ImageInput.Settings.original(), env.progress);
    String imageName = ImageKeys.name(env, "image", r.image, in);
    FloatStack image = in.stack();
    if (image.channels > 1) {
      throw new UserException("The image " + imageName + " has " + image.channels + " channels; the model explains"
          + " one gray channel. Keep one channel (Image > Color > Split Channels) and explain that.");
    }
    List<String> classes = c.classNames();
    int target = ClassNames.target(classes, r.target, m.name());
    try (OutputFolder out = OutputFolder.open(r, COMMAND, TABLE_FILE, OVERLAYS_FILE, PROVENANCE_FILE,
        ACCURACY_FILE, QUALITY_FILE)) {
      PrototypeMapKind kind = PrototypeMapKind.of(r.map);
      List<Explanation> explanations = new PrototypeExplainer(c, m.name()).mapKind(kind, new AttributionSettings())
          .explain(image, r.top, target, r.batch, fit, imageName, env.progress);
      env.progress.checkCancelled();
      Map<String, String> prov = provenance(r, m, image, imageName);
      prov.putAll(in.summary().toStrings());
      int[] predicted = new int[explanations.size()];
      for (int i = 0; i < predicted.length; i++) predicted[i] = explanations.get(i).predicted;
      FolderAccuracy acc = ImageKeys.accuracy(in, predicted, classes, imageName, m.name());
      if (acc != null) prov.putAll(acc.toMap());
      ResultImage overlays = ResultImage.ofRgb("explanation", "Prototype explanation",
          ExplanationImages.overlays(image, explanations, m.gallery(), classes), Map.of("Info", InfoText.of(prov)));
      Table table = table(folder ? null : imageName, image, explanations, classes);
      Table accuracy = acc == null ? null : ImageKeys.accuracyTable(acc);
      Table quality = r.quality ? quality(m.name(), c, image, explanations, fit, r.top) : null;
      if (out.active()) {
        out.tiff(OVERLAYS_FILE, overlays);
        out.csv(TABLE_FILE, table);
        out.json(PROVENANCE_FILE, prov);
        if (accuracy != null) out.csv(ACCURACY_FILE, accuracy);
        if (quality != null) out.csv(QUALITY_FILE, quality);
      }
      return new Result(explanations, overlays, table, accuracy, quality, prov, out.commit());
    }
  }

  /**
   * One row per (slice, rank); see docs for the columns.
   *
   * @param imageName the image's name, or null for a folder (each slice is named by its file)
   */
  static Table table(String imageName, FloatStack images, List<Explanation> explanations, List<String> classes) {
    Table rt = new Table();
    for (Explanation e : explanations) {
      for (Explanation.Contribution c : e.top) {
        rt.incrementCounter();
        rt.addValue("image", imageName != null ? imageName : images.label(e.slice));
        rt.addValue("slice", e.slice + 1);
        rt.addValue("predicted", classes.get(e.predicted));
        rt.addValue("probability", e.probabilities[e.predicted]);
        for (int k = 0; k < classes.size(); k++) rt.addValue("p_" + classes.get(k), e.probabilities[k]);
        rt.addValue("ood", e.ood ? 1 : 0);
        rt.addValue("target", classes.get(e.target));
        rt.addValue("rank", c.rank);
        rt.addValue("prototype", c.prototype);
        rt.addValue("prototype_class", classes.get(c.info.classIndex));
        rt.addValue("similarity", c.similarity);
        rt.addValue("weight", c.weight);
        rt.addValue("contribution", c.contribution);
        rt.addValue("source_image", c.info.sourceImage);
        rt.addValue("source_box", box(c.info.activationBox));
        rt.addValue("box", box(c.box));
      }
    }
    for (String col : new String[] {"probability", "similarity", "weight", "contribution"}) {
      rt.setDecimalPlaces(col, 6);
    }
    return rt;
  }

  /**
   * One row of {@link PrototypeQuality} numbers for the explained images: distinct prototypes (same source patch or
   * cosine above {@value PrototypeQuality#DUPLICATE_COSINE}), the share of the shown boxes outside the anatomy
   * (estimated from each slice, {@link Foreground}) or touching the border, the stability of the top prototypes under
   * Gaussian noise of σ = {@value #STABILITY_NOISE} × the intensity span ({@value #STABILITY_RUNS} runs, seed
   * {@value #STABILITY_SEED}), and the share of slices flagged out of distribution.
   */
  static Table quality(String model, PrototypeClassifier c, FloatStack image, List<Explanation> explanations, Fit fit,
      int top) {
    int n = image.planeCount();
    boolean[][] anatomy = new boolean[n][];
    int px = c.width() * c.height();
    float[] fitted = new float[n * px];
    Fit.Placement placement = fit.place(image.width, image.height, c.width(), c.height());
    for (int i = 0; i < n; i++) {
      anatomy[i] = Foreground.estimate(image.plane(i), image.width, image.height);
      System.arraycopy(placement.apply(image.plane(i)), 0, fitted, i * px, px);
    }
    PrototypeQuality.Distinctness d = PrototypeQuality.distinctness(c);
    PrototypeQuality.Placement pl = PrototypeQuality.placement(explanations, anatomy, image.width, image.height);
    PrototypeQuality.Stability st = PrototypeQuality.stability(c, fitted, n, top, PrototypeQuality.noiseSigma(fitted,
        STABILITY_NOISE), STABILITY_RUNS, STABILITY_SEED);
    int ood = 0;
    for (Explanation e : explanations) if (e.ood) ood++;
    Table t = new Table();
    t.incrementCounter();
    t.addValue("model", model);
    t.addValue("images", n);
    t.addValue("prototypes", d.prototypes);
    t.addValue("distinct", d.distinct);
    t.addValue("distinct_share", d.share);
    t.addValue("unused", d.unused);
    t.addValue("boxes", pl.boxes);
    t.addValue("outside_anatomy_share", pl.outsideShare());
    t.addValue("border_share", pl.borderShare());
    t.addValue("stability_top", st.top);
    t.addValue("stability_sigma", st.sigma);
    t.addValue("stability_top_share", st.topShare);
    t.addValue("stability_location_share", st.locationShare);
    t.addValue("ood_share", ood / (double) n);
    for (String col : new String[] {"distinct_share", "outside_anatomy_share", "border_share", "stability_sigma",
        "stability_top_share", "stability_location_share", "ood_share"}) {
      t.setDecimalPlaces(col, 6);
    }
    return t;
  }

  private static String box(int[] b) {
    return b[0] + "," + b[1] + "," + b[2] + "," + b[3];
  }

  private static Map<String, String> provenance(Request r, LoadedModel<PrototypeClassifier> m, FloatStack image,
      String imageName) {
    PrototypeClassifier c = m.get();
    Map<String, String> p = Provenance.of(COMMAND, r);
    p.putAll(m.provenance());
    p.put("method", c.method());
    p.put("image", imageName);
    p.put("image_size", image.width + "x" + image.height);
    p.put("slices", Integer.toString(image.planeCount()));
    p.put("model_input", c.width() + "x" + c.height());
    p.put("input_scale", number((double) image.width / c.width()) + "," + number((double) image.height / c.height()));
    p.put("target", r.target == null || r.target.trim().isEmpty() ? "predicted class" : r.target.trim());
    p.put("top", Integer.toString(Math.min(r.top, c.prototypes())));
    p.put("contribution", "score x last-layer weight of the target class");
    p.put("probability", "calibrated: softmax(logits / T), T = " + number(c.confidence().temperature())
        + " (docs/confidence.md)");
    p.put("ood", c.confidence().hasOodThreshold() ? c.confidence().toString() : "no OOD thresholds in the bundle");
    PrototypeMapKind kind = PrototypeMapKind.of(r.map);
    if (kind == PrototypeMapKind.UPSAMPLE) {
      p.put("prototype_map", "latent similarity upsampled to the image: bicubic, Keys a=-0.75 (OpenCV INTER_CUBIC),"
          + " half-pixel centres");
    } else {
      p.put("prototype_map", (kind == PrototypeMapKind.IG ? "Integrated Gradients (signed)" : kind
          == PrototypeMapKind.GRADIENT ? "|gradient|" : "SmoothGrad |gradient|") + " of the prototype's score with"
          + " respect to the model's input, bicubic to the fitted rectangle of the image");
      p.putAll(new AttributionSettings().describe(c.height(), c.width()));
    }
    p.put("box", "x,y,w,h of the pixels at or above the 95th percentile of the prototype map, image pixels");
    return p;
  }

  /** Six significant digits, no trailing zeros. */
  private static String number(double v) {
    return new BigDecimal(String.format(Locale.ROOT, "%.6g", v)).stripTrailingZeros().toPlainString();
  }
}
