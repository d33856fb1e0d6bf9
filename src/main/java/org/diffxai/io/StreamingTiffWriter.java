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
import java.util.zip.Deflater;
import org.diffxai.core.UserException;

/**
 * Writes 32-bit float planes into a multi-page TIFF one by one, so memory stays flat however many planes are written:
 * the project's one TIFF writing core. Two flavours:
 *
 * <ul>
 *   <li>an <b>ImageJ hyperstack</b> ({@link #StreamingTiffWriter(Path, int, int, int, int, int)}): ImageJ's
 *       description in the first IFD, uncompressed, classic TIFF (a larger file is refused up front, as ImageJ 1.x
 *       reads no BigTIFF);
 *   <li>a <b>plain multi-page TIFF</b> ({@link #plain}) whose first-IFD description the caller supplies before
 *       {@link #close()} (e.g. OME-XML, see {@link OmeTiffWriter}); optionally deflate-compressed, and BigTIFF when the
 *       file outgrows 4 GB.
 * </ul>
 *
 * <p>File layout (little-endian, one strip per plane):
 *
 * <pre>
 * [16-byte header area][plane 0][plane 1] ... [plane N-1][IFD 0 + its description, resolution, IJ metadata][IFD 1] ... [IFD N-1]
 * </pre>
 *
 * The header area is reserved first (a classic header uses 8 of its bytes, a BigTIFF header all 16); planes are
 * appended as they arrive; on {@link #close()} the IFDs (one per plane, as ImageJ and libtiff expect) and the metadata
 * are appended and the header is written, classic or BigTIFF depending on where the file ends. Uncompressed planes are
 * contiguous, which ImageJ's reader requires: for files whose ImageDescription starts with {@code ImageJ=} and says
 * {@code images=N}, ImageJ reads only the first IFD and then N planes back to back from the first strip offset.
 *
 * <p>An ImageJ hyperstack's first IFD carries ImageJ's description
 * ({@code ImageJ=1.54p\nimages=N\nchannels=C\nslices=Z\nframes=T\nhyperstack=true\nmode=grayscale\nunit=..\nloop=false\nmin=..\nmax=..\n}).
 * Both flavours store slice labels, an info text and properties, when there are any, in ImageJ's private metadata tags
 * 50838 (byte counts) and 50839 (data: {@code IJIJ} magic, then type/count pairs {@code info}, {@code labl},
 * {@code prop}, then UTF-16 strings), which ImageJ's TIFF reader applies to any TIFF. Display min/max default to the
 * range of the finite values written.
 *
 * <p>Planes of a hyperstack must arrive in ImageJ's order: channel fastest, then slice (z), then frame (t); see
 * {@link #planeIndex(int, int, int, int, int)}. The file is written to a hidden temporary file beside the target and
 * renamed into place by {@link #close()} only when every plane was written; {@link #abort()} (or a failed
 * {@code close()}) deletes it. Not thread-safe.
 */
public final class StreamingTiffWriter implements AutoCloseable {

  /** Largest file a classic (32-bit offset) TIFF can hold. */
  public static final long MAX_FILE_BYTES = 0xFFFFFFFFL;

  /** How planes are stored. */
  public enum Compression {
    /** Uncompressed (TIFF compression 1). */
    NONE(1),
    /** zlib/deflate, lossless (TIFF compression 8, "Adobe deflate"); every common TIFF reader decodes it. */
    DEFLATE(8);

    final int tiffCode;

    Compression(int tiffCode) {
      this.tiffCode = tiffCode;
    }

    /** "none" or "deflate" (case ignored). */
    public static Compression parse(String s) {
      String v = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
      if (v.isEmpty() || v.equals("none")) return NONE;
      if (v.equals("deflate")) return DEFLATE;
      throw new UserException("compression=" + s + " is not known. Use compression=none or compression=deflate.");
    }
  }

