package org.diffxai.io;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diffxai.core.UserException;

/**
 * Checks a TIFF's structure against the file's length before ImageJ reads it, because ImageJ 1.x fills the missing
 * part of a truncated TIFF with zeros (or, for a cut deflate stream, does not return): every IFD is walked (classic
 * and BigTIFF), and every strip or tile (offset + byte count) must lie inside the file, as must an uncompressed plane
 * read from its first strip (ImageJ reads uncompressed planes contiguously) and the planes of an ImageJ stack whose
 * description announces them ({@code images=n}). Also reports what ImageJ cannot read (tiles, BigTIFF, compressions
 * other than none, LZW, deflate and PackBits) so callers refuse those with one clear message.
 */
final class TiffCheck {
  private static final int MAX_IFDS = 1 << 20;
  private static final Pattern IMAGES = Pattern.compile("(?m)^images=(\\d+)\\s*$");
  /** Compressions ImageJ 1.54 reads: none, LZW, deflate (Adobe and old), PackBits. */
  private static final Set<Integer> IMAGEJ_COMPRESSIONS = Set.of(1, 5, 8, 32946, 32773);

  /** What the walk found. */
  static final class Info {
    boolean bigTiff;
    boolean tiled;
    int ifds;
    /** PhotometricInterpretation of the first IFD (0 = WhiteIsZero, 1 = BlackIsZero, 2 = RGB, 3 = palette). */
    int photometric = -1;
    /** The first IFD is RGB with a fourth (alpha or other extra) sample, which ImageJ drops. */
    boolean alpha;
    final Set<Integer> compressions = new HashSet<>();

    /** Why ImageJ cannot read this TIFF, or null. */
    String unsupported() {
      if (bigTiff) {
        return "it is a BigTIFF, which ImageJ 1.x cannot read. Open it with Bio-Formats (Fiji: File > Import >"
            + " Bio-Formats) and save it as TIFF, or write it as a classic TIFF (e.g. tifffile.imwrite(...,"
            + " bigtiff=False))";
      }
      if (tiled) {
        return "it is a tiled TIFF, which ImageJ 1.x cannot read. Open it with Bio-Formats (Fiji: File > Import >"
            + " Bio-Formats) and save it with File > Save As > Tiff...";
      }
      for (int c : compressions) {
        if (!IMAGEJ_COMPRESSIONS.contains(c)) {
          return "its compression (TIFF code " + c + (c == 7 || c == 6 ? ", JPEG" : "") + ") is one ImageJ 1.x"
              + " cannot read. Save it uncompressed, or with LZW or deflate compression";
        }
      }
      return null;
    }
  }

  private final FileChannel ch;
  private final long length;
  private ByteOrder order;
  private boolean big;

  private TiffCheck(FileChannel ch, long length) {
    this.ch = ch;
    this.length = length;
  }

  /** Whether the first bytes are a TIFF (classic or BigTIFF, either byte order). */
  static boolean isTiff(byte[] head) {
    if (head.length < 4) return false;
    boolean le = head[0] == 'I' && head[1] == 'I' && (head[2] == 42 || head[2] == 43) && head[3] == 0;
    boolean be = head[0] == 'M' && head[1] == 'M' && head[2] == 0 && (head[3] == 42 || head[3] == 43);
    return le || be;
  }

