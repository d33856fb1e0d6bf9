package org.diffxai.model;

import org.diffxai.io.Checksums;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;

/**
 * What denoiser and classifier bundles share on disk: the SavedModel directory checks, the {@code sha256} verification
 * of model.json, and the bundled models ({@code sample}, {@code sample-<x>}) that live in the plugin jar and are
 * extracted once to a cache directory. See {@link DenoiserBundle} for the keys and the cache layout.
 */
final class BundleDirs {
  private static final Pattern SAMPLE_KEY = Pattern.compile("sample(-[A-Za-z0-9][A-Za-z0-9._-]*)?");

  /** What one kind of bundle calls itself in messages, and which of its files must be covered by checksums. */
  static final class Kind {
    /** The model.json {@code format} this version reads, e.g. {@code diffusion-xai-denoiser/1}. */
    final String format;
    /** Where the contract is documented, e.g. {@code docs/bundles.md}. */
    final String doc;
    /** What the user should give, e.g. {@code model=sample or the path of a bundle directory}. */
    final String give;
    /** One sentence describing the layout, e.g. "A bundle is a SavedModel directory (...) plus ...". */
    final String layout;
    /** Top-level files (besides saved_model.pb, variables/, assets/) whose change changes what the model computes. */
    final Set<String> modelFiles;

    Kind(String format, String doc, String give, String layout, Set<String> modelFiles) {
      this.format = format;
      this.doc = doc;
      this.give = give;
      this.layout = layout;
      this.modelFiles = modelFiles;
    }

    /** The format family, e.g. {@code diffusion-xai-denoiser/}. */
    String family() {
      return format.substring(0, format.indexOf('/') + 1);
    }
  }

  private BundleDirs() {}

  static boolean isSampleKey(String key) {
    return key != null && SAMPLE_KEY.matcher(key).matches();
  }

  static Path defaultCacheDir() {
    String p = System.getProperty(DenoiserBundle.CACHE_DIR_PROPERTY);
    if (p != null && !p.trim().isEmpty()) return Paths.get(p.trim()).toAbsolutePath();
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (xdg != null && !xdg.trim().isEmpty() && Paths.get(xdg.trim()).isAbsolute()) {
      return Paths.get(xdg.trim(), "diffusion-xai");
    }
    return Paths.get(System.getProperty("user.home"), ".cache", "diffusion-xai");
  }

  /**
   * Resolves what the user typed: a bundled key is extracted (if needed) and opened with {@code openDir}; anything
   * else is a directory path.
   */
  static <T> T open(String modelKeyOrDir, ClassLoader resources, Path cacheDir, Kind kind,
      Function<Path, T> openDir) {
    if (modelKeyOrDir == null || modelKeyOrDir.trim().isEmpty()) {
      throw new UserException("No model given. Give " + kind.give + ".");
    }
    String key = modelKeyOrDir.trim();
    if (isSampleKey(key)) return openSample(key, resources, cacheDir, kind, openDir);
    return openDir.apply(toPath(key, kind));
  }

  private static Path toPath(String key, Kind kind) {
    String p = key;
    if (p.equals("~") || p.startsWith("~/") || p.startsWith("~" + File.separator)) {
      p = System.getProperty("user.home") + p.substring(1);
    }
    try {
      return Paths.get(p).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw new UserException("Model path '" + key + "' is not a valid path (" + e.getReason() + "). Give "
          + kind.give + ".");
    }
  }

  /** Checks that {@code dir} exists, is a directory and holds saved_model.pb. */
  static void checkSavedModelDir(Path dir, Kind kind) {
    if (!Files.exists(dir)) {
      throw new UserException("Model directory " + dir + " does not exist. Give " + kind.give + ".");
    }
    if (!Files.isDirectory(dir)) {
      throw new UserException("Model path " + dir + " is a file, not a directory. Give the bundle directory that "
          + "contains saved_model.pb (here probably " + dir.getParent() + ").");
    }
    if (!Files.isRegularFile(dir.resolve(DenoiserBundle.SAVED_MODEL))) {
      String hint = "";
      Path inner = singleSavedModelChild(dir);
      if (inner != null) hint = " Did you mean " + inner + "?";
      throw new UserException("Model directory " + dir + " is not a TensorFlow SavedModel: it has no saved_model.pb. "
          + kind.layout + "; see " + kind.doc + "." + hint);
    }
  }

