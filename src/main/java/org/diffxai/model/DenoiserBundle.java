package org.diffxai.model;

import org.diffxai.io.Checksums;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.UserException;

/**
 * A denoiser bundle on disk: one directory that is a TensorFlow SavedModel (tag {@code serve}, signature
 * {@code serving_default}) plus {@code scheduler_config.json} and an optional {@code model.json} descriptor. See
 * {@code docs/bundles.md} for the contract.
 *
 * <p>Opening a bundle checks the layout, parses model.json, verifies its {@code sha256} entries and computes the
 * {@linkplain #checksum() bundle checksum}; it does not load TensorFlow ({@link DjlDenoiser#load} does). Instances are
 * immutable.
 *
 * <p>Model keys: a directory path ({@code ~/} is expanded), or {@code sample} / {@code sample-<x>} for a model bundled
 * in the plugin jar (class-path resources {@code /org/diffxai/sample-models/<key>/}, from the project's
 * {@code sample-data/models/<key>/}). Bundled models are extracted once to
 * {@code ~/.cache/diffusion-xai/<key>-<first 12 hex of the SHA-256 of their model.json>/} (or below
 * {@code $XDG_CACHE_HOME}, or the system property {@code diffxai.cache.dir}). A directory whose name looks like a
 * bundled key is opened as {@code ./sample-x}.
 */
public final class DenoiserBundle {
  /** The value of model.json's {@code format} field this version reads. */
  public static final String FORMAT = "diffusion-xai-denoiser/1";
  public static final String MODEL_JSON = "model.json";
  public static final String SCHEDULER_CONFIG = "scheduler_config.json";
  public static final String SAVED_MODEL = "saved_model.pb";
  /** Class-path folder of the bundled models (one sub-folder per key). */
  public static final String SAMPLE_RESOURCE_ROOT = "org/diffxai/sample-models/";
  /** System property overriding the cache directory of extracted bundled models. */
  public static final String CACHE_DIR_PROPERTY = "diffxai.cache.dir";


  private final String key;
  private final Path directory;
  private final boolean hasDescriptor;
  private final String format;
  private final String name;
  private final String description;
  private final int height;
  private final int width;
  private final int channels;
  private final IntensityMapping intensity;
  private final boolean intensityDeclared;
  private final List<String> classNames;
  private final int conditionChannels;
  private final String authors;
  private final String license;
  private final String trainingJson;
  private final int unconditionalLabel;
  private final Map<String, String> declaredSha256;
  private final Map<String, String> fileHashes;
  private final String checksum;
  private final String schedulerConfigJson;

  private DenoiserBundle(String key, Path dir, ModelJson d, Map<String, String> fileHashes, String scheduler) {
    this.key = key;
    this.directory = dir;
    this.hasDescriptor = d != null;
    this.format = d == null ? null : d.format;
    this.name = d != null && d.name != null ? d.name : (isSampleKey(key) ? key : BundleDirs.dirName(dir));
    this.description = d == null || d.description == null ? "" : d.description;
    this.height = d == null ? 0 : d.height;
    this.width = d == null ? 0 : d.width;
    this.channels = d == null ? 0 : d.channels;
    this.intensityDeclared = d != null && d.intensity != null;
    this.intensity = intensityDeclared ? d.intensity : IntensityMapping.IDENTITY;
    this.classNames = d == null ? Collections.<String>emptyList() : Collections.unmodifiableList(d.classNames);
    this.conditionChannels = d == null ? 0 : d.conditionChannels;
    this.authors = d == null ? null : d.authors;
    this.license = d == null ? null : d.license;
    this.trainingJson = d == null ? null : d.trainingJson;
    this.unconditionalLabel = d == null ? -1 : d.unconditionalLabel;
    this.declaredSha256 = d == null || d.sha256 == null ? null : Collections.unmodifiableMap(d.sha256);
    this.fileHashes = Collections.unmodifiableMap(fileHashes);
    this.checksum = Checksums.bundleChecksum(fileHashes);
    this.schedulerConfigJson = scheduler;
  }

