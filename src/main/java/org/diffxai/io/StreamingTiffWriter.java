package org.diffxai.io;

import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.process.ImageProcessor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.UserException;

/**
 * Writes a 32-bit float ImageJ hyperstack TIFF plane by plane, so memory stays flat however many planes are written.
 *
 * <p>File layout (little-endian classic TIFF, uncompressed, one strip per plane):
 *
 * <pre>
 * [8-byte header][plane 0][plane 1] ... [plane N-1][IFD 0 + its description, resolution, IJ metadata][IFD 1] ... [IFD N-1]
 * </pre>
 *
 * The header is written first with a zero first-IFD offset; planes are appended contiguously as they arrive; on
 * {@link #close()} the IFDs (one per plane, as ImageJ and libtiff expect) and the metadata are appended and the
 * header's first-IFD offset is patched. Contiguous planes are what ImageJ's reader requires: for files whose
 * ImageDescription starts with {@code ImageJ=} and says {@code images=N}, ImageJ reads only the first IFD and then N
 * planes back to back from the first strip offset.
 *
 * <p>The first IFD carries ImageJ's description
 * ({@code ImageJ=1.54p\nimages=N\nchannels=C\nslices=Z\nframes=T\nhyperstack=true\nmode=grayscale\nunit=..\nloop=false\nmin=..\nmax=..\n})
 * and, when there are slice labels, an info text or properties, ImageJ's private metadata tags 50838 (byte counts) and
 * 50839 (data: {@code IJIJ} magic, then type/count pairs {@code info}, {@code labl}, {@code prop}, then UTF-16
 * strings). Display min/max default to the range of the finite values written.
 *
 * <p>Planes must arrive in ImageJ's order: channel fastest, then slice (z), then frame (t); see
 * {@link #planeIndex(int, int, int, int, int)}. The file is written to a hidden temporary file beside the target and
 * renamed into place by {@link #close()} only when every plane was written; {@link #abort()} (or a failed
 * {@code close()}) deletes it. Classic TIFF addresses at most 4 GiB, so a writer for a larger file is refused up front.
 * Not thread-safe.
 */
public final class StreamingTiffWriter implements AutoCloseable {

  /** Largest file a classic (32-bit offset) TIFF can hold. */
  public static final long MAX_FILE_BYTES = 0xFFFFFFFFL;

  private static final int HEADER_BYTES = 8;
  private static final int CHUNK_BYTES = 1 << 20;
  // TIFF field types
  private static final int BYTE = 1, ASCII = 2, SHORT = 3, LONG = 4, RATIONAL = 5;
  // ImageJ metadata types (ij.io.TiffDecoder)
  private static final int IJ_MAGIC = 0x494a494a, IJ_INFO = 0x696e666f, IJ_LABELS = 0x6c61626c,
      IJ_PROPERTIES = 0x70726f70;

  private final Path target;
  private final int width, height, channels, slices, frames, planes;
  private final long planeBytes;
  private final AtomicFiles.Pending pending;
  private final FileChannel channel;
  private final ByteBuffer chunk;
  private final FloatBuffer chunkFloats;
  private final String[] labels;
  private final Map<String, String> properties = new LinkedHashMap<>();
  private int written;
  private double dataMin = Double.POSITIVE_INFINITY, dataMax = Double.NEGATIVE_INFINITY;
  private double displayMin = Double.NaN, displayMax = Double.NaN;
  private double pixelWidth = 1, pixelHeight = 1;
  private String unit;
  private String info;
  private boolean finished;

