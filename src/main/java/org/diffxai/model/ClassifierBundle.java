package org.diffxai.model;

import org.diffxai.io.Checksums;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.UserException;

/**
 * A classifier bundle on disk (docs/classifiers.md): one directory that is a TensorFlow SavedModel whose
 * {@code serving_default} maps {@code x} float32 [N,H,W,C] to {@code logits} float32 [N,K], plus an optional
 * {@code model.json} (format {@value #FORMAT}: name, input size, intensity mapping, class names, checksums) and, for
 * prototype networks, {@code prototypes.json} and {@code gallery.tif}.
 *
 * <p>Opening checks the layout, parses model.json and prototypes.json, and verifies the checksums; it does not load
 * TensorFlow ({@link ClassifierModels#load} does). Keys: a directory path, or {@code sample-<x>} for a model bundled in
 * the plugin jar (extracted like the denoiser samples, see {@link DenoiserBundle}). Instances are immutable.
 */
public final class ClassifierBundle {
  public static final String FORMAT = "diffusion-xai-classifier/1";
  public static final String PROTOTYPES_FORMAT = "diffusion-xai-prototypes/1";
  public static final String MODEL_JSON = DenoiserBundle.MODEL_JSON;
  public static final String PROTOTYPES_JSON = "prototypes.json";
  public static final String GALLERY = "gallery.tif";

  static final BundleDirs.Kind KIND = new BundleDirs.Kind(FORMAT, "docs/classifiers.md",
      "model=sample-ppnet or the path of a classifier bundle directory",
      "A classifier bundle is a SavedModel directory (saved_model.pb, variables/) with an optional model.json",
      new HashSet<>(Arrays.asList(PROTOTYPES_JSON, GALLERY)));

  private final String key;
  private final Path directory;
  private final ModelJson descriptor;
  private final String name;
  private final IntensityMapping intensity;
  private final Map<String, String> fileHashes;
  private final String checksum;
  private final String prototypesJson;
  private final PrototypeManifest prototypes;

  private ClassifierBundle(String key, Path dir, ModelJson d, Map<String, String> hashes, String prototypesJson,
      PrototypeManifest prototypes) {
    this.key = key;
    this.directory = dir;
    this.descriptor = d;
    this.name = d != null && d.name != null ? d.name : BundleDirs.isSampleKey(key) ? key : BundleDirs.dirName(dir);
    this.intensity = d != null && d.intensity != null ? d.intensity : IntensityMapping.IDENTITY;
    this.fileHashes = Collections.unmodifiableMap(hashes);
    this.checksum = Checksums.bundleChecksum(hashes);
    this.prototypesJson = prototypesJson;
    this.prototypes = prototypes;
  }

  /**
   * Opens a bundle: {@code sample-<x>} for a bundled model, else a directory path.
   *
   * @throws UserException when the directory is missing or not a SavedModel, model.json or prototypes.json is
   *     unreadable or inconsistent, a checksum fails, or the bundled key is unknown
   */
  public static ClassifierBundle open(String keyOrDir) {
    return open(keyOrDir, ClassifierBundle.class.getClassLoader(), BundleDirs.defaultCacheDir());
  }

  static ClassifierBundle open(String keyOrDir, ClassLoader resources, Path cacheDir) {
    String key = keyOrDir == null ? null : keyOrDir.trim();
    return BundleDirs.open(keyOrDir, resources, cacheDir, KIND, dir -> openDirectory(key, dir));
  }

  /** Opens a bundle directory. */
  public static ClassifierBundle open(Path dir) {
    return openDirectory(dir.toString(), dir.toAbsolutePath().normalize());
  }

  /** Keys of the classifiers bundled in the jar, sorted. */
  public static List<String> availableSamples() {
    return BundleDirs.available(ClassifierBundle.class.getClassLoader(), KIND);
  }

  private static ClassifierBundle openDirectory(String key, Path dir) {
    BundleDirs.checkSavedModelDir(dir, KIND);
    ModelJson d = BundleDirs.readModelJson(dir, KIND);
    Map<String, String> hashes = BundleDirs.hashAndVerify(dir, d, KIND);
    Path pj = dir.resolve(PROTOTYPES_JSON);
    String text = null;
    PrototypeManifest manifest = null;
    if (Files.isRegularFile(pj)) {
      text = BundleDirs.readUtf8(pj, dir);
      manifest = PrototypeManifest.parse(text, pj);
      if (d != null && !d.classNames.isEmpty() && !d.classNames.equals(manifest.classNames)) {
        throw new UserException("Model bundle " + dir + " names its classes " + d.classNames + " in model.json but "
            + manifest.classNames + " in prototypes.json. Restore the original bundle.");
      }
    }
    return new ClassifierBundle(key, dir, d, hashes, text, manifest);
  }