  /** Opens the temporary file for writing; replaceable in tests (e.g. by a channel that runs out of space). */
  @FunctionalInterface
  interface ChannelOpener {
    FileChannel open(Path temp) throws IOException;
  }

  static final ChannelOpener FILES = p -> FileChannel.open(p, StandardOpenOption.WRITE);

  private static final int HEADER_BYTES = 16;
  private static final int CHUNK_BYTES = 1 << 20;
  // TIFF field types
  private static final int BYTE = 1, ASCII = 2, SHORT = 3, LONG = 4, RATIONAL = 5, LONG8 = 16;
  // ImageJ metadata types (ij.io.TiffDecoder)
  private static final int IJ_MAGIC = 0x494a494a, IJ_INFO = 0x696e666f, IJ_LABELS = 0x6c61626c,
      IJ_PROPERTIES = 0x70726f70;

  private final Path target;
  private final int width, height, channels, slices, frames, planes;
  private final long planeBytes;
  private final boolean imagej;
  private final Compression compression;
  private final long classicLimit;
  private final AtomicFiles.Pending pending;
  private final FileChannel channel;
  private final ByteBuffer chunk;
  private final FloatBuffer chunkFloats;
  private final Deflater deflater;
  private final ByteBuffer deflated;
  private final long[] stripOffsets, stripBytes;
  private final String[] labels;
  private final Map<String, String> properties = new LinkedHashMap<>();
  private long position = HEADER_BYTES;
  private int written;
  private double dataMin = Double.POSITIVE_INFINITY, dataMax = Double.NEGATIVE_INFINITY;
  private double displayMin = Double.NaN, displayMax = Double.NaN;
  private double pixelWidth = 1, pixelHeight = 1;
  private String unit;
  private String info;
  private String description;
  private boolean bigTiff;
  private boolean finished;

  /**
   * Opens a writer for an ImageJ hyperstack of {@code channels * slices * frames} planes of {@code width x height}
   * float32 pixels. The target appears only when {@link #close()} succeeds.
   *
   * @throws UserException if the file would exceed 4 GiB or the directory cannot be written
   */
  public StreamingTiffWriter(Path target, int width, int height, int channels, int slices, int frames) {
    this(target, width, height, channels, slices, frames, true, Compression.NONE, FILES, MAX_FILE_BYTES);
  }

  /**
   * Opens a writer for a plain multi-page TIFF of {@code planes} planes whose first-IFD description is set with
   * {@link #description(String)}; BigTIFF when the file would not fit in 4 GiB.
   *
   * @throws UserException if the directory cannot be written
   */
  public static StreamingTiffWriter plain(Path target, int width, int height, int planes, Compression compression) {
    return plain(target, width, height, planes, compression, FILES, MAX_FILE_BYTES);
  }

  /**
   * A plain TIFF written through {@code opener} that becomes a BigTIFF beyond {@code classicLimit} bytes (tests: a
   * channel that runs out of space, BigTIFF without writing 4 GiB).
   */
  static StreamingTiffWriter plain(Path target, int width, int height, int planes, Compression compression,
      ChannelOpener opener, long classicLimit) {
    return new StreamingTiffWriter(target, width, height, 1, planes, 1, false, compression, opener, classicLimit);
  }