  /**
   * Opens a writer for {@code channels * slices * frames} planes of {@code width x height} float32 pixels. The target
   * appears only when {@link #close()} succeeds.
   *
   * @throws UserException if the file would exceed 4 GiB or the directory cannot be written
   */
  public StreamingTiffWriter(Path target, int width, int height, int channels, int slices, int frames) {
    if (width < 1 || height < 1 || channels < 1 || slices < 1 || frames < 1) {
      throw new IllegalArgumentException("width, height, channels, slices and frames must be positive; got " + width
          + "x" + height + ", c=" + channels + " z=" + slices + " t=" + frames);
    }
    long n = (long) channels * slices * frames;
    long estimate = HEADER_BYTES + n * ((long) width * height * 4 + ifdBytes(13)) + 1024;
    if (n > Integer.MAX_VALUE || estimate > MAX_FILE_BYTES) {
      throw new UserException(String.format(Locale.ROOT,
          "%s would need %.2f GB, more than a classic TIFF can hold (4 GB). Write fewer or smaller planes "
              + "(e.g. split the output over several files); BigTIFF output is not supported yet.",
          target, estimate / 1e9));
    }
    this.target = target;
    this.width = width;
    this.height = height;
    this.channels = channels;
    this.slices = slices;
    this.frames = frames;
    this.planes = (int) n;
    this.planeBytes = (long) width * height * 4;
    this.labels = new String[planes];
    this.chunk = ByteBuffer.allocateDirect((int) Math.min(planeBytes, CHUNK_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
    this.chunkFloats = chunk.asFloatBuffer();
    this.pending = AtomicFiles.begin(target);
    FileChannel ch = null;
    try {
      ch = FileChannel.open(pending.temp(), StandardOpenOption.WRITE);
      ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      header.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(0); // first-IFD offset patched on close
      header.flip();
      writeFully(ch, header);
    } catch (IOException e) {
      closeQuietly(ch);
      pending.abort();
      throw AtomicFiles.cannotWrite(target, e);
    }
    this.channel = ch;
  }

  /** Index of plane (c, z, t) in ImageJ's order (all 0-based): {@code c + C * (z + Z * t)}. */
  public static int planeIndex(int c, int z, int t, int channels, int slices) {
    return c + channels * (z + slices * t);
  }

  /** Spatial calibration (ImageJ's pixel width/height and unit, e.g. "mm"); stored as TIFF resolution + unit. */
  public StreamingTiffWriter calibration(double pixelWidth, double pixelHeight, String unit) {
    if (!(pixelWidth > 0 && pixelHeight > 0) || Double.isInfinite(pixelWidth) || Double.isInfinite(pixelHeight)) {
      throw new IllegalArgumentException("pixel size must be finite and positive");
    }
    this.pixelWidth = pixelWidth;
    this.pixelHeight = pixelHeight;
    this.unit = unit == null || unit.trim().isEmpty() ? null : unit.trim();
    return this;
  }

  /** Display range stored for ImageJ; by default the min and max of the finite values written. */
  public StreamingTiffWriter displayRange(double min, double max) {
    this.displayMin = min;
    this.displayMax = max;
    return this;
  }

  /** ImageJ's "Info" text (Image > Show Info); may be set any time before {@link #close()}. */
  public StreamingTiffWriter info(String info) {
    this.info = info;
    return this;
  }

  /** An ImageJ image property (ImagePlus.getProp); may be set any time before {@link #close()}. */
  public StreamingTiffWriter property(String key, String value) {
    if (key == null || key.isEmpty() || value == null) throw new IllegalArgumentException("key and value needed");
    properties.put(key, value);
    return this;
  }

  /** Appends the next plane (without a label). */
  public void writePlane(float[] pixels) {
    writePlane(pixels, null);
  }

  /**
   * Appends the next plane in ImageJ order (channel fastest, then slice, then frame), row-major.
   *
   * @param label ImageJ slice label (null for none); ImageJ's reader garbles some characters beyond U+00FF
   */
  public void writePlane(float[] pixels, String label) {
    if (finished) throw new IllegalStateException("writer for " + target + " is already closed");
    if (written >= planes) throw new IllegalStateException("all " + planes + " planes were already written");
    if (pixels.length != (long) width * height) {
      throw new IllegalArgumentException("plane has " + pixels.length + " values, expected " + width + "x" + height);
    }
    for (float v : pixels) {
      if (Float.isFinite(v)) {
        if (v < dataMin) dataMin = v;
        if (v > dataMax) dataMax = v;
      }
    }
    try {
      int off = 0;
      int perChunk = chunk.capacity() / 4;
      while (off < pixels.length) {
        int n = Math.min(perChunk, pixels.length - off);
        chunkFloats.clear();
        chunkFloats.put(pixels, off, n);
        chunk.clear().limit(n * 4);
        writeFully(channel, chunk);
        off += n;
      }
    } catch (IOException e) {
      abort();
      throw AtomicFiles.cannotWrite(target, e);
    }
    labels[written++] = label == null || label.isEmpty() ? null : label;
  }

  /** Number of planes written so far. */
  public int planesWritten() {
    return written;
  }

  /** Total number of planes (C x Z x T). */
  public int planeCount() {
    return planes;
  }

  public Path target() {
    return target;
  }

  /**
   * Writes the directories and metadata and renames the file into place. If fewer planes than announced were written
   * (e.g. an exception or a cancel inside try-with-resources), the temporary file is deleted instead and an
   * {@link IllegalStateException} is thrown. Does nothing after {@link #abort()} or a previous close.
   */
  @Override
  public void close() {
    if (finished) return;
    if (written < planes) {
      abort();
      throw new IllegalStateException(
          "only " + written + " of " + planes + " planes were written; " + target + " was not created");
    }
    try {
      writeDirectories();
      channel.force(false);
      channel.close();
    } catch (IOException e) {
      abort();
      throw AtomicFiles.cannotWrite(target, e);
    } catch (RuntimeException | Error e) {
      abort();
      throw e;
    }
    finished = true;
    pending.commit();
  }

  /** Deletes the temporary file; the target is left as it was. Safe to call more than once. */
  public void abort() {
    finished = true;
    closeQuietly(channel);
    pending.abort();
  }

  // ---------------------------------------------------------------------------------------------------------------

  private void writeDirectories() throws IOException {
    boolean calibrated = unit != null;
    byte[] description = description();
    Meta meta = new Meta();
    int n0 = 11 + (calibrated ? 3 : 0) + (meta.size > 0 ? 2 : 0);
    int n1 = 10 + (calibrated ? 3 : 0);
    long ifd0 = HEADER_BYTES + planes * planeBytes;
    long pos = ifd0 + ifdBytes(n0);
    long descOff = pos;
    pos += even(description.length);
    long resOff = pos;
    if (calibrated) pos += 16;
    long countsOff = pos;
    pos += 4L * meta.counts.length;
    long metaOff = pos;
    pos += even(meta.size);
    long ifd1 = pos;
    long end = ifd1 + (planes - 1L) * ifdBytes(n1);
    if (end > MAX_FILE_BYTES) {
      throw new UserException(String.format(Locale.ROOT,
          "%s would need %.2f GB, more than a classic TIFF can hold (4 GB). Write fewer planes or shorter labels "
              + "per file; BigTIFF output is not supported yet.",
          target, end / 1e9));
    }
    channel.position(ifd0);
    LeOut out = new LeOut(channel);
    // IFD 0, entries in ascending tag order
    out.putShort(n0);
    commonEntries(out, 0, calibrated, resOff, description.length, descOff);
    if (meta.size > 0) {
      out.entry(50838, LONG, meta.counts.length, countsOff);
      out.entry(50839, BYTE, meta.size, metaOff);
    }
    out.putInt(planes > 1 ? ifd1 : 0);
    out.putBytes(description);
    out.pad(description.length);
    if (calibrated) {
      long[] xr = rational(1 / pixelWidth), yr = rational(1 / pixelHeight);
      out.putInt(xr[0]);
      out.putInt(xr[1]);
      out.putInt(yr[0]);
      out.putInt(yr[1]);
    }
    meta.write(out);
    // IFDs 1..N-1: geometry and strip only (ImageJ writes the same; readers other than ImageJ need them)
    for (int k = 1; k < planes; k++) {
      out.putShort(n1);
      commonEntries(out, k, calibrated, resOff, 0, 0);
      out.putInt(k < planes - 1 ? ifd1 + (long) k * ifdBytes(n1) : 0);
    }
    out.flush();
    ByteBuffer first = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) ifd0);
    first.flip();
    while (first.hasRemaining()) channel.write(first, 4 + first.position());
  }

