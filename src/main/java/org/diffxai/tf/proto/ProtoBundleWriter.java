package org.diffxai.tf.proto;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.Version;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.tf.BundleWriter;

/**
 * Writes a trained prototype network as a classifier bundle (docs/classifiers.md): the SavedModel, {@code model.json}
 * (format {@value ClassifierBundle#FORMAT}), {@code prototypes.json} (method, hyper-parameters, accuracy, last layer
 * and, per prototype, its vector and push provenance), {@code gallery.tif} (one plane per prototype: its source image
 * at training size in image intensity) and {@code training.csv}, with the SHA-256 of every file in model.json. The
 * directory appears complete or not at all.
 */
public final class ProtoBundleWriter {

  private ProtoBundleWriter() {}

  /** What the trainer does not know: descriptions, where the images came from, and the measured accuracy. */
  public static final class Metadata {
    String name = "prototype-network";
    String description = "";
    String authors = "";
    String license = "";
    IntensityMapping intensity = IntensityMapping.IDENTITY;
    List<String> classNames = new ArrayList<>();
    String source = "";
    /** What the input reader did (org.diffxai.io.InputImages.Summary#toMap), or empty. */
    Map<String, Object> input = new LinkedHashMap<>();
    List<String> trainingNames = new ArrayList<>();
    List<float[]> trainingImages = new ArrayList<>();
    double trainingAccuracy = Double.NaN;
    double validationAccuracy = Double.NaN;
    int validationImages;
    double validationFraction;

    public Metadata name(String v) {
      name = v;
      return this;
    }

    public Metadata description(String v) {
      description = v;
      return this;
    }

    public Metadata authors(String v) {
      authors = v;
      return this;
    }

    public Metadata license(String v) {
      license = v;
      return this;
    }

    /** image = model · scale + offset. */
    public Metadata intensity(IntensityMapping v) {
      intensity = v;
      return this;
    }

    public Metadata classNames(List<String> v) {
      classNames = new ArrayList<>(v);
      return this;
    }

    /** The training folder, for provenance. */
    public Metadata source(String v) {
      source = v;
      return this;
    }

    /**
     * The input summary of the training images (conversions, resizing, fit), recorded under {@code training.input}
     * in model.json, e.g. {@code folder.input().summary().toMap()}.
     */
    public Metadata input(Map<String, Object> v) {
      input = new LinkedHashMap<>(v);
      return this;
    }

    /**
     * The training images in the order the trainer saw them: their paths relative to the folder, and their pixels at
     * training size in image intensity (for the gallery).
     */
    public Metadata trainingImages(List<String> names, List<float[]> images) {
      trainingNames = new ArrayList<>(names);
      trainingImages = new ArrayList<>(images);
      return this;
    }

    public Metadata accuracy(double training, double validation, int validationCount, double fraction) {
      trainingAccuracy = training;
      validationAccuracy = validation;
      validationImages = validationCount;
      validationFraction = fraction;
      return this;
    }
  }

  /**
   * Writes the bundle to {@code target}, which must not exist.
   *
   * @return the bundle directory
   */
  public static Path write(Path target, ProtoTrainer trainer, Metadata meta, Progress progress) {
    Path dest = target.toAbsolutePath().normalize();
    if (Files.exists(dest)) {
      throw new UserException("Output " + dest + " already exists. Choose a new output folder or delete the old one.");
    }
    ProtoConfig cfg = trainer.config();
    if (meta.classNames.size() != cfg.numClasses()) {
      throw new IllegalArgumentException(meta.classNames.size() + " class names for " + cfg.numClasses() + " classes");
    }
    if (trainer.pushRecords().isEmpty()) throw new IllegalStateException("The network was never pushed");
    if (progress == null) progress = Progress.NONE;
    Progress p = progress;
    AtomicFiles.writeDirectory(dest, tmp -> {
      p.report("Saving prototype network", Double.NaN);
      trainer.exportSavedModel(tmp);
      p.checkCancelled();
      writeGallery(tmp.resolve(ClassifierBundle.GALLERY), trainer, meta);
      write(tmp.resolve(ClassifierBundle.PROTOTYPES_JSON), gson().toJson(prototypesJson(trainer, meta)) + "\n");
      write(tmp.resolve(BundleWriter.TRAINING_CSV), trainingCsv(trainer));
      Map<String, Object> model = modelJson(trainer, meta);
      model.put("sha256", BundleWriter.checksums(tmp));
      write(tmp.resolve(ClassifierBundle.MODEL_JSON), gson().toJson(model) + "\n");
      p.checkCancelled();
    });
    return dest;
  }

