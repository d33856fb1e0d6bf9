package org.diffxai.tf;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Checksums;

/**
 * The complete state of a {@link DenoiserTrainer} between two iterations, on disk, so that training can continue in a
 * later run ({@code resume}) and end exactly where one uninterrupted run of the same total iterations ends.
 *
 * <p>A checkpoint is a directory with two files:
 *
 * <pre>
 * checkpoint.json         format {@value #FORMAT}: iteration, network, options, data fingerprint, random-stream
 *                         positions, training history, and the name, size, SHA-256 and section table of the state file
 * state-00002000.bin      raw little-endian sections: the weights, the EMA weights, Adam's first and second
 *                         moments (float32, one section per parameter), the loss of every iteration so far (float32)
 *                         and the training seconds at the end of each (float64)
 * </pre>
 *
 * Writing is atomic: the state file is written under a temporary name and renamed, then checkpoint.json (the commit
 * point) is replaced the same way, then older state files are deleted. A crash at any moment leaves the previous or
 * the new checkpoint readable, never a mix.
 */
public final class DenoiserCheckpoint {
  public static final String FORMAT = "diffusion-xai-denoiser-checkpoint/1";
  public static final String JSON = "checkpoint.json";
  /** Suffix of the checkpoint folder that Train Denoiser writes beside its output bundle. */
  public static final String SUFFIX = ".checkpoint";
  static final String WEIGHTS = "weights/";
  static final String EMA = "ema/";
  static final String ADAM_M = "adam_m/";
  static final String ADAM_V = "adam_v/";
  static final String LOSS = "log/loss";
  static final String SECONDS = "log/seconds";

  private final Path dir;
  private final int iteration;
  private final JsonObject network;
  private final JsonObject options;
  private final String dataFingerprint;
  private final JsonObject rng;
  private final List<JsonObject> history;
  private final Map<String, float[]> floats;
  private final double[] seconds;

  private DenoiserCheckpoint(Path dir, int iteration, JsonObject network, JsonObject options, String dataFingerprint,
      JsonObject rng, List<JsonObject> history, Map<String, float[]> floats, double[] seconds) {
    this.dir = dir;
    this.iteration = iteration;
    this.network = network;
    this.options = options;
    this.dataFingerprint = dataFingerprint;
    this.rng = rng;
    this.history = history;
    this.floats = floats;
    this.seconds = seconds;
  }

  /** The folder it was read from. */
  public Path directory() {
    return dir;
  }

  /** Completed iterations. */
  public int iteration() {
    return iteration;
  }

  public String dataFingerprint() {
    return dataFingerprint;
  }

  /** True when the stored random-stream positions equal {@code expected} (as the trainer describes them). */
  boolean rngMatches(Map<String, Object> expected) {
    return rng != null && same(rng, gson().toJsonTree(expected));
  }

  /** Earlier training runs that led to this checkpoint: {from, to, seconds, software, tensorflow} each. */
  List<JsonObject> history() {
    return Collections.unmodifiableList(history);
  }

  /** The parameters of one group ({@link #WEIGHTS}, {@link #EMA}, {@link #ADAM_M}, {@link #ADAM_V}) by name. */
  Map<String, float[]> group(String prefix) {
    Map<String, float[]> m = new LinkedHashMap<>();
    for (Map.Entry<String, float[]> e : floats.entrySet()) {
      if (e.getKey().startsWith(prefix)) m.put(e.getKey().substring(prefix.length()), e.getValue());
    }
    return m;
  }

  float[] losses() {
    return floats.get(LOSS).clone();
  }

  double[] seconds() {
    return seconds.clone();
  }

  // ------------------------------------------------------------------------------------------------------- writing

  /** What {@link #write} stores besides the tensors. */
  static final class Contents {
    int iteration;
    Map<String, Object> network;
    Map<String, Object> options;
    String dataFingerprint;
    Map<String, Object> rng;
    List<Object> history;
    Map<String, Map<String, float[]>> groups = new LinkedHashMap<>();
    float[] losses;
    double[] seconds;
  }