  // ---------------------------------------------------------------------------------------------- opening

  static final BundleDirs.Kind KIND = new BundleDirs.Kind(FORMAT, "docs/bundles.md",
      "model=sample or the path of a bundle directory",
      "A bundle is a SavedModel directory (saved_model.pb, variables/) plus scheduler_config.json",
      Collections.singleton(SCHEDULER_CONFIG));

  /**
   * Opens a bundle: {@code sample} or {@code sample-<x>} for a bundled model, else a directory path.
   *
   * @throws UserException when the directory is missing, is not a SavedModel, lacks scheduler_config.json, has an
   *     unreadable model.json, fails a checksum, or names an unknown bundled model
   */
  public static DenoiserBundle open(String modelKeyOrDir) {
    return open(modelKeyOrDir, DenoiserBundle.class.getClassLoader(), defaultCacheDir());
  }

  /** {@link #open(String)} with the class loader holding bundled models and the cache to extract them to. */
  static DenoiserBundle open(String modelKeyOrDir, ClassLoader resources, Path cacheDir) {
    String key = modelKeyOrDir == null ? null : modelKeyOrDir.trim();
    return BundleDirs.open(modelKeyOrDir, resources, cacheDir, KIND, dir -> openDirectory(key, dir));
  }

  /** Opens a bundle directory. */
  public static DenoiserBundle open(Path dir) {
    return openDirectory(dir.toString(), dir.toAbsolutePath().normalize());
  }

  /** True for the keys of bundled models: {@code sample} and {@code sample-<x>}. */
  public static boolean isSampleKey(String key) {
    return BundleDirs.isSampleKey(key);
  }

  /** The cache directory bundled models are extracted to. */
  public static Path defaultCacheDir() {
    return BundleDirs.defaultCacheDir();
  }

  /** Keys of the models bundled in the jar (found on the class path), sorted. */
  public static List<String> availableSamples() {
    return availableSamples(DenoiserBundle.class.getClassLoader());
  }

  static List<String> availableSamples(ClassLoader cl) {
    return BundleDirs.available(cl, KIND);
  }

  private static DenoiserBundle openDirectory(String key, Path dir) {
    BundleDirs.checkSavedModelDir(dir, KIND);
    ModelJson d = BundleDirs.readModelJson(dir, KIND); // first: a classifier bundle is named as such
    if (!Files.isRegularFile(dir.resolve(SCHEDULER_CONFIG))) {
      throw new UserException("Model bundle " + dir + " has no scheduler_config.json (the diffusers noise-schedule "
          + "config the model was trained with). Put it next to saved_model.pb; see docs/bundles.md.");
    }
    Map<String, String> hashes = BundleDirs.hashAndVerify(dir, d, KIND);
    String scheduler = BundleDirs.readUtf8(dir.resolve(SCHEDULER_CONFIG), dir);
    return new DenoiserBundle(key, dir, d, hashes, scheduler);
  }

  // ---------------------------------------------------------------------------------------------- accessors

  /** What the user gave: {@code sample}, {@code sample-<x>}, or the directory as typed. */
  public String key() {
    return key;
  }

  /** The bundle directory (absolute; for bundled models the extracted copy in the cache). */
  public Path directory() {
    return directory;
  }

  /** True when the bundle has a model.json. */
  public boolean hasDescriptor() {
    return hasDescriptor;
  }

  /** model.json's name, else the key of a bundled model, else the directory name. */
  public String name() {
    return name;
  }

  /** model.json's description, or "". */
  public String description() {
    return description;
  }

  /** Declared sample height in pixels, or 0 when model.json does not declare {@code sample_size}. */
  public int height() {
    return height;
  }

  /** Declared sample width in pixels, or 0 when undeclared. */
  public int width() {
    return width;
  }