  private static void write(Path file, String text) throws IOException {
    Files.write(file, text.getBytes(StandardCharsets.UTF_8));
  }

  private static Gson gson() {
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();
  }

  /** The class a prototype stands for: PPNet/EPPNet its own; ProtoPool the class with the largest weight on it. */
  static int prototypeClass(ProtoConfig cfg, float[] lastLayer, int p) {
    if (cfg.method() != ProtoConfig.Method.PROTOPOOL) return p / cfg.prototypesPerClass();
    int n = cfg.prototypes();
    int best = 0;
    for (int k = 1; k < cfg.numClasses(); k++) {
      if (lastLayer[k * n + p] > lastLayer[best * n + p]) best = k;
    }
    return best;
  }

  private static void writeGallery(Path file, ProtoTrainer trainer, Metadata meta) {
    ProtoConfig cfg = trainer.config();
    float[] w = trainer.weights().get("last_layer");
    List<float[]> planes = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (PushRecord r : trainer.pushRecords()) {
      planes.add(meta.trainingImages.get(r.sourceIndex));
      labels.add(String.format(Locale.ROOT, "prototype %d class %s source %s patch %d,%d", r.prototype,
          meta.classNames.get(prototypeClass(cfg, w, r.prototype)), meta.trainingNames.get(r.sourceIndex), r.patchRow,
          r.patchCol));
    }
    StreamingTiffWriter.writeStack(file, cfg.width(), cfg.height(), planes, labels);
  }

  private static Map<String, Object> prototypesJson(ProtoTrainer trainer, Metadata meta) {
    ProtoConfig cfg = trainer.config();
    Map<String, float[]> weights = trainer.weights();
    float[] w = weights.get("last_layer");
    float[] vectors = weights.get("prototypes");
    int k = cfg.numClasses();
    int np = cfg.prototypes();
    int d = cfg.featureDepth();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", ClassifierBundle.PROTOTYPES_FORMAT);
    m.put("method", cfg.method().label());
    m.put("class_names", meta.classNames);
    m.put("input", new int[] {cfg.height(), cfg.width(), cfg.channels()});
    m.put("latent", new int[] {cfg.gridHeight(), cfg.gridWidth(), d});
    Map<String, Object> rf = new LinkedHashMap<>();
    rf.put("size", cfg.receptiveField().size);
    rf.put("jump", cfg.receptiveField().jump);
    rf.put("start", cfg.receptiveField().start);
    m.put("receptive_field", rf);
    m.put("activation_percentile", ProtoTrainer.ACTIVATION_PERCENTILE);
    m.put("hyperparameters", cfg.describe());
    m.put("schedule", trainer.options().describe(cfg.method() == ProtoConfig.Method.PROTOPOOL));
    m.put("accuracy", accuracy(meta, trainer));
    float[][] last = new float[k][np];
    for (int c = 0; c < k; c++) last[c] = Arrays.copyOfRange(w, c * np, (c + 1) * np);
    m.put("last_layer", last);
    List<Map<String, Object>> protos = new ArrayList<>();
    for (PushRecord r : trainer.pushRecords()) {
      Map<String, Object> e = new LinkedHashMap<>();
      int c = prototypeClass(cfg, w, r.prototype);
      e.put("index", r.prototype);
      e.put("class", c);
      e.put("class_name", meta.classNames.get(c));
      e.put("source_image", meta.trainingNames.get(r.sourceIndex));
      e.put("source_index", r.sourceIndex);
      e.put("patch", new int[] {r.patchRow, r.patchCol});
      e.put("receptive_box", r.receptiveBox);
      e.put("activation_box", r.activationBox);
      e.put("gallery_plane", r.prototype);
      e.put("push_distance", r.distance);
      e.put("vector", Arrays.copyOfRange(vectors, r.prototype * d, (r.prototype + 1) * d));
      protos.add(e);
    }
    m.put("prototypes", protos);
    return m;
  }