  /** Writes a checkpoint into {@code dir} (created if missing), replacing the one there atomically. */
  static void write(Path dir, Contents c) {
    Path abs = AtomicFiles.ensureDirectory(dir);
    String stateName = String.format(Locale.ROOT, "state-%08d.bin", c.iteration);
    List<Map<String, Object>> sections = new ArrayList<>();
    String[] sha = new String[1];
    long[] size = new long[1];
    AtomicFiles.writeFile(abs.resolve(stateName), tmp -> {
      MessageDigest md = Checksums.sha256();
      try (OutputStream out = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16),
          md)) {
        long offset = 0;
        for (Map.Entry<String, Map<String, float[]>> g : c.groups.entrySet()) {
          for (Map.Entry<String, float[]> p : g.getValue().entrySet()) {
            offset += section(out, sections, g.getKey() + p.getKey(), p.getValue(), offset);
          }
        }
        offset += section(out, sections, LOSS, c.losses, offset);
        ByteBuffer b = ByteBuffer.allocate(8 * c.seconds.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : c.seconds) b.putDouble(v);
        out.write(b.array());
        sections.add(sectionEntry(SECONDS, "float64", c.seconds.length, offset));
        size[0] = offset + b.capacity();
      }
      sha[0] = Checksums.hex(md.digest());
    });
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("format", FORMAT);
    json.put("iteration", c.iteration);
    json.put("network", c.network);
    json.put("options", c.options);
    json.put("data_fingerprint", c.dataFingerprint);
    json.put("rng", c.rng);
    json.put("history", c.history);
    Map<String, Object> state = new LinkedHashMap<>();
    state.put("file", stateName);
    state.put("bytes", size[0]);
    state.put("sha256", sha[0]);
    state.put("sections", sections);
    json.put("state", state);
    AtomicFiles.writeString(abs.resolve(JSON), gson().toJson(json) + "\n");
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(abs, "state-*.bin")) {
      for (Path old : ds) {
        if (!old.getFileName().toString().equals(stateName)) Files.deleteIfExists(old);
      }
    } catch (IOException e) {
      // An older state file left behind is unused (checkpoint.json names the current one); never fail for it.
    }
  }

  private static long section(OutputStream out, List<Map<String, Object>> sections, String name, float[] v,
      long offset) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    out.write(b.array());
    sections.add(sectionEntry(name, "float32", v.length, offset));
    return b.capacity();
  }

  private static Map<String, Object> sectionEntry(String name, String dtype, int count, long offset) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("dtype", dtype);
    m.put("count", count);
    m.put("offset", offset);
    return m;
  }

  // ------------------------------------------------------------------------------------------------------- reading

  /**
   * The checkpoint to resume from, given a checkpoint folder or a denoiser bundle (whose checkpoint is the folder
   * {@code <bundle>.checkpoint} beside it, as Train Denoiser writes it).
   *
   * @throws UserException when neither is found
   */
  public static Path locate(Path given) {
    Path p = given.toAbsolutePath().normalize();
    if (Files.isRegularFile(p.resolve(JSON))) return p;
    if (!Files.isDirectory(p)) {
      throw new UserException("resume=" + given + " does not exist. Give the checkpoint folder (" + JSON + " inside)"
          + " or the bundle folder of an earlier Train Denoiser run.");
    }
    if (Files.isRegularFile(p.resolve(BundleWriter.MODEL_JSON))) {
      Path sibling = p.resolveSibling(p.getFileName() + SUFFIX);
      if (Files.isRegularFile(sibling.resolve(JSON))) return sibling;
      throw new UserException("The bundle " + p + " has no checkpoint beside it (" + sibling.getFileName()
          + "): a bundle keeps only the averaged weights, not the optimiser state needed to continue. Resume from"
          + " the checkpoint folder of its training run, or train anew without resume.");
    }
    throw new UserException("resume=" + given + " is neither a checkpoint folder (no " + JSON + ") nor a denoiser"
        + " bundle (no " + BundleWriter.MODEL_JSON + "). Give the checkpoint or bundle folder of an earlier Train"
        + " Denoiser run.");
  }

  /**
   * Reads and verifies a checkpoint folder (or the checkpoint of a bundle, see {@link #locate}).
   *
   * @throws UserException when it is missing, of another format, or damaged (size or SHA-256 of the state file)
   */
  public static DenoiserCheckpoint read(Path given) {
    Path dir = locate(given);
    Path json = dir.resolve(JSON);
    try {
      JsonObject o = JsonParser.parseString(new String(Files.readAllBytes(json), StandardCharsets.UTF_8))
          .getAsJsonObject();
      String format = o.has("format") ? o.get("format").getAsString() : "";
      if (!FORMAT.equals(format)) {
        throw new UserException("Checkpoint " + json + " has format \"" + format + "\", not \"" + FORMAT + "\". "
            + "Resume from a checkpoint written by this version of Train Denoiser.");
      }
      JsonObject state = o.getAsJsonObject("state");
      Path file = dir.resolve(state.get("file").getAsString()).normalize();
      if (!file.getParent().equals(dir) || !Files.isRegularFile(file)) {
        throw damaged(dir, "its state file " + state.get("file").getAsString() + " is missing");
      }
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length != state.get("bytes").getAsLong()
          || !Checksums.sha256Hex(bytes).equals(state.get("sha256").getAsString())) {
        throw damaged(dir, file.getFileName() + " does not match its size or checksum");
      }
      ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      Map<String, float[]> floats = new LinkedHashMap<>();
      double[] seconds = null;
      for (JsonElement e : state.getAsJsonArray("sections")) {
        JsonObject s = e.getAsJsonObject();
        int count = s.get("count").getAsInt();
        int offset = Math.toIntExact(s.get("offset").getAsLong());
        if ("float64".equals(s.get("dtype").getAsString())) {
          seconds = new double[count];
          ((ByteBuffer) b.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(offset)).asDoubleBuffer().get(seconds);
        } else {
          float[] v = new float[count];
          ((ByteBuffer) b.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(offset)).asFloatBuffer().get(v);
          floats.put(s.get("name").getAsString(), v);
        }
      }
      int iteration = o.get("iteration").getAsInt();
      if (seconds == null || !floats.containsKey(LOSS) || floats.get(LOSS).length != iteration
          || seconds.length != iteration) {
        throw damaged(dir, "its training log does not have one entry per iteration");
      }
      List<JsonObject> history = new ArrayList<>();
      JsonArray h = o.getAsJsonArray("history");
      if (h != null) for (JsonElement e : h) history.add(e.getAsJsonObject());
      return new DenoiserCheckpoint(dir, iteration, o.getAsJsonObject("network"), o.getAsJsonObject("options"),
          o.get("data_fingerprint").getAsString(), o.getAsJsonObject("rng"), history, floats, seconds);
    } catch (IOException e) {
      throw new UserException("Cannot read the checkpoint " + dir + ": " + e.getMessage() + ".", e);
    } catch (JsonParseException | IllegalStateException | NullPointerException | UnsupportedOperationException
        | ClassCastException | IndexOutOfBoundsException | IllegalArgumentException | ArithmeticException e) {
      throw damaged(dir, JSON + " or the state file is malformed (" + e.getMessage() + ")");
    }
  }

  private static UserException damaged(Path dir, String what) {
    return new UserException("The checkpoint " + dir + " is damaged: " + what + ". Resume from another checkpoint or"
        + " train anew without resume.");
  }

  /**
   * Checks that a run with these settings and data can continue this checkpoint: the same network, the same options
   * (all but the total iteration count, which must be at least the checkpoint's), and the same data.
   *
   * @throws UserException naming every setting that differs, with the checkpoint's value and this run's
   */
  public void checkCompatible(Map<String, Object> network, Map<String, Object> options, int iterations,
      String dataFingerprint) {
    List<String> diffs = new ArrayList<>();
    diff(this.network, network, diffs);
    diff(this.options, options, diffs);
    if (!this.dataFingerprint.equals(dataFingerprint)) {
      diffs.add("training images (the images, their labels or their intensity mapping differ)");
    }
    if (!diffs.isEmpty()) {
      throw new UserException("Cannot resume from " + dir + ": this run differs from the checkpoint in "
          + String.join("; ", diffs) + ". Resume with the settings and images of the checkpoint (only iterations may"
          + " change), or train anew without resume.");
    }
    if (iterations < iteration) {
      throw new UserException("The checkpoint " + dir + " has already completed " + iteration + " iterations, more"
          + " than iterations=" + iterations + ". Set iterations to the new total (at least " + iteration + "; equal"
          + " to it saves the checkpoint's model without training).");
    }
  }

  private static void diff(JsonObject stored, Map<String, Object> now, List<String> out) {
    JsonObject current = gson().toJsonTree(now).getAsJsonObject();
    for (String k : current.keySet()) {
      JsonElement a = stored.get(k);
      JsonElement b = current.get(k);
      if (a == null || !same(a, b)) out.add(k + " " + (a == null ? "(not recorded)" : a) + " → " + b);
    }
    for (String k : stored.keySet()) {
      if (!current.has(k)) out.add(k + " " + stored.get(k) + " → (not set)");
    }
  }

  private static boolean same(JsonElement a, JsonElement b) {
    if (a.isJsonObject() && b.isJsonObject()) {
      JsonObject x = a.getAsJsonObject();
      JsonObject y = b.getAsJsonObject();
      if (!x.keySet().equals(y.keySet())) return false;
      for (String k : x.keySet()) if (!same(x.get(k), y.get(k))) return false;
      return true;
    }
    if (a.isJsonPrimitive() && b.isJsonPrimitive() && a.getAsJsonPrimitive().isNumber()
        && b.getAsJsonPrimitive().isNumber()) {
      return a.getAsDouble() == b.getAsDouble();
    }
    if (a.isJsonArray() && b.isJsonArray()) {
      JsonArray x = a.getAsJsonArray();
      JsonArray y = b.getAsJsonArray();
      if (x.size() != y.size()) return false;
      for (int i = 0; i < x.size(); i++) if (!same(x.get(i), y.get(i))) return false;
      return true;
    }
    return a.equals(b);
  }

  static Gson gson() {
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
  }
}