  /** Declared channel count C, or 0 when undeclared. */
  public int channels() {
    return channels;
  }

  /** {@code image = model * scale + offset}; identity when model.json declares no {@code intensity}. */
  public IntensityMapping intensity() {
    return intensity;
  }

  /** Declared class names (index = label value); empty for unconditional models and bundles without model.json. */
  public List<String> classNames() {
    return classNames;
  }

  /**
   * Declared condition channels K (0 = no condition input). Without model.json this is 0 and the loaded
   * {@link DjlDenoiser#conditionChannels()} comes from the signature.
   */
  public int conditionChannels() {
    return conditionChannels;
  }

  /** model.json's authors (a list is joined with ", "), or null. */
  public String authors() {
    return authors;
  }

  /** model.json's license, or null. */
  public String license() {
    return license;
  }

  /**
   * The label value of the "no class" row a network trained with label dropout learns (classifier-free guidance), as
   * model.json's {@code training.unconditional_label} declares it: always the number of classes, the row after the
   * last class; -1 when not declared.
   */
  public int unconditionalLabel() {
    return unconditionalLabel;
  }

  /** model.json's {@code training} entry as compact JSON text, or null. */
  public String trainingJson() {
    return trainingJson;
  }

  /**
   * Checksum of the whole bundle: SHA-256 of the {@code sha256sum}-style listing ({@code <hex>  <path>\n}, sorted by
   * path) of every regular file in the directory, model.json included. Any change to any file changes it. See
   * {@link Checksums#bundleChecksum(Map)} for the shell command that reproduces it.
   */
  public String checksum() {
    return checksum;
  }

  /** SHA-256 of every file in the bundle, by relative path. */
  public Map<String, String> fileHashes() {
    return fileHashes;
  }

  /** True when model.json lists sha256 checksums (they were verified when the bundle was opened). */
  public boolean checksumsVerified() {
    return declaredSha256 != null && !declaredSha256.isEmpty();
  }

  public Path schedulerConfigPath() {
    return directory.resolve(SCHEDULER_CONFIG);
  }

  /** The text of scheduler_config.json (parsed by {@code org.diffxai.core.SchedulerConfig}). */
  public String schedulerConfigJson() {
    return schedulerConfigJson;
  }

  /**
   * Provenance of the bundle for run records: {@code model.key}, {@code model.name}, {@code model.directory},
   * {@code model.checksum}, {@code model.checksums_verified}, and, when model.json has them, {@code model.format},
   * {@code model.description}, {@code model.sample_size}, {@code model.channels}, {@code model.class_names},
   * {@code model.condition_channels}, {@code model.intensity}, {@code model.authors}, {@code model.license},
   * {@code model.training} (JSON).
   */
  public Map<String, String> provenance() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("model.key", key);
    m.put("model.name", name);
    m.put("model.directory", directory.toString());
    m.put("model.checksum", checksum);
    m.put("model.checksums_verified", checksumsVerified() ? "yes (" + declaredSha256.size() + " files)"
        : hasDescriptor ? "no (model.json lists no sha256)" : "no (no model.json)");
    if (!hasDescriptor) return m;
    if (format != null) m.put("model.format", format);
    if (!description.isEmpty()) m.put("model.description", description);
    if (height > 0) m.put("model.sample_size", height + "x" + width);
    if (channels > 0) m.put("model.channels", Integer.toString(channels));
    m.put("model.class_names", String.join(",", classNames));
    m.put("model.condition_channels", Integer.toString(conditionChannels));
    if (intensityDeclared) m.put("model.intensity", "scale=" + intensity.scale + ",offset=" + intensity.offset);
    if (authors != null) m.put("model.authors", authors);
    if (license != null) m.put("model.license", license);
    if (trainingJson != null) m.put("model.training", trainingJson);
    return m;
  }

  @Override
  public String toString() {
    return "DenoiserBundle[" + name + " at " + directory + "]";
  }
}
