package org.diffxai.model;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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

  private static final Pattern SAMPLE_KEY = Pattern.compile("sample(-[A-Za-z0-9][A-Za-z0-9._-]*)?");
  private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");

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
  private final Map<String, String> declaredSha256;
  private final Map<String, String> fileHashes;
  private final String checksum;
  private final String schedulerConfigJson;

  private DenoiserBundle(String key, Path dir, Descriptor d, Map<String, String> fileHashes, String scheduler) {
    this.key = key;
    this.directory = dir;
    this.hasDescriptor = d != null;
    this.format = d == null ? null : d.format;
    this.name = d != null && d.name != null ? d.name : (isSampleKey(key) ? key : dirName(dir));
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
    this.declaredSha256 = d == null || d.sha256 == null ? null : Collections.unmodifiableMap(d.sha256);
    this.fileHashes = Collections.unmodifiableMap(fileHashes);
    this.checksum = Checksums.bundleChecksum(fileHashes);
    this.schedulerConfigJson = scheduler;
  }

  // ---------------------------------------------------------------------------------------------- opening

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
    if (modelKeyOrDir == null || modelKeyOrDir.trim().isEmpty()) {
      throw new UserException("No model given. Give model=sample or the path of a bundle directory.");
    }
    String key = modelKeyOrDir.trim();
    if (isSampleKey(key)) return openSample(key, resources, cacheDir);
    return openDirectory(key, toPath(key));
  }

  /** Opens a bundle directory. */
  public static DenoiserBundle open(Path dir) {
    return openDirectory(dir.toString(), dir.toAbsolutePath().normalize());
  }

  /** True for the keys of bundled models: {@code sample} and {@code sample-<x>}. */
  public static boolean isSampleKey(String key) {
    return key != null && SAMPLE_KEY.matcher(key).matches();
  }

  /** The cache directory bundled models are extracted to. */
  public static Path defaultCacheDir() {
    String p = System.getProperty(CACHE_DIR_PROPERTY);
    if (p != null && !p.trim().isEmpty()) return Paths.get(p.trim()).toAbsolutePath();
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (xdg != null && !xdg.trim().isEmpty() && Paths.get(xdg.trim()).isAbsolute()) {
      return Paths.get(xdg.trim(), "diffusion-xai");
    }
    return Paths.get(System.getProperty("user.home"), ".cache", "diffusion-xai");
  }

  /** Keys of the models bundled in the jar (found on the class path), sorted. */
  public static List<String> availableSamples() {
    return availableSamples(DenoiserBundle.class.getClassLoader());
  }

  private static Path toPath(String key) {
    String p = key;
    if (p.equals("~") || p.startsWith("~/") || p.startsWith("~" + File.separator)) {
      p = System.getProperty("user.home") + p.substring(1);
    }
    try {
      return Paths.get(p).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw new UserException("Model path '" + key + "' is not a valid path (" + e.getReason()
          + "). Give model=sample or the path of a bundle directory.");
    }
  }

  private static DenoiserBundle openDirectory(String key, Path dir) {
    if (!Files.exists(dir)) {
      throw new UserException("Model directory " + dir + " does not exist. Give model=sample or the path of a bundle "
          + "directory.");
    }
    if (!Files.isDirectory(dir)) {
      throw new UserException("Model path " + dir + " is a file, not a directory. Give the bundle directory that "
          + "contains saved_model.pb (here probably " + dir.getParent() + ").");
    }
    if (!Files.isRegularFile(dir.resolve(SAVED_MODEL))) {
      String hint = "";
      Path inner = singleSavedModelChild(dir);
      if (inner != null) hint = " Did you mean " + inner + "?";
      throw new UserException("Model directory " + dir + " is not a TensorFlow SavedModel: it has no saved_model.pb. "
          + "A bundle is a SavedModel directory (saved_model.pb, variables/) plus scheduler_config.json; see "
          + "docs/bundles.md." + hint);
    }
    if (!Files.isRegularFile(dir.resolve(SCHEDULER_CONFIG))) {
      throw new UserException("Model bundle " + dir + " has no scheduler_config.json (the diffusers noise-schedule "
          + "config the model was trained with). Put it next to saved_model.pb; see docs/bundles.md.");
    }
    Descriptor d = null;
    Path mj = dir.resolve(MODEL_JSON);
    if (Files.exists(mj)) d = Descriptor.parse(readUtf8(mj, dir), mj);
    Map<String, String> hashes;
    try {
      hashes = Checksums.fileHashes(dir);
    } catch (IOException e) {
      throw new UserException("Cannot read the files of model bundle " + dir + ": " + e + ". Check the permissions.",
          e);
    }
    if (d != null && d.sha256 != null) verify(dir, d.sha256, hashes);
    String scheduler = readUtf8(dir.resolve(SCHEDULER_CONFIG), dir);
    return new DenoiserBundle(key, dir, d, hashes, scheduler);
  }

  private static Path singleSavedModelChild(Path dir) {
    Path found = null;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        if (Files.isRegularFile(p.resolve(SAVED_MODEL))) {
          if (found != null) return null;
          found = p;
        }
      }
    } catch (IOException e) {
      return null;
    }
    return found;
  }

  private static String readUtf8(Path file, Path dir) {
    try {
      byte[] b = Files.readAllBytes(file);
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
    } catch (CharacterCodingException e) {
      throw new UserException(file.getFileName() + " in model bundle " + dir + " is not UTF-8 text; the file is "
          + "damaged. Restore the original bundle.", e);
    } catch (IOException e) {
      throw new UserException("Cannot read " + file + ": " + e + ". Check the permissions.", e);
    }
  }

  /** Thrown for a checksum failure, so a damaged cache of a bundled model can be re-extracted. */
  static final class ChecksumException extends UserException {
    private static final long serialVersionUID = 1L;
    /** The bundle-relative path of the file that failed. */
    final String file;

    ChecksumException(String file, String message) {
      super(message);
      this.file = file;
    }
  }

  private static void verify(Path dir, Map<String, String> declared, Map<String, String> actual) {
    for (Map.Entry<String, String> e : declared.entrySet()) {
      String have = actual.get(e.getKey());
      if (have == null) {
        throw new ChecksumException(e.getKey(), "File " + e.getKey() + " listed in the sha256 entry of model.json "
            + "is missing from model bundle " + dir + ": the bundle is incomplete or was modified. Copy the complete "
            + "bundle again.");
      }
      if (!have.equalsIgnoreCase(e.getValue())) {
        throw new ChecksumException(e.getKey(), "Checksum mismatch for " + e.getKey() + " in model bundle " + dir
            + ": the file was modified or damaged after the bundle was made. Restore the original bundle (or, if "
            + "you changed it on purpose, update the sha256 entry of model.json; see docs/bundles.md).");
      }
    }
    // Files that change what the model computes must be covered; other extra files (a README) are tolerated.
    for (String rel : actual.keySet()) {
      boolean modelFile = rel.equals(SAVED_MODEL) || rel.equals(SCHEDULER_CONFIG) || rel.startsWith("variables/")
          || rel.startsWith("assets/");
      if (modelFile && !declared.containsKey(rel)) {
        throw new ChecksumException(rel, "File " + rel + " in model bundle " + dir + " is not listed in the "
            + "sha256 entry of model.json, so the bundle was modified after it was made. Restore the original "
            + "bundle (or add the file's checksum to model.json; see docs/bundles.md).");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------- bundled models

  private static DenoiserBundle openSample(String key, ClassLoader cl, Path cacheDir) {
    String root = SAMPLE_RESOURCE_ROOT + key + "/";
    byte[] modelJson = readResource(cl, root + MODEL_JSON);
    if (modelJson == null) {
      List<String> avail = availableSamples(cl);
      if (key.equals("sample")) {
        throw new UserException("The bundled sample model is missing from this build of the plugin (no resource /"
            + root + MODEL_JSON + "). Reinstall the plugin, or give the path of a bundle directory"
            + (avail.isEmpty() ? "." : " or one of: " + String.join(", ", avail) + "."));
      }
      throw new UserException("Unknown bundled model '" + key + "'. Available: "
          + (avail.isEmpty() ? "none in this build" : String.join(", ", avail)) + ". Give one of these or the path of "
          + "a bundle directory (a directory called " + key + " is given as ./" + key + ").");
    }
    String id = key + "-" + Checksums.sha256Hex(modelJson).substring(0, 12);
    Path target = cacheDir.resolve(id);
    if (Files.isDirectory(target)) {
      try {
        return openDirectory(key, target);
      } catch (ChecksumException damaged) {
        deleteRecursively(target); // someone modified the cached copy: extract it again from the jar
      }
    }
    extract(key, cl, root, modelJson, cacheDir, target);
    try {
      return openDirectory(key, target);
    } catch (ChecksumException damaged) {
      deleteRecursively(target);
      throw new UserException("The bundled model '" + key + "' in the plugin jar is damaged: " + damaged.file
          + " does not match its checksum. Reinstall the plugin.", damaged);
    }
  }

  private static void extract(String key, ClassLoader cl, String root, byte[] modelJson, Path cacheDir, Path target) {
    Descriptor d = Descriptor.parse(new String(modelJson, StandardCharsets.UTF_8), Paths.get("/" + root + MODEL_JSON));
    if (d.sha256 == null || d.sha256.isEmpty()) {
      throw new UserException("The bundled model '" + key + "' cannot be extracted: its model.json lists no sha256 "
          + "entries, which name the files to extract. This is a build problem; reinstall the plugin.");
    }
    Path tmp = null;
    try {
      Files.createDirectories(cacheDir);
      tmp = Files.createTempDirectory(cacheDir, "." + target.getFileName() + ".tmp");
      for (String rel : d.sha256.keySet()) {
        Path out = tmp.resolve(rel).normalize();
        if (!out.startsWith(tmp)) throw new IOException("unsafe path " + rel);
        try (InputStream in = cl.getResourceAsStream(root + rel)) {
          if (in == null) {
            throw new UserException("The bundled model '" + key + "' is incomplete: resource /" + root + rel
                + " is missing from the plugin jar. This is a build problem; reinstall the plugin.");
          }
          Files.createDirectories(out.getParent());
          Files.copy(in, out);
        }
      }
      Files.write(tmp.resolve(MODEL_JSON), modelJson);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException raced) {
        if (!Files.isDirectory(target)) throw raced; // else another thread or process extracted it first
      }
    } catch (IOException e) {
      throw new UserException("Cannot extract the bundled model '" + key + "' to " + cacheDir + ": " + e + ". Make "
          + "that directory writable or choose another with -D" + CACHE_DIR_PROPERTY + "=/some/dir.", e);
    } finally {
      if (tmp != null && Files.exists(tmp)) deleteRecursively(tmp);
    }
  }

  private static byte[] readResource(ClassLoader cl, String name) {
    try (InputStream in = cl.getResourceAsStream(name)) {
      if (in == null) return null;
      java.io.ByteArrayOutputStream bo = new java.io.ByteArrayOutputStream();
      byte[] buf = new byte[1 << 16];
      for (int r; (r = in.read(buf)) > 0;) bo.write(buf, 0, r);
      return bo.toByteArray();
    } catch (IOException e) {
      throw new UserException("Cannot read resource /" + name + " from the plugin jar: " + e
          + ". Reinstall the plugin.", e);
    }
  }

  static List<String> availableSamples(ClassLoader cl) {
    TreeSet<String> keys = new TreeSet<>();
    TreeSet<String> jars = new TreeSet<>();
    try {
      List<URL> urls = Collections.list(cl.getResources(SAMPLE_RESOURCE_ROOT));
      // jars written without directory entries only answer for files: find them through the default sample
      urls.addAll(Collections.list(cl.getResources(SAMPLE_RESOURCE_ROOT + "sample/" + MODEL_JSON)));
      for (URL u : urls) {
        if ("file".equals(u.getProtocol()) && u.getPath().endsWith("/")) {
          try (DirectoryStream<Path> ds = Files.newDirectoryStream(Paths.get(u.toURI()))) {
            for (Path c : ds) {
              String n = c.getFileName().toString();
              if (isSampleKey(n) && Files.isRegularFile(c.resolve(MODEL_JSON))) keys.add(n);
            }
          }
        } else if ("jar".equals(u.getProtocol())) {
          URL jarUrl = ((JarURLConnection) u.openConnection()).getJarFileURL();
          if ("file".equals(jarUrl.getProtocol())) jars.add(Paths.get(jarUrl.toURI()).toString());
        }
      }
      for (String jarPath : jars) {
        try (JarFile jar = new JarFile(jarPath)) {
          for (Enumeration<JarEntry> en = jar.entries(); en.hasMoreElements();) {
            String n = en.nextElement().getName();
            if (!n.startsWith(SAMPLE_RESOURCE_ROOT) || !n.endsWith("/" + MODEL_JSON)) continue;
            String k = n.substring(SAMPLE_RESOURCE_ROOT.length(), n.length() - MODEL_JSON.length() - 1);
            if (isSampleKey(k)) keys.add(k);
          }
        }
      }
    } catch (IOException | URISyntaxException | RuntimeException e) {
      // listing is best effort: the error message then lists what was found
    }
    return new ArrayList<>(keys);
  }

  private static void deleteRecursively(Path p) {
    try (Stream<Path> st = Files.walk(p)) {
      st.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException | RuntimeException ignored) {
      // best effort
    }
  }

  private static String dirName(Path dir) {
    Path f = dir.getFileName();
    return f == null ? dir.toString() : f.toString();
  }

  // ---------------------------------------------------------------------------------------------- model.json

  /** Parsed model.json; every field optional. */
  static final class Descriptor {
    String format;
    String name;
    String description;
    int height;
    int width;
    int channels;
    IntensityMapping intensity;
    List<String> classNames = new ArrayList<>();
    int conditionChannels;
    String authors;
    String license;
    String trainingJson;
    Map<String, String> sha256;

    static Descriptor parse(String text, Path file) {
      JsonElement root;
      try {
        JsonReader r = new JsonReader(new StringReader(text));
        r.setLenient(false);
        root = new Gson().getAdapter(JsonElement.class).read(r);
        if (r.peek() != JsonToken.END_DOCUMENT) throw new IOException("text after the end of the JSON object");
      } catch (IOException | RuntimeException e) {
        throw new UserException(file + " is not valid JSON (" + e.getMessage() + "). Fix the file, or remove it to use "
            + "the model's own signature; see docs/bundles.md.", e);
      }
      if (root == null || !root.isJsonObject()) {
        throw bad(file, "must be a JSON object {...}");
      }
      JsonObject o = root.getAsJsonObject();
      Descriptor d = new Descriptor();
      d.format = string(o, "format", file);
      if (d.format != null && !d.format.equals(FORMAT)) {
        if (d.format.startsWith("diffusion-xai-denoiser/")) {
          throw new UserException(file + " has format \"" + d.format + "\", but this version of the plugin reads \""
              + FORMAT + "\". Update the plugin, or export the bundle in the older format.");
        }
        throw bad(file, "has \"format\": \"" + d.format + "\"; a denoiser bundle needs \"" + FORMAT + "\"");
      }
      d.name = string(o, "name", file);
      d.description = string(o, "description", file);
      JsonElement size = o.get("sample_size");
      if (size != null && !size.isJsonNull()) {
        if (size.isJsonPrimitive()) {
          d.height = d.width = positiveInt(size, "sample_size", file);
        } else if (size.isJsonArray() && size.getAsJsonArray().size() == 2) {
          d.height = positiveInt(size.getAsJsonArray().get(0), "sample_size", file);
          d.width = positiveInt(size.getAsJsonArray().get(1), "sample_size", file);
        } else {
          throw bad(file, "has \"sample_size\": " + size + "; it must be [height, width] in pixels, e.g. [64, 64]");
        }
      }
      JsonElement ch = o.get("channels");
      if (ch != null && !ch.isJsonNull()) d.channels = positiveInt(ch, "channels", file);
      JsonElement in = o.get("intensity");
      if (in != null && !in.isJsonNull()) {
        if (!in.isJsonObject()) {
          throw bad(file, "has \"intensity\": " + in + "; it must be {\"scale\": s, \"offset\": o}");
        }
        double scale = number(in.getAsJsonObject(), "scale", 1, file);
        double offset = number(in.getAsJsonObject(), "offset", 0, file);
        d.intensity = new IntensityMapping(scale, offset);
      }
      JsonElement cn = o.get("class_names");
      if (cn != null && !cn.isJsonNull()) {
        if (!cn.isJsonArray()) throw bad(file, "has \"class_names\": " + cn + "; it must be a list of names");
        for (JsonElement e : cn.getAsJsonArray()) {
          if (!isString(e) || e.getAsString().trim().isEmpty()) {
            throw bad(file, "has class name " + e + "; class names must be non-empty strings");
          }
          String n = e.getAsString().trim();
          if (d.classNames.contains(n)) throw bad(file, "lists class name \"" + n + "\" twice");
          d.classNames.add(n);
        }
      }
      JsonElement k = o.get("condition_channels");
      if (k != null && !k.isJsonNull()) {
        d.conditionChannels = nonNegativeInt(k, "condition_channels", file);
      }
      JsonElement au = o.get("authors");
      if (au != null && !au.isJsonNull()) {
        if (isString(au)) {
          d.authors = au.getAsString();
        } else if (au.isJsonArray()) {
          List<String> names = new ArrayList<>();
          for (JsonElement e : au.getAsJsonArray()) names.add(isString(e) ? e.getAsString() : e.toString());
          d.authors = String.join(", ", names);
        } else {
          d.authors = au.toString();
        }
      }
      d.license = string(o, "license", file);
      JsonElement tr = o.get("training");
      if (tr != null && !tr.isJsonNull()) d.trainingJson = tr.toString();
      JsonElement sums = o.get("sha256");
      if (sums != null && !sums.isJsonNull()) {
        if (!sums.isJsonObject()) {
          throw bad(file, "has \"sha256\": " + abbreviate(sums) + "; it must map file paths to SHA-256 hex digests");
        }
        d.sha256 = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : sums.getAsJsonObject().entrySet()) {
          String rel = e.getKey();
          if (rel.isEmpty() || rel.startsWith("/") || rel.contains("\\") || rel.equals(MODEL_JSON)
              || ("/" + rel + "/").contains("/../") || ("/" + rel + "/").contains("/./")) {
            throw bad(file, "lists \"" + rel + "\" in \"sha256\"; keys must be relative paths inside the bundle "
                + "with '/' separators (model.json itself is not listed)");
          }
          if (!isString(e.getValue()) || !HEX64.matcher(e.getValue().getAsString()).matches()) {
            throw bad(file, "has sha256 " + e.getValue() + " for \"" + rel + "\"; it must be 64 hex digits as printed "
                + "by sha256sum");
          }
          d.sha256.put(rel, e.getValue().getAsString().toLowerCase(Locale.ROOT));
        }
      }
      return d;
    }

    private static UserException bad(Path file, String what) {
      return new UserException(file + " " + what + ". Fix the file; see docs/bundles.md.");
    }

    private static boolean isString(JsonElement e) {
      return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString();
    }

    private static String string(JsonObject o, String key, Path file) {
      JsonElement e = o.get(key);
      if (e == null || e.isJsonNull()) return null;
      if (!isString(e)) throw bad(file, "has \"" + key + "\": " + abbreviate(e) + "; it must be a string");
      return e.getAsString();
    }

    private static double number(JsonObject o, String key, double dflt, Path file) {
      JsonElement e = o.get(key);
      if (e == null || e.isJsonNull()) return dflt;
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
        throw bad(file, "has \"" + key + "\": " + abbreviate(e) + "; it must be a number");
      }
      return e.getAsDouble();
    }

    private static int wholeNumber(JsonElement e, int min, String key, Path file) {
      if (e.isJsonPrimitive() && ((JsonPrimitive) e).isNumber()) {
        double v = e.getAsDouble();
        if (v >= min && v <= Integer.MAX_VALUE && v == Math.rint(v)) return (int) v;
      }
      throw bad(file, "has \"" + key + "\": " + abbreviate(e) + "; it must be a whole number >= " + min);
    }

    private static int nonNegativeInt(JsonElement e, String key, Path file) {
      return wholeNumber(e, 0, key, file);
    }

    private static int positiveInt(JsonElement e, String key, Path file) {
      return wholeNumber(e, 1, key, file);
    }

    private static String abbreviate(JsonElement e) {
      String s = e.toString();
      return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
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
   * The label index for a class name or index as the user typed it. Names match exactly, else case-insensitively.
   *
   * @throws UserException for an unknown name or an index out of range (listing the valid classes), and for models
   *     that declare no classes (unless the bundle has no model.json, when any index >= 0 is accepted)
   */
  public int labelIndex(String nameOrIndex) {
    String s = nameOrIndex == null ? "" : nameOrIndex.trim();
    if (classNames.isEmpty()) {
      if (!hasDescriptor && s.matches("\\d{1,9}")) return Integer.parseInt(s);
      if (!hasDescriptor) {
        throw new UserException("Model " + name + " has no model.json naming its classes, so the class must be given "
            + "as a number (0, 1, ...); got '" + s + "'.");
      }
      throw new UserException("Model " + name + " is unconditional (its model.json declares no class_names), so it "
          + "takes no class; leave the class empty" + (s.isEmpty() ? "." : " instead of '" + s + "'."));
    }
    int idx = classNames.indexOf(s);
    if (idx >= 0) return idx;
    int ci = -1;
    for (int i = 0; i < classNames.size(); i++) {
      if (classNames.get(i).equalsIgnoreCase(s)) {
        if (ci >= 0) {
          ci = -2;
          break;
        }
        ci = i;
      }
    }
    if (ci >= 0) return ci;
    if (s.matches("\\d{1,9}") && Integer.parseInt(s) < classNames.size()) return Integer.parseInt(s);
    throw new UserException((s.isEmpty() ? "No class given" : "Unknown class '" + s + "'") + " for model " + name
        + ". Valid classes: " + String.join(", ", classNames) + " (or their index 0-" + (classNames.size() - 1) + ").");
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
