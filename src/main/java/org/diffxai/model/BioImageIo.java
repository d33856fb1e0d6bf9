package org.diffxai.model;

import org.diffxai.io.Checksums;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.diffxai.Version;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.Seeds;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.ImageReaders;
import org.diffxai.io.Npy;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * bioimage.io model packages (model description format 0.5, https://bioimage.io): export of the project's bundles and
 * import of packages as bundles.
 *
 * <p><b>Export</b> ({@link #exportClassifier}, {@link #exportDenoiser}) writes a folder with {@code bioimageio.yaml}
 * (typed axes, test tensors with sha256, the weights entry of the bundle's format, authors, cite, license,
 * documentation, covers, reproducibility tolerance), the weights ({@code weights.onnx}, {@code weights.pt} or, for a
 * SavedModel, {@code tf_saved_model.zip}), {@code test_input*.npy}/{@code test_output.npy} computed by the model
 * itself, {@code cover.png}, {@code README.md} and, as attachments, the bundle's model.json (and
 * scheduler_config.json for denoisers), so a re-import restores the bundle exactly. {@link #zip} packs the folder.
 *
 * <p><b>Import</b> ({@link #importPackage}) reads a package folder or .zip whose weights are
 * {@code tensorflow_saved_model_bundle}, {@code onnx} or {@code torchscript}, writes an equivalent bundle into the cache
 * ({@code <cache>/bioimageio/<name>-<12 hex of the description's SHA-256>/}), and runs the package's test inputs
 * through it ("Test model"): outputs must match the test outputs within the declared reproducibility tolerance
 * (default absolute 1e-3, relative 1e-3, 100 mismatched values per million), else the import fails with one message.
 * Input preprocessing {@code scale_linear} (+ {@code clip}) becomes the bundle's intensity mapping; per-image
 * {@code scale_range} and {@code zero_mean_unit_variance} are kept in {@code preprocessing.json} and run by
 * {@link Preprocessing}. A package opens as a denoiser when it declares inputs {@code x} and {@code t} (and a
 * {@code scheduler_config.json} attachment), else as a classifier (one image input, one output [batch, K]).
 */
public final class BioImageIo {
  /** The description file of a package (older packages call it rdf.yaml). */
  public static final String DESCRIPTION = "bioimageio.yaml";
  /** The format_version written; the schema of spec-bioimage-io requires this patch version for 0.5 models. */
  public static final String FORMAT_VERSION = "0.5.7";
  static final String DOC = "docs/bring-your-model.md";
  /** The declared reproducibility tolerance of exported packages (absolute and relative). */
  public static final double TOLERANCE = 1e-4;

  /** What to open a package as. */
  public enum Role {
    CLASSIFIER,
    DENOISER
  }

  private BioImageIo() {}

  // =============================================================================================== export

  /** Extra description for an export: citation entries, tags, a documentation paragraph and the timestamp. */
  public static final class Extras {
    List<Map<String, Object>> cite = new ArrayList<>();
    List<String> tags = new ArrayList<>();
    String documentation = "";
    OffsetDateTime timestamp;
    String license;
    String authors;

    /** The licence (an SPDX identifier) when model.json declares none, or to override it. */
    public Extras license(String spdx) {
      license = spdx;
      return this;
    }

    /** The authors, comma-separated, when model.json declares none, or to override them. */
    public Extras authors(String names) {
      authors = names;
      return this;
    }

    /** Adds a citation: text and a DOI (or null) and a URL (or null). */
    public Extras cite(String text, String doi, String url) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("text", text);
      if (doi != null) c.put("doi", doi);
      if (url != null) c.put("url", url);
      cite.add(c);
      return this;
    }

    public Extras tag(String t) {
      tags.add(t);
      return this;
    }

    /** A paragraph added to the generated README.md. */
    public Extras documentation(String markdown) {
      documentation = markdown;
      return this;
    }

    /** The description's timestamp (default: now); fix it for byte-identical exports. */
    public Extras timestamp(OffsetDateTime t) {
      timestamp = t;
      return this;
    }
  }

  /**
   * Exports a classifier bundle (a prototype network or a plain classifier, any engine) as a bioimage.io package folder.
   *
   * @param testImage one image (H·W·C values, NHWC, image intensity) for the test tensors, or null for the first
   *     plane of the bundle's gallery.tif (prototype networks)
   * @param out the package folder to create (replaced atomically)
   * @throws UserException when the bundle lacks what bioimage.io requires (license, authors) or no test image is known
   */
  public static Path exportClassifier(ClassifierBundle bundle, float[] testImage, Path out, String device, Extras extras) {
    ModelFormat format = ModelFormat.detect(bundle.dir());
    ModelJson mj = require(bundle.name(), BundleDirs.readModelJson(bundle.dir(), ClassifierBundle.KIND), extras);
    if (Files.isRegularFile(bundle.dir().resolve(EngineModels.PREPROCESSING_JSON))) {
      throw new UserException("Model " + bundle.name() + " was imported from bioimage.io with per-image preprocessing; "
          + "export the original package instead of re-exporting the import.");
    }
    try (Classifier c = Models.classifier(bundle, device)) {
      int h = c.height();
      int w = c.width();
      int ch = c.channels();
      float[] image = testImage;
      if (image == null) {
        Path g = bundle.galleryPath();
        if (g == null) {
          throw new UserException("Model " + bundle.name() + " has no gallery.tif to take a test image from. Give a "
              + "test image (" + h + "x" + w + ", " + ch + " channel(s)) for the package's test tensors.");
        }
        image = ImageReaders.readFloatStack(g).plane(0);
      }
      if (image.length != h * w * ch) {
        throw new UserException("The test image has " + image.length + " values, but model " + bundle.name() + " takes "
            + h + "x" + w + "x" + ch + ". Give an image of that size.");
      }
      float[] logits = c.logits(image.clone(), 1)[0];
      TensorLayout layout = EngineModels.layout(bundle.dir(), ClassifierBundle.KIND, format);
      List<String> names = c.classNames();
      Map<String, Object> input = tensor("x", "image, in image intensity (the bundle maps it to model space)",
          imageAxes(layout, h, w, channelNames("channel", ch)), "test_input.npy");
      List<Map<String, Object>> pre = intensityPreprocessing(bundle.intensity(), mj == null ? null : mj.inputClip);
      if (!pre.isEmpty()) input.put("preprocessing", pre);
      Map<String, Object> output = tensor("logits", "class logits (softmax gives the probabilities)",
          Arrays.asList(axis("batch", null), channelAxis(names)), "test_output.npy");
      Map<String, byte[]> tensors = new LinkedHashMap<>();
      tensors.put("test_input.npy", Npy.float32(layout.fromNhwc(image, 1, h, w, ch), layout.shape(1, h, w, ch)));
      tensors.put("test_output.npy", Npy.float32(logits, 1, names.size()));
      String kind = bundle.isPrototypeNetwork() ? bundle.method() + " prototype network" : "image classifier";
      if (bundle.isPrototypeNetwork()) {
        extras = extras == null ? new Extras() : extras;
        extras.cite("Chen C, Li O, Tao C, Barnett AJ, Su J, Rudin C. This Looks Like That: Deep Learning for "
            + "Interpretable Image Recognition. NeurIPS 2019.", "10.48550/arXiv.1806.10574", null);
      }
      return write(out, bundle.dir(), format, mj, bundle.name(), kind, Arrays.asList(input),
          Collections.singletonList(output), tensors, image, h, w, ch, extras, Collections.emptyList(), "classification");
    }
  }

  /**
   * Exports a denoiser bundle (any engine) as a bioimage.io package folder. Its test tensors are one seeded sample of
   * Gaussian noise at timestep 500 (class 0, zero condition) and the model's output for it; scheduler_config.json and
   * model.json travel as attachments.
   */
  public static Path exportDenoiser(DenoiserBundle bundle, Path out, long seed, String device, Extras extras) {
    ModelFormat format = ModelFormat.detect(bundle.directory());
    ModelJson mj = require(bundle.name(), BundleDirs.readModelJson(bundle.directory(), DenoiserBundle.KIND), extras);
    try (Denoiser d = Models.denoiser(bundle, device, null)) {
      int h = d.height();
      int w = d.width();
      int c = d.channels();
      int k = d.conditionChannels();
      TensorLayout layout = EngineModels.layout(bundle.directory(), DenoiserBundle.KIND, format);
      float[] x = new float[h * w * c];
      Seeds.gaussian(seed, "bioimageio-test-input", 0).fill(x);
      float[] t = {500f};
      int[] label = d.classConditional() ? new int[1] : null;
      float[] cond = k > 0 ? new float[h * w * k] : null;
      float[] eps = d.predict(x, t, label, cond, 1);
      List<Map<String, Object>> inputs = new ArrayList<>();
      Map<String, byte[]> tensors = new LinkedHashMap<>();
      inputs.add(tensor("x", "noisy sample x_t in model space", imageAxes(layout, h, w, channelNames("channel", c)),
          "test_input_x.npy"));
      tensors.put("test_input_x.npy", Npy.float32(layout.fromNhwc(x, 1, h, w, c), layout.shape(1, h, w, c)));
      inputs.add(tensor("t", "training timestep of each sample, e.g. 981.0", Arrays.asList(axis("batch", null)),
          "test_input_t.npy"));
      tensors.put("test_input_t.npy", Npy.float32(t, 1));
      if (label != null) {
        Map<String, Object> l = tensor("label", "class index", Arrays.asList(axis("batch", null)),
            "test_input_label.npy");
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("type", "int32");
        data.put("values", new ArrayList<>(bundle.classNames()));
        l.put("data", data);
        inputs.add(l);
        tensors.put("test_input_label.npy", Npy.int32(label, 1));
      }
      if (cond != null) {
        inputs.add(tensor("condition", "condition channels (e.g. a mask)", imageAxes(layout, h, w,
            channelNames("condition", k)), "test_input_condition.npy"));
        tensors.put("test_input_condition.npy", Npy.float32(cond, layout.shape(1, h, w, k)));
      }
      Map<String, Object> output = tensor("output", "model output; its meaning (noise, v or sample) is the "
          + "scheduler's prediction_type", imageAxes(layout, h, w, channelNames("channel", c)), "test_output.npy");
      tensors.put("test_output.npy", Npy.float32(layout.fromNhwc(eps, 1, h, w, c), layout.shape(1, h, w, c)));
      extras = extras == null ? new Extras() : extras;
      extras.cite("Ho J, Jain A, Abbeel P. Denoising Diffusion Probabilistic Models. NeurIPS 2020.",
          "10.48550/arXiv.2006.11239", null);
      float[] cover = x.clone();
      return write(out, bundle.directory(), format, mj, bundle.name(), "diffusion denoiser", inputs,
          Collections.singletonList(output), tensors, cover, h, w, c, extras,
          Collections.singletonList(DenoiserBundle.SCHEDULER_CONFIG), "denoising");
    }
  }

  /** model.json's description with the licence and authors of the extras; both are required. */
  private static ModelJson require(String name, ModelJson d, Extras extras) {
    ModelJson mj = d == null ? new ModelJson() : d;
    if (extras != null && extras.license != null) mj.license = extras.license;
    if (extras != null && extras.authors != null) mj.authors = extras.authors;
    if (mj.license == null || mj.license.trim().isEmpty()) {
      throw new UserException("Model " + name + " declares no license in model.json; a bioimage.io package needs one "
          + "(an SPDX identifier such as CC-BY-4.0 or BSD-2-Clause). Give it to the export (license=MIT), or add \"license\" to "
          + "model.json (its checksums stay valid: model.json is not listed in sha256).");
    }
    if (mj.authors == null || mj.authors.trim().isEmpty()) {
      throw new UserException("Model " + name + " declares no authors in model.json; a bioimage.io package names them. "
          + "Give them to the export, or add \"authors\": [\"Name\", ...] to model.json.");
    }
    return mj;
  }

  /** scale_linear (+ clip) that maps image intensity to model space as the bundle's intensity mapping does. */
  private static List<Map<String, Object>> intensityPreprocessing(IntensityMapping m, float[] clip) {
    List<Map<String, Object>> out = new ArrayList<>();
    if (m.scale != 1 || m.offset != 0) {
      Map<String, Object> kw = new LinkedHashMap<>();
      kw.put("gain", 1.0 / m.scale); // model = (image - offset) / scale
      kw.put("offset", -m.offset / m.scale);
      out.add(op("scale_linear", kw));
    }
    if (clip != null) {
      Map<String, Object> kw = new LinkedHashMap<>();
      kw.put("min", (double) clip[0]);
      kw.put("max", (double) clip[1]);
      out.add(op("clip", kw));
    }
    return out;
  }

  private static Map<String, Object> op(String id, Map<String, Object> kwargs) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("id", id);
    o.put("kwargs", kwargs);
    return o;
  }

  private static List<String> channelNames(String prefix, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(n == 1 && prefix.equals("channel") ? "intensity" : prefix + i);
    return out;
  }

  private static Map<String, Object> axis(String type, Object size) {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("type", type);
    if (size != null) a.put("size", size);
    return a;
  }

  private static Map<String, Object> channelAxis(List<String> names) {
    Map<String, Object> a = axis("channel", null);
    a.put("channel_names", new ArrayList<>(names));
    return a;
  }

  private static Map<String, Object> spaceAxis(String id, int size) {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("type", "space");
    a.put("id", id);
    a.put("size", size);
    return a;
  }

  private static List<Map<String, Object>> imageAxes(TensorLayout layout, int h, int w, List<String> channels) {
    List<Map<String, Object>> a = new ArrayList<>();
    a.add(axis("batch", null));
    if (layout == TensorLayout.NCHW) a.add(channelAxis(channels));
    a.add(spaceAxis("y", h));
    a.add(spaceAxis("x", w));
    if (layout == TensorLayout.NHWC) a.add(channelAxis(channels));
    return a;
  }

  private static Map<String, Object> tensor(String id, String description, List<Map<String, Object>> axes,
      String testFile) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("id", id);
    t.put("description", description.length() > 128 ? description.substring(0, 128) : description);
    t.put("axes", axes);
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("source", testFile);
    t.put("test_tensor", f);
    return t;
  }

  private static Path write(Path out, Path bundleDir, ModelFormat format, ModelJson mj, String name, String kind,
      List<Map<String, Object>> inputs, List<Map<String, Object>> outputs, Map<String, byte[]> tensors,
      float[] coverImage, int h, int w, int c, Extras extras, List<String> attachFiles, String task) {
    Extras ex = extras == null ? new Extras() : extras;
    return AtomicFiles.writeDirectory(out, tmp -> {
      Map<String, String> sums = new LinkedHashMap<>();
      for (Map.Entry<String, byte[]> e : tensors.entrySet()) {
        Files.write(tmp.resolve(e.getKey()), e.getValue());
        sums.put(e.getKey(), Checksums.sha256Hex(e.getValue()));
      }
      for (Map<String, Object> t : inputs) setSha(t, sums);
      for (Map<String, Object> t : outputs) setSha(t, sums);
      String weightsFile = format == ModelFormat.ONNX ? "weights.onnx" : format == ModelFormat.TORCHSCRIPT
          ? "weights.pt" : "tf_saved_model.zip";
      if (format == ModelFormat.TENSORFLOW) {
        zipSavedModel(bundleDir, tmp.resolve(weightsFile));
      } else {
        Files.copy(bundleDir.resolve(format.fileName()), tmp.resolve(weightsFile));
      }
      Files.write(tmp.resolve("cover.png"), cover(coverImage, h, w, c));
      List<Map<String, Object>> authors = new ArrayList<>();
      for (String a : mj.authors.split(",")) {
        if (a.trim().isEmpty()) continue;
        Map<String, Object> au = new LinkedHashMap<>();
        au.put("name", a.trim());
        authors.add(au);
      }
      String description = mj.description != null && !mj.description.isEmpty() ? mj.description
          : "A " + kind + " exported by Diffusion XAI for Fiji.";
      Files.write(tmp.resolve("README.md"), readme(name, kind, description, format, inputs, outputs, ex)
          .getBytes(StandardCharsets.UTF_8));

      Map<String, Object> rdf = new LinkedHashMap<>();
      rdf.put("format_version", FORMAT_VERSION);
      rdf.put("type", "model");
      rdf.put("name", bioimageioName(name));
      rdf.put("description", description.length() > 1024 ? description.substring(0, 1024) : description);
      rdf.put("authors", authors);
      List<Map<String, Object>> cite = new ArrayList<>(ex.cite);
      if (cite.isEmpty()) {
        Map<String, Object> self = new LinkedHashMap<>();
        self.put("text", "Diffusion XAI for Fiji");
        self.put("url", "https://github.com/diffxai/diffusion-xai");
        cite.add(self);
      }
      rdf.put("cite", cite);
      rdf.put("license", mj.license.trim());
      rdf.put("documentation", "README.md");
      rdf.put("covers", Collections.singletonList("cover.png"));
      List<String> tags = new ArrayList<>(Arrays.asList("diffusion-xai", task, format.bioimageioKey()));
      tags.addAll(ex.tags);
      rdf.put("tags", tags);
      rdf.put("git_repo", "https://github.com/diffxai/diffusion-xai");
      rdf.put("timestamp", (ex.timestamp != null ? ex.timestamp : OffsetDateTime.now(ZoneOffset.UTC))
          .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
      rdf.put("inputs", inputs);
      rdf.put("outputs", outputs);
      List<Map<String, Object>> attachments = new ArrayList<>();
      Files.copy(bundleDir.resolve(DenoiserBundle.MODEL_JSON), tmp.resolve(ATTACHED_MODEL_JSON));
      attachments.add(file(ATTACHED_MODEL_JSON, tmp));
      for (String a : attachFiles) {
        Files.copy(bundleDir.resolve(a), tmp.resolve(a));
        attachments.add(file(a, tmp));
      }
      rdf.put("attachments", attachments);
      Map<String, Object> weights = new LinkedHashMap<>();
      Map<String, Object> entry = file(weightsFile, tmp);
      if (format == ModelFormat.ONNX) entry.put("opset_version", OnnxFiles.opsetVersion(bundleDir.resolve("model.onnx")));
      if (format == ModelFormat.TORCHSCRIPT) entry.put("pytorch_version", pytorchVersion(mj, name));
      if (format == ModelFormat.TENSORFLOW) entry.put("tensorflow_version", TensorFlowRuntime.tensorflowVersion());
      entry.put("comment", "Exported by Diffusion XAI for Fiji " + Version.get() + " from bundle " + name + ".");
      weights.put(format.bioimageioKey(), entry);
      rdf.put("weights", weights);
      Map<String, Object> tol = new LinkedHashMap<>();
      tol.put("relative_tolerance", TOLERANCE);
      tol.put("absolute_tolerance", TOLERANCE);
      tol.put("mismatched_elements_per_million", 0);
      Map<String, Object> bio = new LinkedHashMap<>();
      bio.put("reproducibility_tolerance", Collections.singletonList(tol));
      bio.put("task", task);
      bio.put("architecture_type", kind.length() > 32 ? kind.substring(0, 32) : kind);
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("bioimageio", bio);
      rdf.put("config", config);
      Files.write(tmp.resolve(DESCRIPTION), yaml().dump(rdf).getBytes(StandardCharsets.UTF_8));
    });
  }

  /** model.json of the exported bundle, attached so that an import restores the bundle's own description. */
  static final String ATTACHED_MODEL_JSON = "diffusion-xai-model.json";

  /** bioimage.io names: letters, digits, _ - ( ) and spaces, at most 64 characters. */
  static String bioimageioName(String name) {
    String s = name.replaceAll("[^A-Za-z0-9_\\-() ]", " ").trim();
    if (s.isEmpty()) s = "model";
    return s.length() > 64 ? s.substring(0, 64) : s;
  }

  private static String pytorchVersion(ModelJson mj, String name) {
    if (mj.trainingJson != null) {
      JsonElement v = new Gson().fromJson(mj.trainingJson, JsonObject.class).get("pytorch_version");
      if (v != null && v.isJsonPrimitive()) return v.getAsString();
    }
    throw new UserException("Model " + name + " is a TorchScript model whose model.json does not say which PyTorch "
        + "saved it; bioimage.io needs it. Add \"training\": {\"pytorch_version\": \"1.13.1\"} (your version) to "
        + "model.json; see " + DOC + ".");
  }

  private static void setSha(Map<String, Object> t, Map<String, String> sums) {
    @SuppressWarnings("unchecked")
    Map<String, Object> f = (Map<String, Object>) t.get("test_tensor");
    f.put("sha256", sums.get((String) f.get("source")));
  }

  private static Map<String, Object> file(String rel, Path dir) throws IOException {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("source", rel);
    f.put("sha256", Checksums.sha256Hex(dir.resolve(rel)));
    return f;
  }

  private static Yaml yaml() {
    DumperOptions o = new DumperOptions();
    o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    o.setIndent(2);
    o.setWidth(120);
    return new Yaml(o);
  }

  /** A grayscale PNG of the first channel, min..max stretched, upscaled to at least 256 pixels wide. */
  private static byte[] cover(float[] image, int h, int w, int c) throws IOException {
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < h * w; i++) {
      lo = Math.min(lo, image[i * c]);
      hi = Math.max(hi, image[i * c]);
    }
    int f = Math.max(1, (int) Math.ceil(256.0 / Math.max(h, w)));
    BufferedImage img = new BufferedImage(w * f, h * f, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < h * f; y++) {
      for (int x = 0; x < w * f; x++) {
        float v = image[((y / f) * w + x / f) * c];
        int g = hi > lo ? Math.round(255 * (v - lo) / (hi - lo)) : 0;
        img.getRaster().setSample(x, y, 0, g);
      }
    }
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    ImageIO.write(img, "png", bo);
    return bo.toByteArray();
  }

  private static String readme(String name, String kind, String description, ModelFormat format,
      List<Map<String, Object>> inputs, List<Map<String, Object>> outputs, Extras ex) {
    StringBuilder sb = new StringBuilder("# ").append(name).append("\n\n").append(description).append("\n\n");
    sb.append("A ").append(kind).append(" exported by Diffusion XAI for Fiji (").append(Version.get())
        .append(") as a ").append(format.title()).append(".\n\n## Inputs\n\n");
    for (Map<String, Object> t : inputs) sb.append("- `").append(t.get("id")).append("`: ").append(t.get("description")).append('\n');
    sb.append("\n## Outputs\n\n");
    for (Map<String, Object> t : outputs) sb.append("- `").append(t.get("id")).append("`: ").append(t.get("description")).append('\n');
    sb.append("\nThe test tensors are the model's own output on the test input; `diffusion-xai-model.json` is the "
        + "bundle's model.json (intensity mapping, class names, training record).\n");
    if (!ex.documentation.isEmpty()) sb.append('\n').append(ex.documentation).append('\n');
    return sb.toString();
  }

  private static void zipSavedModel(Path bundleDir, Path zip) throws IOException {
    try (OutputStream os = Files.newOutputStream(zip); ZipOutputStream zo = new ZipOutputStream(os)) {
      List<String> files = new ArrayList<>(Collections.singletonList(DenoiserBundle.SAVED_MODEL));
      for (String rel : Checksums.relativeFiles(bundleDir)) {
        if (rel.startsWith("variables/") || rel.startsWith("assets/")) files.add(rel);
      }
      for (String rel : files) {
        ZipEntry e = new ZipEntry(rel);
        e.setTime(0); // reproducible bytes
        zo.putNextEntry(e);
        Files.copy(bundleDir.resolve(rel), zo);
        zo.closeEntry();
      }
    }
  }

  /** Packs a package folder into a .zip (the form bioimage.io distributes), atomically. */
  public static Path zip(Path packageDir, Path zipFile) {
    return AtomicFiles.writeFile(zipFile, tmp -> {
      try (OutputStream os = Files.newOutputStream(tmp); ZipOutputStream zo = new ZipOutputStream(os)) {
        for (String rel : Checksums.relativeFiles(packageDir)) {
          ZipEntry e = new ZipEntry(rel);
          e.setTime(0);
          zo.putNextEntry(e);
          Files.copy(packageDir.resolve(rel), zo);
          zo.closeEntry();
        }
      }
    });
  }

  // =============================================================================================== import

  /**
   * The package a model argument names, or null when it is no bioimage.io package (then it is a bundle key or
   * directory): a folder holding bioimageio.yaml (or rdf.yaml), that file itself, or a .zip.
   */
  public static Path packagePath(String keyOrPath) {
    if (keyOrPath == null || keyOrPath.trim().isEmpty() || BundleDirs.isSampleKey(keyOrPath.trim())) return null;
    Path p;
    try {
      String s = keyOrPath.trim();
      if (s.startsWith("~/")) s = System.getProperty("user.home") + s.substring(1);
      p = Paths.get(s).toAbsolutePath().normalize();
    } catch (RuntimeException e) {
      return null;
    }
    if (Files.isRegularFile(p)) {
      String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
      return n.endsWith(".zip") || n.endsWith(".yaml") ? p : null;
    }
    if (Files.isDirectory(p) && ModelFormat.present(p).isEmpty()
        && (Files.isRegularFile(p.resolve(DESCRIPTION)) || Files.isRegularFile(p.resolve("rdf.yaml")))) {
      return p;
    }
    return null;
  }

  /**
   * Imports a package as a bundle in the cache and checks its test tensors ("Test model").
   *
   * @param pkg a package folder, its description file, or a .zip
   * @return the bundle directory
   * @throws UserException for an unsupported weight format or description, a checksum or a test-tensor mismatch
   */
  public static Path importPackage(Path pkg, Role role) {
    return importPackage(pkg, role, BundleDirs.defaultCacheDir().resolve("bioimageio"));
  }

  static Path importPackage(Path pkg, Role role, Path cacheRoot) {
    Path dir = pkg;
    Path unzipped = null;
    try {
      if (Files.isRegularFile(pkg) && pkg.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".zip")) {
        unzipped = Files.createTempDirectory("diffxai-bioimageio-");
        unzip(pkg, unzipped);
        dir = unzipped;
      } else if (Files.isRegularFile(pkg)) {
        dir = pkg.toAbsolutePath().getParent();
      }
      Path yamlFile = Files.isRegularFile(dir.resolve(DESCRIPTION)) ? dir.resolve(DESCRIPTION)
          : Files.isRegularFile(pkg) && !pkg.toString().endsWith(".zip") ? pkg : dir.resolve("rdf.yaml");
      if (!Files.isRegularFile(yamlFile)) {
        throw new UserException(pkg + " is not a bioimage.io model package: it has no " + DESCRIPTION + ". Give the "
            + "package folder or its .zip.");
      }
      byte[] yamlBytes = Files.readAllBytes(yamlFile);
      JsonObject rdf = parseYaml(yamlBytes, yamlFile);
      Imported imp = Imported.describe(rdf, dir, pkg, role);
      String id = bioimageioName(imp.name).replace(' ', '_') + "-" + Checksums.sha256Hex(yamlBytes).substring(0, 12);
      Path target = cacheRoot.resolve(id);
      final Path src = dir;
      AtomicFiles.writeDirectory(target, tmp -> imp.writeBundle(src, tmp));
      try {
        imp.selfCheck(target);
      } catch (RuntimeException e) {
        AtomicFiles.deleteRecursively(target);
        throw e;
      }
      return target;
    } catch (IOException e) {
      throw new UserException("Cannot read bioimage.io package " + pkg + ": " + e + ". Check the path and "
          + "permissions.", e);
    } finally {
      if (unzipped != null) AtomicFiles.deleteRecursively(unzipped);
    }
  }

  static JsonObject parseYaml(byte[] bytes, Path file) {
    Object o;
    try {
      o = new Yaml(new SafeConstructor(new LoaderOptions())).load(new String(bytes, StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new UserException(file + " is not valid YAML: " + SavedModels.firstLine(e.getMessage()) + ".", e);
    }
    if (!(o instanceof Map)) throw new UserException(file + " is not a bioimage.io description (a YAML mapping).");
    // timestamps and other YAML scalars become strings in JSON
    Gson g = new GsonBuilder().registerTypeHierarchyAdapter(java.util.Date.class,
        (com.google.gson.JsonSerializer<java.util.Date>) (d, t, c) -> new com.google.gson.JsonPrimitive(d.toInstant()
            .toString())).create();
    return g.toJsonTree(o).getAsJsonObject();
  }

  private static void unzip(Path zip, Path dir) throws IOException {
    try (InputStream in = Files.newInputStream(zip); ZipInputStream zi = new ZipInputStream(in)) {
      for (ZipEntry e; (e = zi.getNextEntry()) != null;) {
        Path out = dir.resolve(e.getName()).normalize();
        if (!out.startsWith(dir)) throw new IOException("unsafe path in zip: " + e.getName());
        if (e.isDirectory()) {
          Files.createDirectories(out);
        } else {
          Files.createDirectories(out.getParent());
          Files.copy(zi, out);
        }
      }
    }
  }

  /** What an import learned from a description. */
  private static final class Imported {
    String name;
    String description;
    Role role;
    ModelFormat format;
    String weightsSource;
    TensorLayout layout;
    int h;
    int w;
    int c;
    int k;
    List<String> classNames = new ArrayList<>();
    JsonArray preprocessing;
    IntensityMapping intensity;
    float[] clip;
    List<JsonObject> inputs = new ArrayList<>();
    JsonObject output;
    String authors;
    String license;
    double absTol = 1e-3;
    double relTol = 1e-3;
    double ppm = 100;
    String where;

    static Imported describe(JsonObject rdf, Path dir, Path pkg, Role role) throws IOException {
      Imported m = new Imported();
      m.where = "bioimage.io package " + pkg;
      String type = str(rdf, "type");
      String fv = str(rdf, "format_version");
      if (!"model".equals(type)) {
        throw new UserException(m.where + " describes a '" + type + "', not a model. Give a model package.");
      }
      if (fv == null || !fv.startsWith("0.5")) {
        throw new UserException(m.where + " has format_version " + fv + "; this plugin reads model descriptions of "
            + "format 0.5. Update the package (bioimageio.spec's update_format) and try again.");
      }
      m.role = role;
      m.name = str(rdf, "name") == null ? "bioimageio-model" : str(rdf, "name");
      m.description = str(rdf, "description");
      m.license = str(rdf, "license");
      List<String> au = new ArrayList<>();
      if (rdf.has("authors")) {
        for (JsonElement a : rdf.getAsJsonArray("authors")) au.add(a.getAsJsonObject().get("name").getAsString());
      }
      m.authors = String.join(", ", au);
      JsonObject weights = rdf.getAsJsonObject("weights");
      for (ModelFormat f : Arrays.asList(ModelFormat.TENSORFLOW, ModelFormat.ONNX, ModelFormat.TORCHSCRIPT)) {
        if (weights != null && weights.has(f.bioimageioKey()) && weights.get(f.bioimageioKey()).isJsonObject()) {
          m.format = f;
          JsonObject e = weights.getAsJsonObject(f.bioimageioKey());
          m.weightsSource = e.get("source").getAsString();
          verifySha(dir, e, m.where);
          break;
        }
      }
      if (m.format == null) {
        throw new UserException(m.where + " has weights in " + (weights == null ? "no format"
            : String.join(", ", weights.keySet())) + "; this plugin runs tensorflow_saved_model_bundle, onnx and "
            + "torchscript. Convert the weights to one of these (bioimageio.core can convert pytorch_state_dict to "
            + "torchscript and onnx); see " + DOC + ".");
      }
      for (JsonElement e : rdf.getAsJsonArray("inputs")) m.inputs.add(e.getAsJsonObject());
      JsonArray outs = rdf.getAsJsonArray("outputs");
      if (outs.size() != 1) {
        throw new UserException(m.where + " has " + outs.size() + " outputs; this plugin runs models with one output.");
      }
      m.output = outs.get(0).getAsJsonObject();
      JsonArray post = m.output.getAsJsonArray("postprocessing");
      if (post != null) {
        for (JsonElement p : post) {
          String id = p.getAsJsonObject().get("id").getAsString();
          if (!id.equals("ensure_dtype")) {
            throw new UserException(m.where + " postprocesses its output with '" + id + "'; this plugin takes the raw "
                + "model output (logits or the denoiser output). Remove the postprocessing from the description.");
          }
        }
      }
      for (JsonObject t : m.inputs) verifySha(dir, t.getAsJsonObject("test_tensor"), m.where);
      verifySha(dir, m.output.getAsJsonObject("test_tensor"), m.where);
      JsonObject tensor = m.imageInput();
      m.readAxes(tensor);
      if (m.role == Role.CLASSIFIER) m.readClassifierOutput();
      m.readPreprocessing(tensor);
      m.readTolerance(rdf);
      return m;
    }

    /** The image input: x for a denoiser, the only input of a classifier. */
    JsonObject imageInput() {
      List<String> ids = new ArrayList<>();
      for (JsonObject t : inputs) ids.add(id(t));
      if (role == Role.DENOISER) {
        if (!ids.contains("x") || !ids.contains("t")) {
          throw new UserException(where + " has inputs " + ids + ", not the diffusion inputs x and t (with optional "
              + "label and condition), so it is no denoiser. Open it as a classifier, or see " + DOC + ".");
        }
        for (String i : ids) {
          if (!Arrays.asList("x", "t", "label", "condition").contains(i)) {
            throw new UserException(where + " has an input '" + i + "' that is not part of the denoiser contract (x, "
                + "t, label, condition).");
          }
        }
        return inputs.get(ids.indexOf("x"));
      }
      if (inputs.size() != 1) {
        throw new UserException(where + " has " + inputs.size() + " inputs " + ids + "; a classifier takes one image"
            + (ids.contains("t") ? " (inputs x and t make it a diffusion denoiser: open it as one)" : "") + ".");
      }
      return inputs.get(0);
    }

    void readAxes(JsonObject tensor) {
      List<String> order = new ArrayList<>();
      for (JsonElement a : tensor.getAsJsonArray("axes")) {
        JsonObject ax = a.getAsJsonObject();
        String type = ax.get("type").getAsString();
        String id = ax.has("id") ? ax.get("id").getAsString() : type.equals("space") ? "x" : type;
        if (type.equals("channel")) {
          c = ax.getAsJsonArray("channel_names").size();
          order.add("c");
        } else if (type.equals("space")) {
          int size = fixedSize(ax, id);
          if (id.equals("y")) h = size;
          else w = size;
          order.add(id);
        } else if (type.equals("batch")) {
          order.add("b");
        } else {
          throw new UserException(where + " has a '" + type + "' axis in input '" + id(tensor) + "'; this plugin runs "
              + "2-D images with axes batch, channel, y, x.");
        }
      }
      if (!order.contains("c")) {
        order.add(1, "c");
        c = 1;
      }
      String o = String.join("", order);
      if (o.equals("bcyx")) layout = TensorLayout.NCHW;
      else if (o.equals("byxc")) layout = TensorLayout.NHWC;
      else {
        throw new UserException(where + " orders the axes of input '" + id(tensor) + "' as " + order + "; this plugin "
            + "runs batch, channel, y, x (NCHW) or batch, y, x, channel (NHWC).");
      }
      if (!tensor.getAsJsonArray("axes").toString().contains("\"channel\"") && layout == TensorLayout.NCHW) {
        throw new UserException(where + " gives input '" + id(tensor) + "' no channel axis; add one of size 1.");
      }
    }

    private int fixedSize(JsonObject ax, String id) {
      JsonElement s = ax.get("size");
      if (s != null && s.isJsonPrimitive()) return s.getAsInt();
      if (s != null && s.isJsonObject() && s.getAsJsonObject().has("min")) {
        return s.getAsJsonObject().get("min").getAsInt(); // a parameterised size: its smallest valid size
      }
      throw new UserException(where + " gives axis '" + id + "' no fixed size (" + s + "); this plugin needs the "
          + "image size.");
    }

    void readClassifierOutput() {
      JsonArray axes = output.getAsJsonArray("axes");
      for (JsonElement a : axes) {
        JsonObject ax = a.getAsJsonObject();
        String type = ax.get("type").getAsString();
        if (type.equals("channel")) {
          for (JsonElement n : ax.getAsJsonArray("channel_names")) classNames.add(n.getAsString());
          k = classNames.size();
        } else if (type.equals("index") && ax.get("size").isJsonPrimitive()) {
          k = ax.get("size").getAsInt();
        } else if (!type.equals("batch")) {
          throw new UserException(where + " has an output with a '" + type + "' axis; a classifier's output is "
              + "[batch, K] (a channel axis naming the classes, or an index axis).");
        }
      }
    }

    void readPreprocessing(JsonObject tensor) {
      JsonArray pre = tensor.getAsJsonArray("preprocessing");
      intensity = IntensityMapping.IDENTITY;
      if (pre == null || pre.size() == 0) return;
      Preprocessing p = Preprocessing.parse(pre, where); // unsupported ids are one message here
      if (role == Role.DENOISER) {
        throw new UserException(where + " preprocesses the denoiser input x; diffusion samplers work in the model's own "
            + "space, so remove the preprocessing from x.");
      }
      // scale_linear, then optionally clip, is exactly a bundle's intensity mapping and input_clip
      List<JsonObject> ops = new ArrayList<>();
      for (JsonElement e : pre) {
        String id = e.getAsJsonObject().get("id").getAsString();
        if (!id.equals("ensure_dtype")) ops.add(e.getAsJsonObject());
      }
      boolean linear = p.isPointwise() && ops.size() <= 2 && (ops.isEmpty() || id(ops.get(0)).equals("scale_linear")
          || id(ops.get(0)).equals("clip")) && (ops.size() < 2 || id(ops.get(1)).equals("clip"));
      if (!linear) {
        preprocessing = pre;
        return;
      }
      for (JsonObject op : ops) {
        JsonObject kw = op.has("kwargs") ? op.getAsJsonObject("kwargs") : new JsonObject();
        if (id(op).equals("scale_linear")) {
          double gain = kw.has("gain") ? kw.get("gain").getAsDouble() : 1;
          double offset = kw.has("offset") ? kw.get("offset").getAsDouble() : 0;
          intensity = new IntensityMapping(1 / gain, -offset / gain); // image = (model - offset) / gain
        } else {
          clip = new float[] {kw.has("min") ? kw.get("min").getAsFloat() : -Float.MAX_VALUE,
              kw.has("max") ? kw.get("max").getAsFloat() : Float.MAX_VALUE};
        }
      }
    }

    void readTolerance(JsonObject rdf) {
      JsonObject cfg = rdf.has("config") && rdf.get("config").isJsonObject() ? rdf.getAsJsonObject("config") : null;
      JsonObject bio = cfg != null && cfg.has("bioimageio") ? cfg.getAsJsonObject("bioimageio") : null;
      JsonArray tols = bio != null && bio.has("reproducibility_tolerance")
          ? bio.getAsJsonArray("reproducibility_tolerance") : null;
      if (tols == null) return;
      for (JsonElement e : tols) {
        JsonObject t = e.getAsJsonObject();
        boolean fits = !t.has("weights_formats") || t.getAsJsonArray("weights_formats").size() == 0
            || t.getAsJsonArray("weights_formats").toString().contains("\"" + format.bioimageioKey() + "\"");
        if (!fits) continue;
        if (t.has("absolute_tolerance")) absTol = t.get("absolute_tolerance").getAsDouble();
        if (t.has("relative_tolerance")) relTol = t.get("relative_tolerance").getAsDouble();
        if (t.has("mismatched_elements_per_million")) ppm = t.get("mismatched_elements_per_million").getAsDouble();
        return;
      }
    }

    /** Writes the bundle: the weights under the bundle's name for them, model.json with checksums, the test data. */
    void writeBundle(Path src, Path tmp) throws IOException {
      if (format == ModelFormat.TENSORFLOW) {
        unzip(src.resolve(weightsSource), tmp);
        if (!Files.isRegularFile(tmp.resolve(DenoiserBundle.SAVED_MODEL))) {
          throw new UserException(where + ": " + weightsSource + " does not hold saved_model.pb at its top level. "
              + "Zip the SavedModel directory's content.");
        }
      } else {
        Files.copy(src.resolve(weightsSource), tmp.resolve(format.fileName()));
      }
      if (role == Role.DENOISER) {
        if (!Files.isRegularFile(src.resolve(DenoiserBundle.SCHEDULER_CONFIG))) {
          throw new UserException(where + " has no scheduler_config.json attachment, the noise schedule the denoiser "
              + "was trained with. Attach the diffusers scheduler_config.json to the package.");
        }
        Files.copy(src.resolve(DenoiserBundle.SCHEDULER_CONFIG), tmp.resolve(DenoiserBundle.SCHEDULER_CONFIG));
      }
      if (preprocessing != null) {
        Files.write(tmp.resolve(EngineModels.PREPROCESSING_JSON), preprocessing.toString()
            .getBytes(StandardCharsets.UTF_8));
      }
      Path dataDir = Files.createDirectories(tmp.resolve("bioimageio"));
      Files.copy(src.resolve(fileOf(output)), dataDir.resolve("test_output.npy"));
      for (JsonObject t : inputs) Files.copy(src.resolve(fileOf(t)), dataDir.resolve("test_input_" + id(t) + ".npy"));
      Files.write(dataDir.resolve(DESCRIPTION), Files.readAllBytes(src.resolve(
          Files.isRegularFile(src.resolve(DESCRIPTION)) ? DESCRIPTION : "rdf.yaml")));
      // this plugin's own model.json travels as an attachment (name, training record, ...); what the description
      // says about the tensors wins, since the description is what other tools read and edit
      JsonObject mj = new JsonObject();
      Path attached = src.resolve(ATTACHED_MODEL_JSON);
      if (Files.isRegularFile(attached)) {
        mj = new Gson().fromJson(new String(Files.readAllBytes(attached), StandardCharsets.UTF_8), JsonObject.class);
      }
      for (String key : Arrays.asList("sha256", "intensity", "input_clip", "signature")) mj.remove(key);
      mj.addProperty("format", role == Role.DENOISER ? DenoiserBundle.FORMAT : ClassifierBundle.FORMAT);
      if (!mj.has("name")) mj.addProperty("name", name);
      if (!mj.has("description") && description != null) mj.addProperty("description", description);
      JsonArray size = new JsonArray();
      size.add(h);
      size.add(w);
      mj.add("sample_size", size);
      mj.addProperty("channels", c);
      if (intensity.scale != 1 || intensity.offset != 0) {
        JsonObject in = new JsonObject();
        in.addProperty("scale", intensity.scale);
        in.addProperty("offset", intensity.offset);
        mj.add("intensity", in);
      }
      if (clip != null) {
        JsonArray cl = new JsonArray();
        cl.add(clip[0]);
        cl.add(clip[1]);
        mj.add("input_clip", cl);
      }
      if (!classNames.isEmpty()) mj.add("class_names", new Gson().toJsonTree(classNames));
      if (role == Role.DENOISER) mj.addProperty("condition_channels", conditionChannels());
      if (!mj.has("authors") && !authors.isEmpty()) mj.addProperty("authors", authors);
      if (!mj.has("license") && license != null) mj.addProperty("license", license);
      mj.addProperty("layout", layout.name());
      JsonObject sums = new JsonObject();
      for (Map.Entry<String, String> e : Checksums.fileHashes(tmp).entrySet()) {
        if (!e.getKey().equals(DenoiserBundle.MODEL_JSON)) sums.addProperty(e.getKey(), e.getValue());
      }
      mj.add("sha256", sums);
      Files.write(tmp.resolve(DenoiserBundle.MODEL_JSON), new GsonBuilder().setPrettyPrinting().create().toJson(mj)
          .getBytes(StandardCharsets.UTF_8));
    }

    private int conditionChannels() {
      for (JsonObject t : inputs) {
        if (id(t).equals("condition")) {
          for (JsonElement a : t.getAsJsonArray("axes")) {
            JsonObject ax = a.getAsJsonObject();
            if (ax.get("type").getAsString().equals("channel")) return ax.getAsJsonArray("channel_names").size();
          }
          return 1;
        }
      }
      return 0;
    }

    /** "Test model": the package's test inputs through the imported bundle must give its test outputs. */
    void selfCheck(Path bundleDir) {
      Path data = bundleDir.resolve("bioimageio");
      Npy.Array want = Npy.read(data.resolve("test_output.npy"));
      float[] got;
      if (role == Role.CLASSIFIER) {
        Npy.Array in = Npy.read(data.resolve("test_input_" + id(inputs.get(0)) + ".npy"));
        int n = (int) in.shape[0];
        float[] x = layout.toNhwc(in.floats(), n, h, w, c);
        try (Classifier cl = Models.classifier(ClassifierBundle.open(bundleDir), "cpu")) {
          float[][] lg = cl.logits(x, n);
          got = new float[n * lg[0].length];
          for (int i = 0; i < n; i++) System.arraycopy(lg[i], 0, got, i * lg[0].length, lg[0].length);
        }
      } else {
        DenoiserBundle b = DenoiserBundle.open(bundleDir);
        Npy.Array xs = Npy.read(data.resolve("test_input_x.npy"));
        int n = (int) xs.shape[0];
        try (Denoiser d = Models.denoiser(b, "cpu", null)) {
          float[] x = layout.toNhwc(xs.floats(), n, h, w, c);
          float[] t = Npy.read(data.resolve("test_input_t.npy")).floats();
          int[] label = d.classConditional() ? Npy.read(data.resolve("test_input_label.npy")).ints() : null;
          int k2 = d.conditionChannels();
          float[] cond = k2 > 0 ? layout.toNhwc(Npy.read(data.resolve("test_input_condition.npy")).floats(), n, h, w, k2)
              : null;
          got = layout.fromNhwc(d.predict(x, t, label, cond, n), n, h, w, c);
        }
      }
      compare(got, want);
    }

    void compare(float[] got, Npy.Array want) {
      if (got.length != want.values.length) {
        throw new UserException(where + ": the model gives " + got.length + " output values for the test input, but "
            + "the package's test output has " + want.values.length + " (" + want + "). The package does not "
            + "describe this model; it was not imported.");
      }
      int bad = 0;
      double worst = 0;
      for (int i = 0; i < got.length; i++) {
        double d = Math.abs(got[i] - want.values[i]);
        worst = Math.max(worst, d);
        if (!(d <= absTol + relTol * Math.abs(want.values[i]))) bad++;
      }
      if (bad > ppm * got.length / 1e6) {
        throw new UserException(where + " failed its test (\"Test model\"): on the package's test input the model's "
            + "output differs from the test output in " + bad + " of " + got.length + " values (largest difference "
            + (float) worst + "), beyond the declared tolerance (absolute " + absTol + ", relative " + relTol + ", "
            + (long) ppm + " mismatches per million). The weights or the test tensors are not the ones the package was "
            + "made with; it was not imported.");
      }
    }

    private static String fileOf(JsonObject tensor) {
      return tensor.getAsJsonObject("test_tensor").get("source").getAsString();
    }
  }

  private static void verifySha(Path dir, JsonObject fileDescr, String where) throws IOException {
    if (fileDescr == null) throw new UserException(where + " lacks a test tensor; bioimage.io models carry one per tensor.");
    String src = fileDescr.get("source").getAsString();
    if (src.startsWith("http://") || src.startsWith("https://")) {
      throw new UserException(where + " refers to " + src + " on the internet; this plugin downloads nothing. "
          + "Give the package .zip that contains the file.");
    }
    Path f = dir.resolve(src).normalize();
    if (!f.startsWith(dir) || !Files.isRegularFile(f)) {
      throw new UserException(where + " lists " + src + ", which is not in the package.");
    }
    JsonElement sha = fileDescr.get("sha256");
    if (sha != null && !sha.isJsonNull() && !Checksums.sha256Hex(f).equalsIgnoreCase(sha.getAsString())) {
      throw new UserException(where + ": " + src + " does not match its sha256 in the description; the file was "
          + "changed or damaged. Download the package again.");
    }
  }

  private static String str(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }

  private static String id(JsonObject tensor) {
    return tensor.has("id") ? tensor.get("id").getAsString() : "input";
  }
}