  /**
   * Walks the TIFF.
   *
   * @throws UserException naming the file when any part lies beyond its end (truncated) or the structure is damaged
   */
  static Info check(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return new TiffCheck(ch, ch.size()).walk();
    } catch (EOFException e) {
      throw truncated(file, e.getMessage());
    } catch (IOException e) {
      throw new UserException("Cannot read " + file + ": " + e.getMessage() + ". Check that the file is readable.", e);
    }
  }

  static UserException truncated(Path file, String detail) {
    return new UserException("Cannot open " + file + ": the file is truncated or damaged (" + detail + "). Copy the"
        + " complete file again, or remove it.");
  }

  private Info walk() throws IOException {
    ByteBuffer h = read(0, (int) Math.min(16, length));
    if (h.limit() < 8) throw new EOFException("the " + length + "-byte file ends inside the TIFF header");
    order = h.get(0) == 'I' ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
    h.order(order);
    big = h.getShort(2) == 43;
    Info info = new Info();
    info.bigTiff = big;
    long ifd;
    if (big) {
      if (h.limit() < 16) throw new EOFException("the " + length + "-byte file ends inside the BigTIFF header");
      ifd = h.getLong(8);
    } else {
      ifd = h.getInt(4) & 0xffffffffL;
    }
    Set<Long> seen = new HashSet<>();
    while (ifd != 0) {
      if (!seen.add(ifd) || seen.size() > MAX_IFDS) throw new EOFException("its image directories form a loop");
      ifd = checkIfd(ifd, info);
      info.ifds++;
    }
    if (info.ifds == 0) throw new EOFException("it has no image directory");
    return info;
  }

  /** Checks one IFD and returns the offset of the next (0 at the end). */
  private long checkIfd(long at, Info info) throws IOException {
    int countSize = big ? 8 : 2;
    int entrySize = big ? 20 : 12;
    ByteBuffer c = read(at, countSize);
    long n = big ? c.getLong(0) : c.getShort(0) & 0xffff;
    if (n < 1 || n > 100_000) throw new EOFException("image directory " + (info.ifds + 1) + " is damaged");
    ByteBuffer e = read(at + countSize, (int) (n * entrySize + (big ? 8 : 4)));
    long width = 0, height = 0, rowsPerStrip = -1, spp = 1, compression = 1;
    long[] bits = {1};
    long[] offsets = null, counts = null;
    String description = null;
    for (int i = 0; i < n; i++) {
      int p = i * entrySize;
      int tag = e.getShort(p) & 0xffff;
      switch (tag) {
        case 256: width = values(e, p)[0]; break;
        case 257: height = values(e, p)[0]; break;
        case 258: bits = values(e, p); break;
        case 259: compression = values(e, p)[0]; break;
        case 262: if (info.ifds == 0) info.photometric = (int) values(e, p)[0]; break;
        case 270: if (info.ifds == 0) description = ascii(e, p); break;
        case 273: case 324: offsets = values(e, p); break;
        case 277: spp = values(e, p)[0]; break;
        case 278: rowsPerStrip = values(e, p)[0]; break;
        case 279: case 325: counts = values(e, p); break;
        case 322: case 323: info.tiled = true; break;
        default: break;
      }
    }
    info.compressions.add((int) compression);
    if (info.ifds == 0) info.alpha = info.photometric == 2 && spp >= 4;
    if (offsets == null) throw new EOFException("image directory " + (info.ifds + 1) + " has no image data");
    for (int i = 0; i < offsets.length; i++) {
      long end = counts != null && i < counts.length ? offsets[i] + counts[i] : offsets[i];
      if (offsets[i] < 0 || end > length) {
        throw new EOFException("image " + (info.ifds + 1) + "'s data reaches byte " + end + " but the file has "
            + length + " bytes");
      }
    }
    if (compression == 1 && !info.tiled) {
      long planeBytes = (width * height * spp * bits[0] + 7) / 8;
      long end = offsets[0] + planeBytes;
      if (end > length) {
        throw new EOFException("image " + (info.ifds + 1) + " needs bytes up to " + end + " but the file has "
            + length + " bytes");
      }
      Matcher m = description == null || !description.startsWith("ImageJ=") ? null : IMAGES.matcher(description);
      if (m != null && m.find()) {
        long images = Long.parseLong(m.group(1));
        long all = offsets[0] + images * planeBytes;
        if (all > length) {
          throw new EOFException("its " + images + " images need bytes up to " + all + " but the file has " + length
              + " bytes");
        }
      }
    }
    long next = big ? e.getLong((int) (n * entrySize)) : e.getInt((int) (n * entrySize)) & 0xffffffffL;
    if (next >= length) throw new EOFException("the next image directory lies at byte " + next + ", beyond the end");
    return next;
  }

  /** The unsigned integer values of the entry at p (SHORT, LONG, LONG8; others give their raw count of zeros). */
  private long[] values(ByteBuffer e, int p) throws IOException {
    int type = e.getShort(p + 2) & 0xffff;
    long count = big ? e.getLong(p + 4) : e.getInt(p + 4) & 0xffffffffL;
    int size = type == 3 ? 2 : type == 4 || type == 9 ? 4 : type == 16 || type == 17 || type == 18 ? 8 : type == 1 ? 1
        : 0;
    if (size == 0 || count < 1) return new long[] {0};
    if (count > 50_000_000) throw new EOFException("an image directory entry is damaged");
    int inline = big ? 8 : 4;
    long bytes = count * size;
    ByteBuffer v;
    if (bytes <= inline) {
      v = e.duplicate().order(order);
      v.position(p + (big ? 12 : 8));
      v = v.slice().order(order);
    } else {
      long off = big ? e.getLong(p + 12) : e.getInt(p + 8) & 0xffffffffL;
      v = read(off, (int) bytes);
    }
    long[] out = new long[(int) count];
    for (int i = 0; i < count; i++) {
      switch (size) {
        case 1: out[i] = v.get(i) & 0xff; break;
        case 2: out[i] = v.getShort(i * 2) & 0xffff; break;
        case 4: out[i] = v.getInt(i * 4) & 0xffffffffL; break;
        default: out[i] = v.getLong(i * 8); break;
      }
    }
    return out;
  }

  private String ascii(ByteBuffer e, int p) throws IOException {
    long count = big ? e.getLong(p + 4) : e.getInt(p + 4) & 0xffffffffL;
    int inline = big ? 8 : 4;
    if (count <= inline || count > 1 << 20) return null; // too short to matter, or not plausible
    long off = big ? e.getLong(p + 12) : e.getInt(p + 8) & 0xffffffffL;
    ByteBuffer b = read(off, (int) count);
    byte[] a = new byte[(int) count];
    b.get(a);
    return new String(a, StandardCharsets.ISO_8859_1);
  }

  private ByteBuffer read(long at, int n) throws IOException {
    if (at < 0 || at + n > length) {
      throw new EOFException("the TIFF structure points to bytes " + at + "-" + (at + n) + " but the file has "
          + length + " bytes");
    }
    ByteBuffer b = ByteBuffer.allocate(n).order(order == null ? ByteOrder.LITTLE_ENDIAN : order);
    while (b.hasRemaining()) {
      if (ch.read(b, at + b.position()) < 0) throw new EOFException("the file ends at byte " + (at + b.position()));
    }
    b.flip();
    return b;
  }

}
