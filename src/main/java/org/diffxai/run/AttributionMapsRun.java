package org.diffxai.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.diffxai.attribution.AttributionMethod;
import org.diffxai.attribution.AttributionResult;
import org.diffxai.attribution.AttributionSettings;
import org.diffxai.attribution.Attributions;
import org.diffxai.core.ClassNames;
import org.diffxai.core.Classifier;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.InfoText;
import org.diffxai.core.ReferenceImage;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.io.Fit;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageInput;
import org.diffxai.io.InputImages;
import org.diffxai.metrics.FaithfulnessMetrics;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.scijava.plugin.Parameter;

/**
 * Attribution Maps: which pixels of each image a classifier's logit for the target class depends on, by one
 * attribution method of {@link Attributions} (Saliency, Gradient × Input, Integrated Gradients, SmoothGrad, Grad-CAM,
 * Occlusion; docs/attributions.md). Any classifier bundle works, prototype networks included. Outputs a stack with the
 * image (as the model saw it, at the model's size) and its map per slice, a table with one row per image (target, its
 * probability, the logit, and the method's numbers such as Integrated Gradients' completeness gap), and with an output
 * folder {@code attributions.tif}, {@code attributions.csv} and {@code attributions.json}.
 */
public final class AttributionMapsRun {
  public static final String COMMAND = "Attribution Maps";
  public static final String MAPS_FILE = "attributions.tif";
  public static final String TABLE_FILE = "attributions.csv";
  public static final String PROVENANCE_FILE = "attributions.json";

  /** The keys of Attribution Maps. */
  public static class Request extends ModelKeys {
    @Parameter(style = "image", required = false, persist = false, description = "Images to explain: an open image,"
        + " an image file, or a folder; empty = the active image. A stack explains every slice.")
    public String image = "";

    @Parameter(style = "model:classifier", persist = false,
        description = "Classifier bundle folder (prototype networks too), or 'sample-ppnet' for the bundled sample")
    public String model = "sample-ppnet";

    @Parameter(choices = {"integrated_gradients", "saliency", "gradient_x_input", "smoothgrad", "gradcam",
        "occlusion"}, persist = false, description = "Attribution method (docs/attributions.md)")
    public String method = "integrated_gradients";

    @Parameter(required = false, persist = false,
        description = "Class to explain (name or index); empty = each image's predicted class")
    public String target = "";

    @Parameter(choices = {"blur", "zero", "min", "mean"}, persist = false, description = "integrated_gradients: where"
        + " the path starts; occlusion: what a covered patch becomes (blur = Gaussian of sigma min(width, height)/16)")
    public String baseline = "blur";

    @Parameter(min = "1", persist = false, description = "integrated_gradients: gradient evaluations along the path")
    public int steps = 32;

    @Parameter(min = "1", persist = false, description = "smoothgrad: noisy copies per image")
    public int samples = 25;

    @Parameter(min = "0", persist = false,
        description = "smoothgrad: noise sigma as a fraction of each image's intensity range")
    public double noise = 0.15;

    @Parameter(persist = false, description = "smoothgrad: random seed of the noise")
    public long seed = 0;

    @Parameter(min = "0", persist = false, description = "occlusion: side of the square patch in pixels; 0 ="
        + " min(width, height)/8")
    public int patch_size = 0;

    @Parameter(min = "1", persist = false, description = "Images per model call")
    public int batch = 32;

    @Parameter(choices = {"pad", "crop", "stretch"}, persist = false, description = Fit.KEY_DESCRIPTION)
    public String fit = Fit.KEY_DEFAULT;

    /** The method settings these keys describe. */
    public AttributionSettings settings() {
      AttributionSettings s = new AttributionSettings();
      s.baseline = ReferenceImage.of(baseline, "baseline");
      s.steps = steps;
      s.samples = samples;
      s.noise = noise;
      s.seed = seed;
      s.patch = patch_size;
      return s;
    }
  }

  /** What a run produced. */
  public static final class Result {
    /** The maps, [image][H·W] at the model's size, with the method's numbers. */
    public final AttributionResult attributions;
    /** Per slice: the image's channels as the model saw them, then its map. */
    public final ResultImage maps;
    public final Table table;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(AttributionResult attributions, ResultImage maps, Table table, Map<String, String> provenance,
        List<Path> files) {
      this.attributions = attributions;
      this.maps = maps;
      this.table = table;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().image(maps).table("results", "Attribution maps", table);
    }
  }

