package org.diffxai.io;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.Checksums;

/**
 * Decoded, resized image folders cached on disk, so a second training run on the same folder with the same input
 * settings skips decoding (docs/input-images.md). One file per dataset, {@code <key>.dxds}, named by the SHA-256 of:
 * the format version, the input settings (size, fit, channels, grey rule), the folder, and every file's relative path,
 * byte size, modification time and class. A file added, removed, replaced or touched, or other settings, give another
 * key. Files are written atomically ({@link AtomicFiles}) and end with the SHA-256 of their content, checked on every
 * load: a damaged file is deleted and the folder read again. The least recently used datasets are deleted when all
 * of them together exceed {@link #maxBytes()} (system property {@value #MAX_BYTES_PROPERTY}, default 4 GiB).
 */
final class DatasetCache {
  static final String MAX_BYTES_PROPERTY = "diffxai.datasetCache.maxBytes";
  static final String SUFFIX = ".dxds";
  private static final int MAGIC = 0x44584453; // "DXDS"
  private static final int VERSION = 1;

  private DatasetCache() {}

  /** A dataset's identity. */
  static final class Key {
    final String hex;
    final Path root;

    Key(String hex, Path root) {
      this.hex = hex;
      this.root = root;
    }
  }

  static long maxBytes() {
    String v = System.getProperty(MAX_BYTES_PROPERTY);
    try {
      return v == null || v.trim().isEmpty() ? 4L << 30 : Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new UserException("-D" + MAX_BYTES_PROPERTY + "=" + v + " is not a number of bytes. Give e.g. "
          + (4L << 30) + ".");
    }
  }

  static Key key(ImageInput.Listing l, ImageInput.Settings s) {
    StringBuilder sb = new StringBuilder("diffxai-dataset/").append(VERSION).append('\n').append(s.key()).append('\n')
        .append("root=").append(l.root).append('\n').append("classes=").append(l.classNames).append('\n');
    try {
      for (int i = 0; i < l.files.size(); i++) {
        Path f = l.files.get(i);
        sb.append(InputImages.relative(l.root, f)).append('\t').append(Files.size(f)).append('\t')
            .append(Files.getLastModifiedTime(f).toMillis()).append('\t')
            .append(l.classes() ? l.classOf.get(i) : -1).append('\n');
      }
    } catch (IOException e) {
      throw new UserException("Cannot read the files of " + l.root + ": " + e + ". Check that they are readable.", e);
    }
    return new Key(Checksums.sha256Hex(sb.toString().getBytes(StandardCharsets.UTF_8)), l.root);
  }

  static Path file(Path dir, Key key) {
    return dir.resolve(key.hex + SUFFIX);
  }