  private StreamingTiffWriter(Path target, int width, int height, int channels, int slices, int frames,
      boolean imagej, Compression compression, ChannelOpener opener, long classicLimit) {
    if (width < 1 || height < 1 || channels < 1 || slices < 1 || frames < 1) {
      throw new IllegalArgumentException("width, height, channels, slices and frames must be positive; got " + width
          + "x" + height + ", c=" + channels + " z=" + slices + " t=" + frames);
    }
    long n = (long) channels * slices * frames;
    if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(n + " planes are too many for one file");
    if (imagej && !fitsImageJ(width, height, n)) {
      throw new UserException(String.format(Locale.ROOT,
          "%s would need %.2f GB, more than an ImageJ TIFF can hold (4 GB; ImageJ reads no BigTIFF). Write fewer or "
              + "smaller planes, or write OME-TIFF (BigTIFF), e.g. with Export Trajectory.",
          target, imagejEstimate(width, height, n) / 1e9));
    }
    this.target = target;
    this.width = width;
    this.height = height;
    this.channels = channels;
    this.slices = slices;
    this.frames = frames;
    this.planes = (int) n;
    this.planeBytes = (long) width * height * 4;
    this.imagej = imagej;
    this.compression = compression;
    this.classicLimit = classicLimit;
    this.labels = new String[planes];
    this.stripOffsets = new long[planes];
    this.stripBytes = new long[planes];
    this.chunk = ByteBuffer.allocateDirect((int) Math.min(planeBytes, CHUNK_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
    this.chunkFloats = chunk.asFloatBuffer();
    this.pending = AtomicFiles.begin(target);
    boolean deflate = compression == Compression.DEFLATE;
    this.deflater = deflate ? new Deflater(Deflater.BEST_SPEED) : null;
    this.deflated = deflate ? ByteBuffer.allocateDirect(1 << 16) : null;
    FileChannel ch = null;
    try {
      ch = opener.open(pending.temp());
      writeFully(ch, ByteBuffer.allocate(HEADER_BYTES)); // the header is written on close
    } catch (IOException e) {
      closeQuietly(ch);
      if (deflater != null) deflater.end();
      pending.abort();
      throw AtomicFiles.cannotWrite(target, e);
    }
    this.channel = ch;
  }

  /** Whether an ImageJ hyperstack of {@code planes} planes fits in a classic TIFF (4 GiB, a little room for labels). */
  public static boolean fitsImageJ(int width, int height, long planes) {
    return imagejEstimate(width, height, planes) <= MAX_FILE_BYTES;
  }

  private static long imagejEstimate(int width, int height, long planes) {
    return HEADER_BYTES + planes * ((long) width * height * 4 + ifdBytes(14, false)) + 1024;
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

  /**
   * The first IFD's ImageDescription of a {@link #plain} TIFF (stored as UTF-8); may be set any time before
   * {@link #close()}.
   */
  public StreamingTiffWriter description(String text) {
    if (imagej) throw new IllegalStateException("an ImageJ hyperstack carries ImageJ's description");
    this.description = text;
    return this;
  }

  /** Appends the next plane (without a label). */
  public void writePlane(float[] pixels) {
    writePlane(pixels, null);
  }

  /**
   * Appends the next plane (for a hyperstack in ImageJ order: channel fastest, then slice, then frame), row-major.
   *
   * @param label ImageJ slice label (null for none); ImageJ's reader garbles some characters beyond U+00FF
   */
  public void writePlane(float[] pixels, String label) {
    if (finished) throw new IllegalStateException("writer for " + target + " is already closed");
    if (written >= planes) throw new IllegalStateException("all " + planes + " planes were already written");
    if (pixels.length != (long) width * height) {
      throw new IllegalArgumentException("plane has " + pixels.length + " values, expected " + width + "x" + height);
    }
    if (imagej) { // the default display range of ImageJ's description
      for (float v : pixels) {
        if (Float.isFinite(v)) {
          if (v < dataMin) dataMin = v;
          if (v > dataMax) dataMax = v;
        }
      }
    }
    try {
      long start = position;
      if (deflater != null) deflater.reset();
      int off = 0;
      int perChunk = chunk.capacity() / 4;
      while (off < pixels.length) {
        int n = Math.min(perChunk, pixels.length - off);
        chunkFloats.clear();
        chunkFloats.put(pixels, off, n);
        chunk.clear().limit(n * 4);
        if (deflater == null) {
          position += writeFully(channel, chunk);
        } else {
          deflater.setInput(chunk);
          while (!deflater.needsInput()) drainDeflater();
        }
        off += n;
      }
      if (deflater != null) {
        deflater.finish();
        while (!deflater.finished()) drainDeflater();
      }
      stripOffsets[written] = start;
      stripBytes[written] = position - start;
    } catch (IOException e) {
      abort();
      throw AtomicFiles.cannotWrite(target, e);
    }
    labels[written++] = label == null || label.isEmpty() ? null : label;
  }

  private void drainDeflater() throws IOException {
    deflated.clear();
    deflater.deflate(deflated);
    deflated.flip();
    position += writeFully(channel, deflated);
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

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  /** Bytes written so far (header area and planes; the directories follow on {@link #close()}). */
  public long bytesWritten() {
    return position;
  }

  /** Whether the closed file is a BigTIFF (a plain TIFF larger than 4 GiB). */
  public boolean isBigTiff() {
    return bigTiff;
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
      channel.close(); // committing flushes the file to disk
    } catch (IOException e) {
      abort();
      throw AtomicFiles.cannotWrite(target, e);
    } catch (RuntimeException | Error e) {
      abort();
      throw e;
    }
    finished = true;
    if (deflater != null) deflater.end();
    pending.commit();
  }

  /** Deletes the temporary file; the target is left as it was. Safe to call more than once. */
  public void abort() {
    finished = true;
    closeQuietly(channel);
    if (deflater != null) deflater.end();
    pending.abort();
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** One IFD entry: a value that fits in the entry, or data stored in the entry when small enough, else elsewhere. */
  private static final class Entry {
    final int tag, type;
    final long count;
    final long value;
    final byte[] data;
    long offset;

    Entry(int tag, int type, long count, long value) {
      this.tag = tag;
      this.type = type;
      this.count = count;
      this.value = value;
      this.data = null;
    }

    Entry(int tag, int type, long count, byte[] data) {
      this.tag = tag;
      this.type = type;
      this.count = count;
      this.value = 0;
      this.data = data;
    }

    boolean outOfLine(boolean big) {
      return data != null && data.length > (big ? 8 : 4);
    }
  }

  private void writeDirectories() throws IOException {
    byte[] desc = (imagej ? imagejDescription() : description == null ? "" : description + "\0")
        .getBytes(imagej ? StandardCharsets.US_ASCII : StandardCharsets.UTF_8);
    Meta meta = new Meta();
    long ifd0 = even(position);
    bigTiff = false;
    List<Entry> first = entries(0, desc, meta, 0);
    long end = layout(first, ifd0, false);
    if (end > classicLimit) {
      if (imagej) {
        throw new UserException(String.format(Locale.ROOT,
            "%s would need %.2f GB, more than an ImageJ TIFF can hold (4 GB). Write fewer planes or shorter labels "
                + "per file, or write OME-TIFF (BigTIFF).",
            target, end / 1e9));
      }
      bigTiff = true; // 8-byte offsets: the entries change type and size
      first = entries(0, desc, meta, 0);
      layout(first, ifd0, true);
    }
    boolean big = bigTiff;
    long resOff = 0;
    for (Entry e : first) {
      if (e.tag == 282) resOff = e.offset;
    }
    long ifd1 = firstIfdAfter(first, ifd0, big);
    channel.position(position);
    LeOut out = new LeOut(channel, big);
    if (ifd0 > position) out.putByte(0);
    writeIfd(out, first, planes > 1 ? ifd1 : 0);
    for (Entry e : first) {
      if (!e.outOfLine(big)) continue;
      out.putBytes(e.data);
      if ((e.data.length & 1) != 0) out.putByte(0);
    }
    int n1 = planes > 1 ? entries(1, null, null, resOff).size() : 0;
    for (int k = 1; k < planes; k++) {
      writeIfd(out, entries(k, null, null, resOff), k < planes - 1 ? ifd1 + k * ifdBytes(n1, big) : 0);
    }
    out.flush();
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    header.put((byte) 'I').put((byte) 'I');
    if (big) header.putShort((short) 43).putShort((short) 8).putShort((short) 0).putLong(ifd0);
    else header.putShort((short) 42).putInt((int) ifd0);
    header.clear();
    while (header.hasRemaining()) channel.write(header, header.position());
  }

  /** Assigns the out-of-line data of IFD 0 its offsets; returns where the file ends. */
  private long layout(List<Entry> first, long ifd0, boolean big) {
    long pos = ifd0 + ifdBytes(first.size(), big);
    for (Entry e : first) {
      if (!e.outOfLine(big)) continue;
      e.offset = pos;
      pos += even(e.data.length);
    }
    int n1 = planes > 1 ? entries(1, null, null, 0).size() : 0;
    return pos + (planes - 1L) * ifdBytes(n1, big);
  }

  private long firstIfdAfter(List<Entry> first, long ifd0, boolean big) {
    long pos = ifd0 + ifdBytes(first.size(), big);
    for (Entry e : first) {
      if (e.outOfLine(big)) pos += even(e.data.length);
    }
    return pos;
  }

  /**
   * The entries of IFD k in ascending tag order; IFD 0 also has the description and the ImageJ metadata. IFDs after
   * the first point their resolution at IFD 0's ({@code resOff}) where it does not fit in the entry.
   */
  private List<Entry> entries(int k, byte[] desc, Meta meta, long resOff) {
    boolean calibrated = unit != null;
    List<Entry> l = new ArrayList<>();
    l.add(new Entry(254, LONG, 1, 0)); // NewSubfileType
    l.add(new Entry(256, LONG, 1, width)); // ImageWidth
    l.add(new Entry(257, LONG, 1, height)); // ImageLength
    l.add(new Entry(258, SHORT, 1, 32)); // BitsPerSample
    l.add(new Entry(259, SHORT, 1, compression.tiffCode)); // Compression
    l.add(new Entry(262, SHORT, 1, 1)); // PhotometricInterpretation: BlackIsZero
    if (desc != null && desc.length > 1) l.add(new Entry(270, ASCII, desc.length, desc)); // ImageDescription
    l.add(new Entry(273, bigTiff ? LONG8 : LONG, 1, stripOffsets[k])); // StripOffsets
    l.add(new Entry(277, SHORT, 1, 1)); // SamplesPerPixel
    l.add(new Entry(278, LONG, 1, height)); // RowsPerStrip
    l.add(new Entry(279, bigTiff ? LONG8 : LONG, 1, stripBytes[k])); // StripByteCounts
    if (calibrated) {
      ByteBuffer r = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
      long[] xr = rational(1 / pixelWidth), yr = rational(1 / pixelHeight);
      r.putInt((int) xr[0]).putInt((int) xr[1]).putInt((int) yr[0]).putInt((int) yr[1]);
      byte[] x = java.util.Arrays.copyOfRange(r.array(), 0, 8), y = java.util.Arrays.copyOfRange(r.array(), 8, 16);
      if (k == 0 || bigTiff) {
        l.add(new Entry(282, RATIONAL, 1, x)); // XResolution
        l.add(new Entry(283, RATIONAL, 1, y)); // YResolution
      } else {
        l.add(new Entry(282, RATIONAL, 1, resOff));
        l.add(new Entry(283, RATIONAL, 1, resOff + 8));
      }
      l.add(new Entry(296, SHORT, 1, "inch".equals(unit) ? 2 : "cm".equals(unit) ? 3 : 1)); // ResolutionUnit
    }
    l.add(new Entry(339, SHORT, 1, 3)); // SampleFormat: IEEE float
    if (meta != null && meta.size > 0) {
      ByteBuffer counts = ByteBuffer.allocate(4 * meta.counts.length).order(ByteOrder.LITTLE_ENDIAN);
      for (int c : meta.counts) counts.putInt(c);
      l.add(new Entry(50838, LONG, meta.counts.length, counts.array()));
      l.add(new Entry(50839, BYTE, meta.size, meta.bytes()));
    }
    return l;
  }

  private static void writeIfd(LeOut out, List<Entry> entries, long next) throws IOException {
    out.putCount(entries.size());
    for (Entry e : entries) {
      out.putShort(e.tag);
      out.putShort(e.type);
      out.putOffset(e.count);
      if (e.data != null) {
        if (e.outOfLine(out.big)) {
          out.putOffset(e.offset);
        } else {
          out.putBytes(e.data);
          for (int i = e.data.length; i < (out.big ? 8 : 4); i++) out.putByte(0);
        }
      } else if (e.type == SHORT) {
        out.putShort((int) e.value); // left-justified in the value field
        out.putShort(0);
        if (out.big) out.putInt(0);
      } else {
        out.putOffset(e.value);
      }
    }
    out.putOffset(next);
  }

  /** ImageJ's description string (ij.io.FileSaver.getDescriptionString), NUL-terminated ASCII. */
  private String imagejDescription() {
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
    return sb.toString();
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
      if (total > Integer.MAX_VALUE - 8) {
        throw new UserException("Slice labels and info of " + target + " are too long.");
      }
      counts = c.stream().mapToInt(Integer::intValue).toArray();
      size = (int) total;
    }

    byte[] bytes() {
      ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
      b.putInt(IJ_MAGIC);
      for (int[] t : types) b.putInt(t[0]).putInt(t[1]);
      for (String s : strings) {
        for (int i = 0; i < s.length(); i++) b.putChar(s.charAt(i)); // UTF-16 in the file's byte order
      }
      return b.array();
    }
  }

  /** A positive number as a TIFF RATIONAL (numerator, denominator), both unsigned 32-bit. */
  private static long[] rational(double v) {
    long den = 1_000_000;
    while (den > 1 && v * den > MAX_FILE_BYTES) den /= 10;
    long num = Math.max(1, Math.min(MAX_FILE_BYTES, Math.round(v * den)));
    return new long[] {num, den};
  }

  /** Bytes of an IFD with n entries: classic 2 + 12 n + 4, BigTIFF 8 + 20 n + 8. */
  private static long ifdBytes(int entries, boolean big) {
    return big ? 16 + 20L * entries : 6 + 12L * entries;
  }

  private static long even(long n) {
    return (n + 1) & ~1L;
  }

  /** Writes all remaining bytes; returns their number. */
  private static int writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    int n = b.remaining();
    while (b.hasRemaining()) ch.write(b);
    return n;
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch == null) return;
    try {
      ch.close();
    } catch (IOException e) {
      // the temporary file is deleted next
    }
  }

  /** Little-endian output through a small buffer onto the channel's current position; offsets 4 or 8 bytes. */
  private static final class LeOut {
    private final FileChannel ch;
    final boolean big;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

    LeOut(FileChannel ch, boolean big) {
      this.ch = ch;
      this.big = big;
    }

    void room(int n) throws IOException {
      if (buf.remaining() < n) flush();
    }

    void flush() throws IOException {
      buf.flip();
      writeFully(ch, buf);
      buf.clear();
    }

    void putByte(int v) throws IOException {
      room(1);
      buf.put((byte) v);
    }

    void putShort(int v) throws IOException {
      room(2);
      buf.putShort((short) v);
    }

    void putInt(long v) throws IOException {
      room(4);
      buf.putInt((int) v);
    }

    /** An offset or a count: 4 bytes in a classic TIFF, 8 in a BigTIFF. */
    void putOffset(long v) throws IOException {
      room(8);
      if (big) buf.putLong(v);
      else buf.putInt((int) v);
    }

    /** The number of entries of an IFD: 2 bytes in a classic TIFF, 8 in a BigTIFF. */
    void putCount(int n) throws IOException {
      room(8);
      if (big) buf.putLong(n);
      else buf.putShort((short) n);
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