  private static Path singleSavedModelChild(Path dir) {
    Path found = null;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        if (Files.isRegularFile(p.resolve(DenoiserBundle.SAVED_MODEL))) {
          if (found != null) return null;
          found = p;
        }
      }
    } catch (IOException e) {
      return null;
    }
    return found;
  }

  /** Parses the directory's model.json (null when absent). */
  static ModelJson readModelJson(Path dir, Kind kind) {
    Path mj = dir.resolve(DenoiserBundle.MODEL_JSON);
    return Files.exists(mj) ? ModelJson.parse(readUtf8(mj, dir), mj, kind) : null;
  }

  /** SHA-256 of every file, verified against model.json's {@code sha256} entries when it has them. */
  static Map<String, String> hashAndVerify(Path dir, ModelJson d, Kind kind) {
    Map<String, String> hashes;
    try {
      hashes = Checksums.fileHashes(dir);
    } catch (IOException e) {
      throw new UserException("Cannot read the files of model bundle " + dir + ": " + e + ". Check the permissions.",
          e);
    }
    if (d != null && d.sha256 != null) verify(dir, d.sha256, hashes, kind);
    return hashes;
  }

  static String readUtf8(Path file, Path dir) {
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

  private static void verify(Path dir, Map<String, String> declared, Map<String, String> actual, Kind kind) {
    String doc = kind.doc;
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
            + "you changed it on purpose, update the sha256 entry of model.json; see " + doc + ").");
      }
    }
    // Files that change what the model computes must be covered; other extra files (a README) are tolerated.
    for (String rel : actual.keySet()) {
      boolean modelFile = rel.equals(DenoiserBundle.SAVED_MODEL) || kind.modelFiles.contains(rel)
          || rel.startsWith("variables/") || rel.startsWith("assets/");
      if (modelFile && !declared.containsKey(rel)) {
        throw new ChecksumException(rel, "File " + rel + " in model bundle " + dir + " is not listed in the "
            + "sha256 entry of model.json, so the bundle was modified after it was made. Restore the original "
            + "bundle (or add the file's checksum to model.json; see " + doc + ").");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------- bundled models

  /**
   * The checksum manifest of every file of every bundled model, inside the jar next to them: {@code sha256sum} lines
   * {@code <hex>  <key>/<path>} (from sample-data/models/SHA256SUMS, which a test keeps equal to the files).
   */
  static final String SAMPLE_MANIFEST = "SHA256SUMS";

  /**
   * Opens a bundled model: its cached copy when every file (model.json included) matches the jar's manifest and no
   * other file is there, else a fresh extraction, verified the same way. model.json's own sha256 entries are not
   * trusted for this: whoever can replace the cached files can replace model.json with them.
   */
  private static <T> T openSample(String key, ClassLoader cl, Path cacheDir, Kind kind, Function<Path, T> openDir) {
    String root = DenoiserBundle.SAMPLE_RESOURCE_ROOT + key + "/";
    byte[] modelJson = readResource(cl, root + DenoiserBundle.MODEL_JSON);
    if (modelJson == null) {
      List<String> avail = available(cl, kind);
      if (key.equals("sample")) {
        throw new UserException("The bundled sample model is missing from this build of the plugin (no resource /"
            + root + DenoiserBundle.MODEL_JSON + "). Reinstall the plugin, or give the path of a bundle directory"
            + (avail.isEmpty() ? "." : " or one of: " + String.join(", ", avail) + "."));
      }
      throw new UserException("Unknown bundled model '" + key + "'. Available: "
          + (avail.isEmpty() ? "none in this build" : String.join(", ", avail)) + ". Give one of these or the path of "
          + "a bundle directory (a directory called " + key + " is given as ./" + key + ").");
    }
    Map<String, String> files = sampleManifest(cl, key);
    if (!Checksums.sha256Hex(modelJson).equals(files.get(DenoiserBundle.MODEL_JSON))) {
      throw damagedJar(key, DenoiserBundle.MODEL_JSON);
    }
    String id = key + "-" + Checksums.sha256Hex(modelJson).substring(0, 12);
    Path target = cacheDir.resolve(id);
    if (Files.isDirectory(target)) {
      if (differs(target, files) == null) return openDir.apply(target);
      AtomicFiles.deleteRecursively(target); // someone modified the cached copy: extract it again from the jar
    }
    extract(key, cl, root, files.keySet(), cacheDir, target);
    String bad = differs(target, files);
    if (bad != null) {
      AtomicFiles.deleteRecursively(target);
      throw damagedJar(key, bad);
    }
    return openDir.apply(target);
  }

  private static UserException damagedJar(String key, String file) {
    return new UserException("The bundled model '" + key + "' in the plugin jar is damaged: " + file + " does not "
        + "match its checksum. Reinstall the plugin.");
  }

  /** The jar manifest's files of one bundled model: path inside the bundle → SHA-256. */
  static Map<String, String> sampleManifest(ClassLoader cl, String key) {
    String name = DenoiserBundle.SAMPLE_RESOURCE_ROOT + SAMPLE_MANIFEST;
    byte[] text = readResource(cl, name);
    if (text == null) {
      throw new UserException("The plugin jar has no checksum manifest of its bundled models (resource /" + name
          + "), so the bundled model '" + key + "' cannot be verified. This is a build problem; reinstall the "
          + "plugin.");
    }
    Map<String, String> files = new java.util.TreeMap<>();
    for (String line : new String(text, StandardCharsets.UTF_8).split("\n")) {
      java.util.regex.Matcher m = MANIFEST_LINE.matcher(line);
      if (m.matches() && m.group(2).equals(key)) files.put(m.group(3), m.group(1));
    }
    if (files.isEmpty()) {
      throw new UserException("The plugin jar's checksum manifest /" + name + " lists no files of the bundled model '"
          + key + "', so it cannot be verified. This is a build problem; reinstall the plugin.");
    }
    return files;
  }

  private static final Pattern MANIFEST_LINE = Pattern.compile("([0-9a-f]{64}) [ *]([^/]+)/(.+)");

  /**
   * Null when {@code dir} holds exactly the listed files with the listed checksums, else the first file that differs
   * (or is missing or extra).
   */
  private static String differs(Path dir, Map<String, String> files) {
    try {
      List<String> present = Checksums.relativeFiles(dir);
      for (String rel : present) {
        if (!files.containsKey(rel)) return rel;
      }
      for (Map.Entry<String, String> e : files.entrySet()) {
        Path f = dir.resolve(e.getKey());
        if (!Files.isRegularFile(f) || !Checksums.sha256Hex(f).equals(e.getValue())) return e.getKey();
      }
      return null;
    } catch (IOException e) {
      return dir.toString();
    }
  }

  private static void extract(String key, ClassLoader cl, String root, Set<String> files, Path cacheDir,
      Path target) {
    Path tmp = null;
    try {
      Files.createDirectories(cacheDir);
      tmp = Files.createTempDirectory(cacheDir, "." + target.getFileName() + ".tmp");
      for (String rel : files) {
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
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException raced) {
        if (!Files.isDirectory(target)) throw raced; // else another thread or process extracted it first
      }
    } catch (IOException e) {
      throw new UserException("Cannot extract the bundled model '" + key + "' to " + cacheDir + ": " + e + ". Make "
          + "that directory writable or choose another with -D" + DenoiserBundle.CACHE_DIR_PROPERTY + "=/some/dir.",
          e);
    } finally {
      if (tmp != null && Files.exists(tmp)) AtomicFiles.deleteRecursively(tmp);
    }
  }

  private static byte[] readResource(ClassLoader cl, String name) {
    try (InputStream in = cl.getResourceAsStream(name)) {
      if (in == null) return null;
      ByteArrayOutputStream bo = new ByteArrayOutputStream();
      byte[] buf = new byte[1 << 16];
      for (int r; (r = in.read(buf)) > 0;) bo.write(buf, 0, r);
      return bo.toByteArray();
    } catch (IOException e) {
      throw new UserException("Cannot read resource /" + name + " from the plugin jar: " + e
          + ". Reinstall the plugin.", e);
    }
  }

  /**
   * Keys of the bundled models of this kind, sorted: those whose model.json declares no format or one of the kind's
   * format family.
   */
  static List<String> available(ClassLoader cl, Kind kind) {
    List<String> out = new ArrayList<>();
    for (String k : availableSamples(cl)) {
      byte[] mj = readResource(cl, DenoiserBundle.SAMPLE_RESOURCE_ROOT + k + "/" + DenoiserBundle.MODEL_JSON);
      if (mj != null && ofKind(mj, kind)) out.add(k);
    }
    return out;
  }

  private static boolean ofKind(byte[] modelJson, Kind kind) {
    try {
      JsonElement f = JsonParser.parseString(new String(modelJson, StandardCharsets.UTF_8)).getAsJsonObject()
          .get("format");
      return f == null || !f.isJsonPrimitive() || f.getAsString().startsWith(kind.family());
    } catch (RuntimeException e) {
      return true; // a damaged entry is listed; opening it reports the problem
    }
  }

  /** Keys of every model bundled in the jar (found on the class path), sorted. */
  static List<String> availableSamples(ClassLoader cl) {
    TreeSet<String> keys = new TreeSet<>();
    TreeSet<String> jars = new TreeSet<>();
    String rootName = DenoiserBundle.SAMPLE_RESOURCE_ROOT;
    String modelJson = DenoiserBundle.MODEL_JSON;
    try {
      List<URL> urls = Collections.list(cl.getResources(rootName));
      // jars written without directory entries only answer for files: find them through the default sample
      urls.addAll(Collections.list(cl.getResources(rootName + "sample/" + modelJson)));
      for (URL u : urls) {
        if ("file".equals(u.getProtocol()) && u.getPath().endsWith("/")) {
          try (DirectoryStream<Path> ds = Files.newDirectoryStream(Paths.get(u.toURI()))) {
            for (Path c : ds) {
              String n = c.getFileName().toString();
              if (isSampleKey(n) && Files.isRegularFile(c.resolve(modelJson))) keys.add(n);
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
            if (!n.startsWith(rootName) || !n.endsWith("/" + modelJson)) continue;
            String k = n.substring(rootName.length(), n.length() - modelJson.length() - 1);
            if (isSampleKey(k)) keys.add(k);
          }
        }
      }
    } catch (IOException | URISyntaxException | RuntimeException e) {
      // listing is best effort: the error message then lists what was found
    }
    return new ArrayList<>(keys);
  }

  static String dirName(Path dir) {
    Path f = dir.getFileName();
    return f == null ? dir.toString() : f.toString();
  }
}