  /** Tags 254..339 for plane k; ImageDescription (270) only when descLen > 0. */
  private void commonEntries(LeOut out, int k, boolean calibrated, long resOff, int descLen, long descOff)
      throws IOException {
    out.entry(254, LONG, 1, 0); // NewSubfileType
    out.entry(256, LONG, 1, width); // ImageWidth
    out.entry(257, LONG, 1, height); // ImageLength
    out.entry(258, SHORT, 1, 32); // BitsPerSample
    out.entry(262, SHORT, 1, 1); // PhotometricInterpretation: BlackIsZero
    if (descLen > 0) out.entry(270, ASCII, descLen, descOff); // ImageDescription
    out.entry(273, LONG, 1, HEADER_BYTES + k * planeBytes); // StripOffsets
    out.entry(277, SHORT, 1, 1); // SamplesPerPixel
    out.entry(278, LONG, 1, height); // RowsPerStrip
    out.entry(279, LONG, 1, planeBytes); // StripByteCounts
    if (calibrated) {
      out.entry(282, RATIONAL, 1, resOff); // XResolution
      out.entry(283, RATIONAL, 1, resOff + 8); // YResolution
      out.entry(296, SHORT, 1, "inch".equals(unit) ? 2 : "cm".equals(unit) ? 3 : 1); // ResolutionUnit (as ImageJ)
    }
    out.entry(339, SHORT, 1, 3); // SampleFormat: IEEE float
  }

