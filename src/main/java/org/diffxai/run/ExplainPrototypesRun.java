package org.diffxai.run;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.ClassNames;
import org.diffxai.core.InfoText;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.Table;
import org.diffxai.explain.ExplainInput;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.ExplanationImages;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.FloatStack;
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

  /** The keys of Explain with Prototypes. */
  public static class Request extends ModelKeys {
    @Parameter(style = "image", required = false, persist = false, description = "Image to explain: an open image or"
        + " an image file; empty = the active image. A stack explains every slice.")
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
  }

  /** What a run produced. */
  public static final class Result {
    public final List<Explanation> explanations;
    public final ResultImage overlays;
    public final Table table;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(List<Explanation> explanations, ResultImage overlays, Table table, Map<String, String> provenance,
        List<Path> files) {
      this.explanations = explanations;
      this.overlays = overlays;
      this.table = table;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().image(overlays).table("results", "Prototype explanation", table);
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
    org.diffxai.io.Planes input = env.inputs.image("image", r.image);
    String imageName = input.name();
    FloatStack image = ExplainInput.grayPlanes(input, imageName);
    PrototypeClassifier c = m.get();
    List<String> classes = c.classNames();
    int target = ClassNames.target(classes, r.target, m.name());
    try (OutputFolder out = OutputFolder.open(r, COMMAND, TABLE_FILE, OVERLAYS_FILE, PROVENANCE_FILE)) {
      List<Explanation> explanations = new PrototypeExplainer(c, m.name()).explain(image, r.top, target, r.batch,
          imageName, env.progress);
      env.progress.checkCancelled();
      Map<String, String> prov = provenance(r, m, image, imageName);
      ResultImage overlays = ResultImage.ofRgb("explanation", "Prototype explanation",
          ExplanationImages.overlays(image, explanations, m.gallery(), classes), Map.of("Info", InfoText.of(prov)));
      Table table = table(imageName, explanations, classes);
      if (out.active()) {
        out.tiff(OVERLAYS_FILE, overlays);
        out.csv(TABLE_FILE, table);
        out.json(PROVENANCE_FILE, prov);
      }
      return new Result(explanations, overlays, table, prov, out.commit());
    }
  }

  /** One row per (slice, rank); see docs for the columns. */
  static Table table(String imageName, List<Explanation> explanations, List<String> classes) {
    Table rt = new Table();
    for (Explanation e : explanations) {
      for (Explanation.Contribution c : e.top) {
        rt.incrementCounter();
        rt.addValue("image", imageName);
        rt.addValue("slice", e.slice + 1);
        rt.addValue("predicted", classes.get(e.predicted));
        rt.addValue("probability", e.probabilities[e.predicted]);
        for (int k = 0; k < classes.size(); k++) rt.addValue("p_" + classes.get(k), e.probabilities[k]);
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
    p.put("resize", image.width == c.width() && image.height == c.height() ? "none"
        : "bilinear to the model input, averaging when shrinking (as training images)");
    p.put("target", r.target == null || r.target.trim().isEmpty() ? "predicted class" : r.target.trim());
    p.put("top", Integer.toString(Math.min(r.top, c.prototypes())));
    p.put("contribution", "score x last-layer weight of the target class");
    p.put("similarity_map", "latent similarity upsampled to the image: bicubic, Keys a=-0.75 (OpenCV INTER_CUBIC),"
        + " half-pixel centres");
    p.put("box", "x,y,w,h of the pixels at or above the 95th percentile of the upsampled map, image pixels");
    return p;
  }

  /** Six significant digits, no trailing zeros. */
  private static String number(double v) {
    return new BigDecimal(String.format(Locale.ROOT, "%.6g", v)).stripTrailingZeros().toPlainString();
  }
}