  private AttributionMapsRun() {}

  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    if (r.model == null || r.model.trim().isEmpty()) {
      throw new UserException("Give model= (a classifier bundle folder, e.g. model=sample-ppnet).");
    }
    try (LoadedModel<Classifier> m = Models.classifier(r.model.trim(), r.deviceChoice(), r.batch, r.trust,
        env.progress)) {
      return run(r, m, env);
    }
  }

  /** Explains with an opened classifier (the caller closes it). */
  public static Result run(Request r, LoadedModel<? extends Classifier> m, Env env) {
    RequestKeys.of(Request.class).validate(r);
    Classifier c = m.get();
    AttributionMethod method = AttributionMethod.of(r.method);
    AttributionSettings settings = r.settings();
    settings.check(c.height(), c.width());
    InputImages in = ImageKeys.read(env, "image", r.image, ImageInput.Settings.size(c.width(), c.height())
        .fit(Fit.of(r.fit)).channels(c.channels()), env.progress);
    String imageName = ImageKeys.name(env, "image", r.image, in);
    FloatStack images = in.stack();
    int n = images.sampleCount();
    List<String> classes = c.classNames();
    int fixed = ClassNames.target(classes, r.target, m.name());
    float[] x = images.toNHWC();
    float[][] logits = logits(c, x, n, r.batch);
    int[] targets = new int[n];
    for (int i = 0; i < n; i++) targets[i] = fixed >= 0 ? fixed : argmax(logits[i]);
    try (OutputFolder out = OutputFolder.open(r, COMMAND, MAPS_FILE, TABLE_FILE, PROVENANCE_FILE)) {
      AttributionResult a = Attributions.compute(method, c, m.name(), x, n, new Objective(Kind.LOGIT, targets),
          settings, env.progress);
      env.progress.checkCancelled();
      Map<String, String> prov = provenance(r, m, method, settings, imageName, n);
      prov.putAll(in.summary().toStrings());
      ResultImage maps = ResultImage.of("attributions", "Attribution maps (" + method.key() + ")",
          stack(images, a), Map.of("Info", InfoText.of(prov)), looks(c.channels(), method));
      Table table = table(imageName, images, ImageKeys.isFolder(r.image), a, logits, targets, classes);
      if (out.active()) {
        out.tiff(MAPS_FILE, maps);
        out.csv(TABLE_FILE, table);
        out.json(PROVENANCE_FILE, prov);
      }
      return new Result(a, maps, table, prov, out.commit());
    }
  }

  /**
   * Signed methods (Gradient × Input, Integrated Gradients, Occlusion: a map value can lower the logit) get a diverging
   * lookup table centred on 0; the unsigned ones a heat table.
   */
  static boolean signed(AttributionMethod m) {
    return m == AttributionMethod.GRADIENT_X_INPUT || m == AttributionMethod.INTEGRATED_GRADIENTS
        || m == AttributionMethod.OCCLUSION;
  }

  private static ResultImage.Look[] looks(int channels, AttributionMethod m) {
    ResultImage.Look[] l = new ResultImage.Look[channels + 1];
    for (int k = 0; k < channels; k++) l[k] = ResultImage.Look.GREY;
    l[channels] = signed(m) ? ResultImage.Look.SIGNED : ResultImage.Look.HEAT;
    return l;
  }

  /** Per image its channels, then its map; slice labels kept. */
  private static FloatStack stack(FloatStack images, AttributionResult a) {
    int n = images.sampleCount(), ch = images.channels;
    float[][] planes = new float[n * (ch + 1)][];
    String[] labels = new String[planes.length];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < ch; k++) {
        int p = i * ch + k;
        planes[i * (ch + 1) + k] = images.plane(p);
        labels[i * (ch + 1) + k] = images.label(p);
      }
      planes[i * (ch + 1) + ch] = a.maps[i];
      labels[i * (ch + 1) + ch] = a.method.key();
    }
    return new FloatStack(images.width, images.height, ch + 1, n, 1, planes, labels);
  }

  private static float[][] logits(Classifier c, float[] x, int n, int batch) {
    int d = c.height() * c.width() * c.channels();
    float[][] out = new float[n][];
    for (int start = 0; start < n; start += batch) {
      int b = Math.min(batch, n - start);
      float[] part = new float[b * d];
      System.arraycopy(x, start * d, part, 0, b * d);
      float[][] l = c.logits(part, b);
      System.arraycopy(l, 0, out, start, b);
    }
    return out;
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
    return best;
  }

  /** One row per image: its name, target, the target's probability and logit, the prediction, the method's numbers. */
  static Table table(String imageName, FloatStack images, boolean folder, AttributionResult a, float[][] logits,
      int[] targets, List<String> classes) {
    Table t = new Table();
    for (int i = 0; i < targets.length; i++) {
      int predicted = argmax(logits[i]);
      t.incrementCounter();
      t.addValue("image", folder ? images.label(i * images.channels) : imageName);
      t.addValue("slice", i + 1);
      t.addValue("target", classes.get(targets[i]));
      t.addValue("probability", FaithfulnessMetrics.softmax(logits[i], targets[i]));
      t.addValue("logit", logits[i][targets[i]]);
      t.addValue("predicted", classes.get(predicted));
      t.addValue("method", a.method.key());
      for (Map.Entry<String, double[]> e : a.numbers.entrySet()) t.addValue(e.getKey(), e.getValue()[i]);
    }
    List<String> cols = new ArrayList<>(List.of("probability", "logit"));
    cols.addAll(a.numbers.keySet());
    for (String col : cols) t.setDecimalPlaces(col, 6);
    return t;
  }

  private static Map<String, String> provenance(Request r, LoadedModel<? extends Classifier> m,
      AttributionMethod method, AttributionSettings s, String imageName, int n) {
    Classifier c = m.get();
    Map<String, String> p = Provenance.of(COMMAND, r);
    p.putAll(m.provenance());
    p.put("image", imageName);
    p.put("images", Integer.toString(n));
    p.put("model_input", c.width() + "x" + c.height() + "x" + c.channels());
    p.put("target", r.target == null || r.target.trim().isEmpty() ? "predicted class" : r.target.trim());
    p.put("objective", "logit of the target class, image intensity units");
    p.put("attribution.method", method.key());
    p.putAll(s.describe(c.height(), c.width()));
    p.put("maps", "at the model's input size (the image fitted by 'fit'); " + (signed(method) ? "signed" : "unsigned"));
    return p;
  }
}