  /** What the user gave: {@code sample-<x>}, or the directory as typed. */
  public String key() {
    return key;
  }

  /** The bundle directory (absolute; for bundled models the extracted copy in the cache). */
  public Path dir() {
    return directory;
  }

  /** model.json's name, else the key of a bundled model, else the directory name. */
  public String name() {
    return name;
  }

  public boolean hasDescriptor() {
    return descriptor != null;
  }

  /** Declared class names (model.json, else prototypes.json); empty when neither declares them. */
  public List<String> classNames() {
    if (descriptor != null && !descriptor.classNames.isEmpty()) {
      return Collections.unmodifiableList(descriptor.classNames);
    }
    return prototypes != null ? prototypes.classNames : Collections.<String>emptyList();
  }

  /** {@code image = model * scale + offset}; identity when model.json declares none. */
  public IntensityMapping intensity() {
    return intensity;
  }

  /**
   * Maps images (image intensity) to model space in place: the intensity mapping, then clipping to model.json's
   * {@code input_clip} range when it declares one (as the training images were).
   */
  public float[] toModel(float[] v) {
    intensity.toModel(v);
    float[] clip = descriptor == null ? null : descriptor.inputClip;
    if (clip != null) {
      for (int i = 0; i < v.length; i++) v[i] = Math.max(clip[0], Math.min(clip[1], v[i]));
    }
    return v;
  }

  /** Declared input height, or 0 when undeclared (the signature then decides). */
  public int height() {
    return descriptor == null ? 0 : descriptor.height;
  }

  public int width() {
    return descriptor == null ? 0 : descriptor.width;
  }

  public int channels() {
    return descriptor == null ? 0 : descriptor.channels;
  }

  /** Checksum of the whole bundle (as {@link DenoiserBundle#checksum()}). */
  public String checksum() {
    return checksum;
  }

  /** SHA-256 of every file in the bundle, by relative path. */
  public Map<String, String> fileHashes() {
    return fileHashes;
  }

  /** True when model.json lists sha256 checksums (verified when the bundle was opened). */
  public boolean checksumsVerified() {
    return descriptor != null && descriptor.sha256 != null && !descriptor.sha256.isEmpty();
  }

  /** True when the bundle has a prototypes.json. */
  public boolean isPrototypeNetwork() {
    return prototypes != null;
  }

  /** PPNet, EPPNet or ProtoPool; null for a plain classifier. */
  public String method() {
    return prototypes == null ? null : prototypes.method;
  }

  /** The gallery TIFF (one plane per prototype), or null when the bundle has none. */
  public Path galleryPath() {
    Path g = directory.resolve(GALLERY);
    return Files.isRegularFile(g) ? g : null;
  }

  /** The text of prototypes.json (method, hyper-parameters, accuracy, per-prototype provenance), or null. */
  public String prototypesJson() {
    return prototypesJson;
  }

  /** Validation accuracy recorded at training time, or NaN when unknown. */
  public double validationAccuracy() {
    return prototypes == null ? Double.NaN : prototypes.validationAccuracy;
  }

  PrototypeManifest manifest() {
    return prototypes;
  }

  /**
   * Provenance for run records: {@code model.key}, {@code model.name}, {@code model.directory}, {@code model.checksum},
   * {@code model.checksums_verified}, {@code model.kind} (classifier or the prototype method), and when known
   * {@code model.class_names}, {@code model.intensity}, {@code model.validation_accuracy}, {@code model.training}.
   */
  public Map<String, String> provenance() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("model.key", key);
    m.put("model.name", name);
    m.put("model.directory", directory.toString());
    m.put("model.checksum", checksum);
    m.put("model.checksums_verified", checksumsVerified() ? "yes (" + descriptor.sha256.size() + " files)"
        : descriptor != null ? "no (model.json lists no sha256)" : "no (no model.json)");
    m.put("model.kind", prototypes == null ? "classifier" : prototypes.method);
    if (!classNames().isEmpty()) m.put("model.class_names", String.join(",", classNames()));
    if (descriptor != null && descriptor.intensity != null) {
      m.put("model.intensity", "scale=" + intensity.scale + ",offset=" + intensity.offset);
    }
    if (prototypes != null && !Double.isNaN(prototypes.validationAccuracy)) {
      m.put("model.validation_accuracy", Double.toString(prototypes.validationAccuracy));
    }
    if (descriptor != null && descriptor.trainingJson != null) m.put("model.training", descriptor.trainingJson);
    return m;
  }

  @Override
  public String toString() {
    return "ClassifierBundle[" + name + " at " + directory + "]";
  }
}