  /** The cached dataset, or null when there is none or it is damaged (then deleted). */
  static InputImages load(Path dir, Key key, Progress progress) {
    Path f = file(dir, key);
    if (!Files.isRegularFile(f)) return null;
    progress.report("Reading cached images " + f.getFileName(), Double.NaN);
    try {
      InputImages in = read(f, key);
      Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis())); // recently used
      return in;
    } catch (IOException | RuntimeException e) {
      progress.report("Dataset cache " + f + " is damaged (" + e.getMessage() + "); reading the images again", Double.NaN);
      try {
        Files.deleteIfExists(f);
      } catch (IOException ignored) {
        // the next store replaces it
      }
      return null;
    }
  }

  /** Writes the dataset; a failure to write (full disk, read-only cache) is reported and otherwise ignored. */
  static void store(Path dir, Key key, InputImages images, Progress progress) {
    Path f = file(dir, key);
    try {
      AtomicFiles.writeFile(f, tmp -> write(tmp, key, images));
    } catch (UserException e) {
      progress.report("Could not write the dataset cache (" + e.getMessage() + "); the next run reads the images"
          + " again", Double.NaN);
      return;
    }
    evict(dir, f);
  }

  /** Deletes the least recently used datasets (never {@code keep}) while all exceed {@link #maxBytes()}. */
  static void evict(Path dir, Path keep) {
    List<Path> all;
    try (Stream<Path> s = Files.list(dir)) {
      all = s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).collect(Collectors.toList());
    } catch (IOException e) {
      return;
    }
    long total = 0;
    for (Path p : all) total += size(p);
    all.sort(Comparator.comparingLong(DatasetCache::modified));
    for (Path p : all) {
      if (total <= maxBytes()) break;
      if (p.equals(keep)) continue;
      long sz = size(p);
      try {
        Files.deleteIfExists(p);
        total -= sz;
      } catch (IOException ignored) {
        // another process may hold it; try the next
      }
    }
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }

  private static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }

  // ------------------------------------------------------------------------------------------------------ format
  // int magic, int version, int header length, header (DataOutputStream), planes (float32, little endian, plane by
  // plane), 32 bytes SHA-256 of everything before.

  private static void write(Path tmp, Key key, InputImages images) throws IOException {
    FloatStack st = images.stack();
    ByteArrayOutputStream hb = new ByteArrayOutputStream();
    try (DataOutputStream h = new DataOutputStream(hb)) {
      h.writeUTF(key.hex);
      h.writeUTF(images.summary().source == null ? "" : images.summary().source);
      h.writeInt(st.width);
      h.writeInt(st.height);
      h.writeInt(st.channels);
      h.writeInt(st.slices);
      Fit fit = images.summary().fit;
      h.writeUTF(fit == null ? "" : fit.key());
      h.writeInt(images.classNames().size());
      for (String c : images.classNames()) h.writeUTF(c);
      int[] labels = images.labels();
      h.writeBoolean(labels != null);
      for (int i = 0; labels != null && i < labels.length; i++) h.writeInt(labels[i]);
      h.writeInt(images.notes().size());
      for (InputImages.Note n : images.notes()) writeNote(h, n);
      for (int p = 0; p < st.planeCount(); p++) h.writeUTF(st.label(p) == null ? "" : st.label(p));
    }
    MessageDigest md = Checksums.sha256();
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      byte[] header = hb.toByteArray();
      ByteBuffer start = ByteBuffer.allocate(12 + header.length);
      start.putInt(MAGIC).putInt(VERSION).putInt(header.length).put(header).flip();
      put(ch, md, start);
      ByteBuffer plane = ByteBuffer.allocate(st.width * st.height * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int p = 0; p < st.planeCount(); p++) {
        plane.clear();
        plane.asFloatBuffer().put(st.plane(p));
        plane.limit(plane.capacity());
        put(ch, md, plane);
      }
      ch.write(ByteBuffer.wrap(md.digest()));
      ch.force(true);
    }
  }

  private static void put(FileChannel ch, MessageDigest md, ByteBuffer b) throws IOException {
    md.update(b.duplicate());
    while (b.hasRemaining()) ch.write(b);
  }

  private static InputImages read(Path f, Key key) throws IOException {
    MessageDigest md = Checksums.sha256();
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      long size = ch.size();
      ByteBuffer start = take(ch, md, 12);
      if (start.getInt() != MAGIC || start.getInt() != VERSION) throw new IOException("not a dataset cache file");
      int hl = start.getInt();
      if (hl < 0 || hl > size) throw new IOException("bad header length");
      ByteBuffer hb = take(ch, md, hl);
      DataInputStream h = new DataInputStream(new java.io.ByteArrayInputStream(hb.array()));
      if (!h.readUTF().equals(key.hex)) throw new IOException("another dataset");
      String source = h.readUTF();
      int w = h.readInt();
      int ht = h.readInt();
      int c = h.readInt();
      int n = h.readInt();
      String fitKey = h.readUTF();
      Fit fit = fitKey.isEmpty() ? null : Fit.of(fitKey);
      List<String> classes = new ArrayList<>();
      for (int i = h.readInt(); i > 0; i--) classes.add(h.readUTF());
      int[] labels = null;
      if (h.readBoolean()) {
        labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = h.readInt();
      }
      List<InputImages.Note> notes = new ArrayList<>();
      for (int i = h.readInt(); i > 0; i--) notes.add(readNote(h));
      String[] planeLabels = new String[n * c];
      for (int p = 0; p < planeLabels.length; p++) {
        String l = h.readUTF();
        planeLabels[p] = l.isEmpty() ? null : l;
      }
      long expected = 12L + hl + (long) n * c * w * ht * 4 + 32;
      if (size != expected) throw new IOException("the file has " + size + " bytes, not " + expected);
      float[][] planes = new float[n * c][];
      int[] imageOfPlane = new int[n * c];
      for (int p = 0; p < planes.length; p++) {
        ByteBuffer b = take(ch, md, w * ht * 4).order(ByteOrder.LITTLE_ENDIAN);
        planes[p] = new float[w * ht];
        b.asFloatBuffer().get(planes[p]);
        imageOfPlane[p] = notes.size() == n ? p / c : 0;
      }
      ByteBuffer digest = ByteBuffer.allocate(32);
      while (digest.hasRemaining()) {
        if (ch.read(digest) < 0) throw new IOException("the checksum is missing");
      }
      if (!Arrays.equals(digest.array(), md.digest())) throw new IOException("checksum mismatch");
      FloatStack st = new FloatStack(w, ht, c, n, 1, planes, planeLabels);
      return new InputImages(st, notes, classes, labels, imageOfPlane,
          new InputImages.Summary(source, notes, planes.length, w, ht, fit));
    }
  }

  private static ByteBuffer take(FileChannel ch, MessageDigest md, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) throw new IOException("the file ends early");
    }
    b.flip();
    md.update(b.duplicate());
    return b;
  }

  private static void writeNote(DataOutputStream h, InputImages.Note n) throws IOException {
    h.writeUTF(n.source);
    h.writeInt(n.width);
    h.writeInt(n.height);
    h.writeInt(n.planes);
    h.writeUTF(n.series == null ? "" : n.series);
    boolean[] flags = {n.colour, n.greyAsColour, n.palette, n.alpha, n.inverted, n.rescaled, n.padded, n.cropped,
        n.stretched, n.resized};
    int bits = 0;
    for (int i = 0; i < flags.length; i++) if (flags[i]) bits |= 1 << i;
    h.writeInt(bits);
    h.writeInt(n.conversions.size());
    for (String c : n.conversions) h.writeUTF(c);
  }

  private static InputImages.Note readNote(DataInputStream h) throws IOException {
    InputImages.Note n = new InputImages.Note(h.readUTF(), h.readInt(), h.readInt(), h.readInt());
    String series = h.readUTF();
    n.series = series.isEmpty() ? null : series;
    int bits = h.readInt();
    n.colour = (bits & 1) != 0;
    n.greyAsColour = (bits & 2) != 0;
    n.palette = (bits & 4) != 0;
    n.alpha = (bits & 8) != 0;
    n.inverted = (bits & 16) != 0;
    n.rescaled = (bits & 32) != 0;
    n.padded = (bits & 64) != 0;
    n.cropped = (bits & 128) != 0;
    n.stretched = (bits & 256) != 0;
    n.resized = (bits & 512) != 0;
    for (int i = h.readInt(); i > 0; i--) n.conversions.add(h.readUTF());
    return n;
  }
}