  /** ImageJ's description string (ij.io.FileSaver.getDescriptionString), NUL-terminated ASCII. */
  private byte[] description() {
    StringBuilder sb = new StringBuilder();
    sb.append("ImageJ=").append(ij.ImageJ.VERSION).append('\n');
    if (planes > 1) {
      sb.append("images=").append(planes).append('\n');
      sb.append("channels=").append(channels).append('\n');
      sb.append("slices=").append(slices).append('\n');
      sb.append("frames=").append(frames).append('\n');
      sb.append("hyperstack=true\n");
      sb.append("mode=grayscale\n");
    }
    if (unit != null) sb.append("unit=").append(escape(unit)).append('\n');
    if (planes > 1) sb.append("loop=false\n");
    double min = displayMin, max = displayMax;
    if (Double.isNaN(min) || Double.isNaN(max)) {
      boolean any = dataMin <= dataMax;
      min = any ? dataMin : 0;
      max = any ? dataMax : 0;
    }
    sb.append("min=").append(min).append('\n');
    sb.append("max=").append(max).append('\n');
    sb.append('\0');
    return sb.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /** ImageJ escapes non-ASCII in the description as \\uXXXX; line breaks would end the entry. */
  private static String escape(String s) {
    StringBuilder sb = new StringBuilder();
    for (char ch : s.toCharArray()) {
      if (ch == '\n' || ch == '\r' || ch == '\0') sb.append(' ');
      else if (ch < 32 || ch > 126) sb.append(String.format(Locale.ROOT, "\\u%04X", (int) ch));
      else sb.append(ch);
    }
    return sb.toString();
  }

  /** ImageJ's IJMetadata block: byte counts (tag 50838) and data (tag 50839). */
  private final class Meta {
    final int[] counts;
    final int size;
    final List<int[]> types = new ArrayList<>(); // {type, count}
    final List<String> strings = new ArrayList<>();

    Meta() {
      List<Integer> c = new ArrayList<>();
      if (info != null && !info.isEmpty()) {
        types.add(new int[] {IJ_INFO, 1});
        strings.add(info);
      }
      boolean anyLabel = false;
      for (String l : labels) anyLabel |= l != null;
      if (anyLabel) {
        types.add(new int[] {IJ_LABELS, planes});
        for (String l : labels) strings.add(l == null ? "" : l);
      }
      Map<String, String> props = new LinkedHashMap<>(properties);
      if (planes == 1 && labels[0] != null) {
        // ImageJ keeps a single image's label as the property "Slice_Label"; when a file has properties, ImageJ
        // replaces all properties on opening, so the label must be among them to survive.
        props.putIfAbsent("Slice_Label", labels[0]);
      }
      if (!props.isEmpty()) {
        types.add(new int[] {IJ_PROPERTIES, 2 * props.size()});
        for (Map.Entry<String, String> e : props.entrySet()) {
          strings.add(e.getKey());
          strings.add(e.getValue());
        }
      }
      if (types.isEmpty()) {
        counts = new int[0];
        size = 0;
        return;
      }
      int header = 4 + 8 * types.size();
      c.add(header);
      long total = header;
      for (String s : strings) {
        c.add(2 * s.length());
        total += 2L * s.length();
      }
      if (total > Integer.MAX_VALUE) throw new UserException("Slice labels and info of " + target + " are too long.");
      counts = c.stream().mapToInt(Integer::intValue).toArray();
      size = (int) total;
    }

    void write(LeOut out) throws IOException {
      if (size == 0) return;
      for (int v : counts) out.putInt(v);
      out.putInt(IJ_MAGIC);
      for (int[] t : types) {
        out.putInt(t[0]);
        out.putInt(t[1]);
      }
      for (String s : strings) {
        for (int i = 0; i < s.length(); i++) out.putShort(s.charAt(i)); // UTF-16 in the file's byte order
      }
      out.pad(size);
    }
  }

  /** A positive number as a TIFF RATIONAL (numerator, denominator), both unsigned 32-bit. */
  private static long[] rational(double v) {
    long den = 1_000_000;
    while (den > 1 && v * den > MAX_FILE_BYTES) den /= 10;
    long num = Math.max(1, Math.min(MAX_FILE_BYTES, Math.round(v * den)));
    return new long[] {num, den};
  }

  private static int ifdBytes(int entries) {
    return 2 + 12 * entries + 4;
  }

  private static long even(long n) {
    return (n + 1) & ~1L;
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) ch.write(b);
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch == null) return;
    try {
      ch.close();
    } catch (IOException e) {
      // the temporary file is deleted next
    }
  }

  /** Little-endian output through a small buffer onto the channel's current position. */
  private static final class LeOut {
    private final FileChannel ch;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

    LeOut(FileChannel ch) {
      this.ch = ch;
    }

    void room(int n) throws IOException {
      if (buf.remaining() < n) flush();
    }

    void flush() throws IOException {
      buf.flip();
      writeFully(ch, buf);
      buf.clear();
    }

    void putShort(int v) throws IOException {
      room(2);
      buf.putShort((short) v);
    }

    void putInt(long v) throws IOException {
      room(4);
      buf.putInt((int) v);
    }

    void putBytes(byte[] b) throws IOException {
      int off = 0;
      while (off < b.length) {
        room(1);
        int n = Math.min(buf.remaining(), b.length - off);
        buf.put(b, off, n);
        off += n;
      }
    }

    void pad(long written) throws IOException {
      if ((written & 1) != 0) {
        room(1);
        buf.put((byte) 0);
      }
    }

    /** One 12-byte IFD entry; SHORT values are left-justified in the 4-byte value field. */
    void entry(int tag, int type, long count, long value) throws IOException {
      putShort(tag);
      putShort(type);
      putInt(count);
      if (type == SHORT && count == 1) {
        putShort((int) value);
        putShort(0);
      } else {
        putInt(value);
      }
    }
  }

  // --- small stacks in one call ------------------------------------------------------------------------------------

  /**
   * Atomically writes a float32 stack (C = 1, Z = number of planes, T = 1) with optional slice labels.
   *
   * @param labels one per plane (entries may be null), or null
   */
  public static Path writeStack(Path target, int width, int height, List<float[]> planes, List<String> labels) {
    return writeStack(target, width, height, 1, planes.size(), 1, planes, labels);
  }

  /** Atomically writes a float32 hyperstack; planes in ImageJ order (channel fastest, then slice, then frame). */
  public static Path writeStack(Path target, int width, int height, int channels, int slices, int frames,
      List<float[]> planes, List<String> labels) {
    if (planes.size() != (long) channels * slices * frames) {
      throw new IllegalArgumentException(planes.size() + " planes given for c=" + channels + " z=" + slices + " t="
          + frames);
    }
    if (labels != null && labels.size() != planes.size()) {
      throw new IllegalArgumentException(labels.size() + " labels for " + planes.size() + " planes");
    }
    StreamingTiffWriter w = new StreamingTiffWriter(target, width, height, channels, slices, frames);
    boolean ok = false;
    try {
      for (int i = 0; i < planes.size(); i++) w.writePlane(planes.get(i), labels == null ? null : labels.get(i));
      w.close();
      ok = true;
    } finally {
      if (!ok) w.abort();
    }
    return target;
  }

  /**
   * Atomically writes an ImagePlus as a float32 (hyper)stack with its dimensions, slice labels, spatial calibration,
   * display range, Info text and properties. Non-float images are converted to float (RGB to grey, as ImageJ does).
   */
  public static Path writeStack(Path target, ImagePlus imp) {
    ImageStack stack = imp.getStack();
    StreamingTiffWriter w = new StreamingTiffWriter(target, imp.getWidth(), imp.getHeight(), imp.getNChannels(),
        imp.getNSlices(), imp.getNFrames());
    boolean ok = false;
    try {
      Calibration cal = imp.getCalibration();
      if (cal != null && cal.scaled()) w.calibration(cal.pixelWidth, cal.pixelHeight, cal.getUnit());
      if (imp.getBitDepth() == 32 && imp.getNChannels() == 1) {
        w.displayRange(imp.getDisplayRangeMin(), imp.getDisplayRangeMax());
      }
      String infoText = imp.getInfoProperty();
      if (infoText != null) w.info(infoText);
      String[] props = imp.getPropertiesAsArray();
      if (props != null) {
        for (int i = 0; i + 1 < props.length; i += 2) {
          if (props[i] != null && props[i + 1] != null) w.property(props[i], props[i + 1]);
        }
      }
      for (int i = 1; i <= stack.getSize(); i++) {
        ImageProcessor ip = stack.getProcessor(i);
        float[] px = (float[]) (ip instanceof ij.process.FloatProcessor ? ip : ip.convertToFloat()).getPixels();
        w.writePlane(px, stack.getSliceLabel(i));
      }
      w.close();
      ok = true;
    } finally {
      if (!ok) w.abort();
    }
    return target;
  }
}
