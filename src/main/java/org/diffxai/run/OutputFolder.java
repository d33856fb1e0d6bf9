package org.diffxai.run;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.diffxai.core.Chart;
import org.diffxai.core.Json;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Csv;
import org.diffxai.io.FloatStack;
import org.diffxai.io.Plots;
import org.diffxai.io.RgbTiff;
import org.diffxai.io.StreamingTiffWriter;

/**
 * The one writer of a run's result files. Every file is first written into a hidden staging folder inside the output
 * folder; {@link #commit()} moves them all into place (renames on one file system) and records the set in a manifest
 * ({@value #MANIFEST}); a run that fails or is cancelled leaves nothing: the staging folder is deleted, and an output
 * folder the run created is removed again. The rules:
 *
 * <ul>
 *   <li>A folder that already holds results — the files of an earlier run (its manifest), or files with the names this
 *       run writes — is refused at the start unless {@code overwrite} is set; with {@code overwrite} the earlier run's
 *       files that this run does not write again are deleted at commit, so one folder never mixes two runs' files.
 *   <li>Temporaries left by runs that were killed (their process no longer exists) are removed when the next run opens
 *       the folder ({@link AtomicFiles#removeDeadTemporaries}).
 *   <li>Without an output folder ({@code output} empty) nothing is written and {@link #active()} is false.
 * </ul>
 *
 * The staging folder and the renames mean a reader never sees a half-written file; a crash in the middle of
 * {@link #commit()} (a few renames) can leave part of the new set beside the old one, which the manifest tells apart.
 */
public final class OutputFolder implements AutoCloseable {
  /** The manifest of the files of the last run written into a folder. */
  public static final String MANIFEST = ".diffxai-run.json";

  private final Path dir;
  private final String command;
  private final boolean overwrite;
  private final boolean created;
  private final Path staging;
  private final Set<String> previous;
  private final Set<String> names = new LinkedHashSet<>();
  private boolean finished;

  private OutputFolder(Path dir, String command, boolean overwrite, boolean created, Path staging,
      Set<String> previous) {
    this.dir = dir;
    this.command = command;
    this.overwrite = overwrite;
    this.created = created;
    this.staging = staging;
    this.previous = previous;
  }

  /** A folder that writes nothing (no output given). */
  public static OutputFolder none() {
    return new OutputFolder(null, "", false, false, null, Collections.emptySet());
  }

  /**
   * Opens the output folder of a request for a run of {@code command} that writes files named by {@code patterns}
   * (names, or globs such as {@code compare_*.png}). Creates the folder when needed.
   *
   * @throws UserException when the folder holds results and {@code overwrite} is off, or cannot be written
   */
  public static OutputFolder open(OutputKeys keys, String command, String... patterns) {
    return open(keys.outputPath(), keys.overwrite, command, patterns);
  }

  /** {@link #open(OutputKeys, String, String...)} for a folder (null: {@link #none()}). */
  public static OutputFolder open(Path dir, boolean overwrite, String command, String... patterns) {
    if (dir == null) return none();
    Path abs = dir.toAbsolutePath().normalize();
    if (Files.exists(abs) && !Files.isDirectory(abs)) {
      throw new UserException("output=" + abs + " is a file. Give a folder for the results.");
    }
    boolean exists = Files.isDirectory(abs);
    Set<String> previous = Collections.emptySet();
    if (exists) {
      AtomicFiles.removeDeadTemporaries(abs);
      JsonObject manifest = readManifest(abs);
      previous = manifest == null ? Collections.emptySet() : files(manifest);
      List<String> clash = clashes(abs, previous, patterns);
      if (!overwrite && !clash.isEmpty()) {
        String what = manifest != null ? "the results of a " + str(manifest, "command") + " run of "
            + str(manifest, "date") : "result files";
        throw new UserException("The output folder " + abs + " already holds " + what + " (" + list(clash)
            + "). Add overwrite to replace them, or choose another output folder.");
      }
    }
    AtomicFiles.ensureDirectory(abs);
    Path staging = AtomicFiles.siblingName(abs.resolve("run"), ".staging");
    try {
      Files.createDirectory(staging);
    } catch (IOException e) {
      if (!exists) AtomicFiles.deleteRecursively(abs);
      throw AtomicFiles.cannotWrite(abs, e);
    }
    return new OutputFolder(abs, command, overwrite, !exists, staging, previous);
  }