  private static Map<String, Object> accuracy(Metadata meta, ProtoTrainer trainer) {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("training", measured(meta.trainingAccuracy));
    a.put("validation", measured(meta.validationAccuracy));
    a.put("training_images", meta.trainingNames.size());
    a.put("validation_images", meta.validationImages);
    a.put("validation_fraction", meta.validationFraction);
    a.put("seed", trainer.options().seed());
    return a;
  }

  /** An accuracy, or null (left out of the JSON) when there was nothing to measure it on: JSON has no NaN. */
  private static Double measured(double accuracy) {
    return Double.isNaN(accuracy) ? null : accuracy;
  }

  private static Map<String, Object> modelJson(ProtoTrainer trainer, Metadata meta) {
    ProtoConfig cfg = trainer.config();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", ClassifierBundle.FORMAT);
    m.put("name", meta.name);
    m.put("description", meta.description);
    m.put("sample_size", new int[] {cfg.height(), cfg.width()});
    m.put("channels", cfg.channels());
    Map<String, Object> intensity = new LinkedHashMap<>();
    intensity.put("scale", meta.intensity.scale);
    intensity.put("offset", meta.intensity.offset);
    m.put("intensity", intensity);
    m.put("input_clip", new float[] {-1, 1}); // the training images were clipped there (ImageFolder.toModelSpace)
    m.put("class_names", meta.classNames);
    m.put("authors", meta.authors);
    m.put("license", meta.license);
    Map<String, Object> sig = new LinkedHashMap<>();
    sig.put("tag", "serve");
    sig.put("serving_default", "x -> logits");
    sig.put(ProtoTrainer.PROTOTYPES_SIGNATURE, "x -> logits, scores, similarity, min_distances");
    sig.put(ProtoTrainer.FEATURES_SIGNATURE, "x -> features");
    m.put("signatures", sig);
    Map<String, Object> tr = new LinkedHashMap<>();
    tr.put("method", cfg.method().label());
    tr.putAll(trainer.options().describe(cfg.method() == ProtoConfig.Method.PROTOPOOL));
    tr.put("parameters", trainer.exportedParameterCount());
    tr.put("training_accuracy", measured(meta.trainingAccuracy));
    tr.put("validation_accuracy", measured(meta.validationAccuracy));
    tr.put("training_images", meta.trainingNames.size());
    tr.put("validation_images", meta.validationImages);
    tr.put("seconds", Math.round(trainer.seconds() * 10) / 10.0);
    if (!meta.source.isEmpty()) tr.put("source", meta.source);
    if (!meta.input.isEmpty()) tr.put("input", meta.input);
    tr.put("software", "diffusion-xai " + Version.get());
    tr.put("tensorflow", org.tensorflow.TensorFlow.version());
    m.put("training", tr);
    return m;
  }

  static String trainingCsv(ProtoTrainer trainer) {
    StringBuilder sb = new StringBuilder("epoch,phase,loss,accuracy,seconds\n");
    for (ProtoTrainer.Epoch e : trainer.epochs()) {
      sb.append(e.index).append(',').append(e.phase).append(',').append(e.loss).append(',').append(e.accuracy)
          .append(',').append(String.format(Locale.ROOT, "%.3f", e.seconds)).append('\n');
    }
    return sb.toString();
  }
}
