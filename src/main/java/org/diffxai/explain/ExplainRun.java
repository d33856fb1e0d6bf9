package org.diffxai.explain;

import com.google.gson.GsonBuilder;
import ij.IJ;
import ij.ImagePlus;
import ij.io.FileSaver;
import ij.measure.ResultsTable;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.Version;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Csv;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;

/**
 * One {@code Explain with Prototypes} run on a loaded model: explanations of every slice, the overlay stack, the
 * results table and, with an output directory, {@code explain.csv}, {@code overlays.tif} and {@code explain.json}
 * (written only when everything is computed, each to a temporary name renamed into place, so a failed run leaves none).
 */
public final class ExplainRun {

  public static final String TABLE_FILE = "explain.csv";
  public static final String OVERLAYS_FILE = "overlays.tif";
  public static final String PROVENANCE_FILE = "explain.json";

  /** What to explain. Field names follow the command's keys. */
  public static final class Request {
    /** Gray planes (see {@link ExplainInput#grayPlanes}); every plane is explained. */
    public FloatStack image;
    /** Title or file of the image, for the table, messages and the record. */
    public String imageName = "";
    public int top = 5;
    /** Class name or index; empty = each slice's predicted class. */
    public String target = "";
    public int batch = 32;
    /** Output directory, or null. */
    public Path output;
  }

  /** A loaded prototype network with its gallery and the provenance of its bundle; closing closes the network. */
  public static final class Model implements AutoCloseable {
    public final PrototypeClassifier classifier;
    public final String name;
    /** The bundle's gallery: one plane per prototype source image, indexed by {@code PrototypeInfo.galleryPlane}. */
    public final FloatStack gallery;
    /** Model name, checksum, device and the like, recorded with every output. */
    public final Map<String, String> provenance;

    public Model(PrototypeClassifier classifier, String name, FloatStack gallery, Map<String, String> provenance) {
      this.classifier = classifier;
      this.name = name;
      this.gallery = gallery;
      this.provenance = provenance;
    }

    @Override
    public void close() {
      classifier.close();
    }
  }

  /** What a run produced. */
  public static final class Result {
    public List<Explanation> explanations;
    /** RGB stack "Prototype explanation": one panel per (slice, rank), see {@link ExplanationImages}. */
    public ImagePlus overlays;
    public ResultsTable table;
    public Map<String, String> provenance;
  }

  private ExplainRun() {}

  /**
   * Opens a prototype-network bundle ({@code sample-<x>} or a directory; docs/classifiers.md), reads its gallery and
   * loads the network on the device with {@code batch} images per TensorFlow call.
   *
   * @throws UserException when the bundle is missing, damaged, not a prototype network, or its gallery does not
   *     show every prototype
   */
  public static Model open(String keyOrDir, String device, int batch, Progress progress) {
    progress.report("Opening model " + keyOrDir, Double.NaN);
    ClassifierBundle b = ClassifierBundle.open(keyOrDir);
    DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(b, device);
    try {
      c.batchSize(batch);
      Path g = b.galleryPath();
      if (g == null) {
        throw new UserException("Model " + b.name() + " has no " + ClassifierBundle.GALLERY + " (the prototypes'"
            + " source images) in " + b.dir() + ". Restore the complete bundle.");
      }
      FloatStack gallery = ImageReaders.readFloatStack(g);
      for (int p = 0; p < c.prototypes(); p++) {
        if (c.prototype(p).galleryPlane >= gallery.planeCount()) {
          throw new UserException("Model " + b.name() + ": prototype " + p + " is shown on plane "
              + c.prototype(p).galleryPlane + " of " + g + ", which has " + gallery.planeCount() + " planes."
              + " Restore the complete bundle.");
        }
      }
      return new Model(c, b.name(), gallery, c.provenance());
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  public static Result run(Request r, Model m, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    if (r.output != null) AtomicFiles.ensureDirectory(r.output);
    PrototypeClassifier c = m.classifier;
    List<String> classes = c.classNames();
    PrototypeExplainer explainer = new PrototypeExplainer(c, m.name);
    int target = PrototypeExplainer.targetIndex(r.target, classes, m.name);
    Result res = new Result();
    res.explanations = explainer.explain(r.image, r.top, target, r.batch, r.imageName, progress);
    progress.checkCancelled();
    res.provenance = provenance(r, m);
    res.overlays = ExplanationImages.overlays(r.image, res.explanations, m.gallery, classes);
    res.overlays.setProperty("Info", infoText(res.provenance));
    res.table = table(r.imageName, res.explanations, classes);
    if (r.output != null) write(r.output, res);
    return res;
  }

  /** One row per (slice, rank); see the README for the columns. */
  static ResultsTable table(String imageName, List<Explanation> explanations, List<String> classes) {
    ResultsTable rt = new ResultsTable();
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
      rt.setDecimalPlaces(rt.getColumnIndex(col), 6);
    }
    return rt;
  }

  private static String box(int[] b) {
    return b[0] + "," + b[1] + "," + b[2] + "," + b[3];
  }

  private static Map<String, String> provenance(Request r, Model m) {
    PrototypeClassifier c = m.classifier;
    Map<String, String> p = new LinkedHashMap<>();
    p.put("software", "Diffusion XAI for Fiji " + Version.get());
    p.put("command", "Explain with Prototypes");
    p.put("date", OffsetDateTime.now().toString());
    p.putAll(m.provenance);
    p.put("method", c.method());
    p.put("image", r.imageName);
    p.put("image_size", r.image.width + "x" + r.image.height);
    p.put("slices", Integer.toString(r.image.planeCount()));
    p.put("model_input", c.width() + "x" + c.height());
    p.put("input_scale", number((double) r.image.width / c.width()) + ","
        + number((double) r.image.height / c.height()));
    p.put("resize", r.image.width == c.width() && r.image.height == c.height() ? "none"
        : "bilinear to the model input, averaging when shrinking (as training images)");
    p.put("target", r.target == null || r.target.trim().isEmpty() ? "predicted class" : r.target.trim());
    p.put("top", Integer.toString(Math.min(r.top, c.prototypes())));
    p.put("batch", Integer.toString(r.batch));
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

  private static String infoText(Map<String, String> prov) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : prov.entrySet()) sb.append(e.getKey()).append(" = ").append(e.getValue())
        .append('\n');
    return sb.toString();
  }

  /** All three files to temporary names first, then renamed into place: none appears unless all were written. */
  private static void write(Path dir, Result res) {
    try (AtomicFiles.Pending tif = AtomicFiles.begin(dir.resolve(OVERLAYS_FILE));
        AtomicFiles.Pending csv = AtomicFiles.begin(dir.resolve(TABLE_FILE));
        AtomicFiles.Pending json = AtomicFiles.begin(dir.resolve(PROVENANCE_FILE))) {
      // A second ImagePlus on the same stack: saving renames the image it is given after the (temporary) file.
      ImagePlus copy = new ImagePlus(res.overlays.getTitle(), res.overlays.getStack());
      copy.setProperty("Info", res.overlays.getProperty("Info"));
      IJ.redirectErrorMessages();
      if (!new FileSaver(copy).saveAsTiff(tif.temp().toString())) {
        throw AtomicFiles.cannotWrite(tif.target(), new IOException("ImageJ could not save the TIFF"));
      }
      try {
        Files.write(csv.temp(), Csv.of(res.table).getBytes(StandardCharsets.UTF_8));
        Files.write(json.temp(), (new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create()
            .toJson(res.provenance) + "\n").getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw AtomicFiles.cannotWrite(dir, e);
      }
      tif.commit();
      csv.commit();
      json.commit();
    }
  }
}