  private static List<String> clashes(Path dir, Set<String> previous, String[] patterns) {
    Set<String> out = new LinkedHashSet<>(previous);
    out.retainAll(existing(dir, previous));
    try (java.util.stream.Stream<Path> all = Files.walk(dir, 2)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        if (p.equals(dir) || !Files.isRegularFile(p)) continue;
        Path rel = dir.relativize(p);
        for (String pattern : patterns) {
          PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
          if (m.matches(rel)) out.add(rel.toString().replace('\\', '/'));
        }
      }
    } catch (IOException e) {
      throw AtomicFiles.cannotWrite(dir, e);
    }
    return new ArrayList<>(out);
  }

  private static Set<String> existing(Path dir, Set<String> names) {
    Set<String> out = new LinkedHashSet<>();
    for (String n : names) if (Files.exists(dir.resolve(n), LinkOption.NOFOLLOW_LINKS)) out.add(n);
    return out;
  }

  private static String list(List<String> names) {
    return names.size() <= 4 ? String.join(", ", names) : String.join(", ", names.subList(0, 4)) + " and "
        + (names.size() - 4) + " more";
  }

  /** True when an output folder was given. */
  public boolean active() {
    return dir != null;
  }

  /** The output folder, or null. */
  public Path dir() {
    return dir;
  }

  /**
   * Where to write result file {@code name} (in the staging folder); it appears in the output folder at
   * {@link #commit()}. Any writer may write there, directly or atomically.
   */
  public Path path(String name) {
    Path p = adopt(name);
    try {
      Files.createDirectories(p.getParent());
    } catch (IOException e) {
      throw AtomicFiles.cannotWrite(dir, e);
    }
    return p;
  }

  /**
   * The staging folder, for writers that lay out a tree of files themselves (e.g. class sub-folders); announce each
   * file they wrote with {@link #adopt}.
   */
  public Path root() {
    if (!active()) throw new IllegalStateException("no output folder");
    return staging;
  }

  /**
   * Announces result file {@code name} ('/'-separated, relative to the output folder, e.g. {@code healthy/a.tif}),
   * written or to be written at {@code root().resolve(name)}; returns that path.
   */
  public Path adopt(String name) {
    if (!active()) throw new IllegalStateException("no output folder");
    if (finished) throw new IllegalStateException("already committed or closed");
    for (String part : name.split("/", -1)) {
      if (part.isEmpty() || part.startsWith(".") || part.contains("\\")) {
        throw new IllegalArgumentException("not a relative file name: " + name);
      }
    }
    if (!names.add(name)) throw new IllegalStateException(name + " is written twice");
    return staging.resolve(name);
  }

  /** The path {@code name} will have in the output folder after {@link #commit()}. */
  public Path target(String name) {
    return dir.resolve(name);
  }

  public void text(String name, String text) {
    write(name, () -> Files.write(path(name), text.getBytes(StandardCharsets.UTF_8)));
  }

  /** An object (a provenance map, a report) as JSON with the project's one configuration ({@link Json}). */
  public void json(String name, Object value) {
    text(name, Json.text(value));
  }

  public void csv(String name, Table table) {
    text(name, Csv.of(table));
  }

  public void png(String name, Chart chart) {
    write(name, () -> Plots.writePng(path(name), chart));
  }

  /** An image as TIFF: float planes as an ImageJ (hyper)stack with its properties and Info, RGB as an RGB stack. */
  public void tiff(String name, ResultImage image) {
    Map<String, String> props = image.properties();
    if (image.rgb() != null) {
      write(name, () -> RgbTiff.write(path(name), image.rgb(), props.get("Info")));
      return;
    }
    FloatStack s = image.floats();
    if (s == null) throw new IllegalArgumentException(image.id + " is already a file: " + image.file());
    StreamingTiffWriter w = new StreamingTiffWriter(path(name), s.width, s.height, s.channels, s.slices, s.frames);
    boolean ok = false;
    try {
      for (Map.Entry<String, String> e : props.entrySet()) {
        if (e.getKey().equals("Info")) w.info(e.getValue());
        else w.property(e.getKey(), e.getValue());
      }
      for (int i = 0; i < s.planeCount(); i++) w.writePlane(s.plane(i), s.label(i));
      w.close();
      ok = true;
    } finally {
      if (!ok) w.abort();
    }
  }

  private interface Body {
    void run() throws IOException;
  }

  private void write(String name, Body body) {
    try {
      body.run();
    } catch (IOException e) {
      throw AtomicFiles.cannotWrite(dir.resolve(name), e);
    }
  }

  /**
   * Moves every staged file into the output folder, writes the manifest, and (with overwrite) deletes the earlier
   * run's files this run did not write again.
   *
   * @return the committed files, in the order they were first asked for
   */
  public List<Path> commit() {
    if (!active()) return Collections.emptyList();
    if (finished) throw new IllegalStateException("already committed or closed");
    List<Path> out = new ArrayList<>();
    try {
      for (String n : names) {
        Path from = staging.resolve(n);
        if (!Files.exists(from)) throw new IllegalStateException(n + " was announced but not written");
        try (FileChannel ch = FileChannel.open(from, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
      }
      for (String n : names) {
        Path to = dir.resolve(n);
        Files.createDirectories(to.getParent());
        move(staging.resolve(n), to);
        out.add(to);
      }
      JsonObject m = new JsonObject();
      m.addProperty("command", command);
      m.addProperty("date", OffsetDateTime.now().toString());
      JsonArray files = new JsonArray();
      for (String n : names) files.add(n);
      m.add("files", files);
      AtomicFiles.writeString(dir.resolve(MANIFEST), Json.text(m));
      if (overwrite) {
        for (String old : previous) {
          if (!names.contains(old)) AtomicFiles.deleteRecursively(dir.resolve(old));
        }
      }
      removeEmptyFolders(previous);
    } catch (IOException e) {
      throw AtomicFiles.cannotWrite(dir, e);
    } finally {
      finished = true;
      AtomicFiles.deleteRecursively(staging);
    }
    return out;
  }

  /** Folders the earlier run's files lived in that are now empty. */
  private void removeEmptyFolders(Set<String> files) {
    for (String f : files) {
      Path parent = dir.resolve(f).getParent();
      if (parent == null || parent.equals(dir)) continue;
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent)) {
        if (!ds.iterator().hasNext()) Files.delete(parent);
      } catch (IOException e) {
        // best effort
      }
    }
  }

  /** Without a commit: deletes what was staged, and the output folder when this run created it. */
  @Override
  public void close() {
    if (!active() || (finished && !Files.exists(staging))) return;
    finished = true;
    AtomicFiles.deleteRecursively(staging);
    if (created) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
        if (!ds.iterator().hasNext()) Files.delete(dir);
      } catch (IOException e) {
        // best effort
      }
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static JsonObject readManifest(Path dir) {
    Path f = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(f)) return null;
    try {
      JsonElement e = JsonParser.parseString(new String(Files.readAllBytes(f), StandardCharsets.UTF_8));
      return e.isJsonObject() ? e.getAsJsonObject() : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static Set<String> files(JsonObject manifest) {
    Set<String> out = new LinkedHashSet<>();
    JsonElement f = manifest.get("files");
    if (f != null && f.isJsonArray()) {
      for (JsonElement e : f.getAsJsonArray()) {
        String n = e.isJsonPrimitive() ? e.getAsString() : "";
        if (!n.isEmpty() && !n.startsWith(".") && !n.contains("..") && !n.startsWith("/")) out.add(n);
      }
    }
    return out;
  }

  private static String str(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e != null && e.isJsonPrimitive() ? e.getAsString() : "?";
  }
}
