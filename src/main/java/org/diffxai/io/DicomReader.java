package org.diffxai.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.diffxai.core.UserException;
import org.diffxai.io.Checksums;

/**
 * A small reader for uncompressed DICOM images (PS3.5 and PS3.10): implicit VR little endian, explicit VR little and
 * big endian, with or without the 128-byte preamble. Only the attributes needed to decode the pixels and order a series
 * are read (see {@link Image}); every other value, and every value inside a sequence, is skipped unread, so no
 * patient-identifying value (names, IDs, dates, institutions, physicians, ...) can reach anything this reader returns.
 * Study and series UIDs are kept only as a truncated SHA-256.
 *
 * <p>Pixels: 8-, 16- or 32-bit samples, the {@code BitsStored} bits below {@code HighBit}, signed when
 * {@code PixelRepresentation} is 1. MONOCHROME1 (minimum = white) is inverted to MONOCHROME2 on the stored values
 * ({@code (2^BitsStored − 1) − v} unsigned, {@code −1 − v} signed), then the modality LUT's
 * {@code RescaleSlope · v + RescaleIntercept} is applied (PS3.3 C.11.1). RGB images follow the colour rule
 * ({@link GreyRule}). Compressed (encapsulated) transfer syntaxes are refused with the command that decompresses them.
 */
final class DicomReader {
  private static final String IMPLICIT_LE = "1.2.840.10008.1.2";
  private static final String EXPLICIT_LE = "1.2.840.10008.1.2.1";
  private static final String EXPLICIT_BE = "1.2.840.10008.1.2.2";
  private static final String DEFLATED = "1.2.840.10008.1.2.1.99";
  private static final int PIXEL_DATA = 0x7FE00010;
  private static final int UNDEFINED = 0xFFFFFFFF;

  private DicomReader() {}

  /** What one file holds: pixels and the technical attributes, nothing that identifies a patient. */
  static final class Image {
    int rows;
    int columns;
    int frames = 1;
    /** One grey plane per frame, rescaled (and inverted for MONOCHROME1), row-major. */
    float[][] planes;
    /** What was applied, for the image's note. */
    final List<String> conversions = new ArrayList<>();
    /** Counted conversions. */
    boolean rescaled;
    boolean inverted;
    /** Colour rule result for RGB images, or null. */
    GreyRule.Grey colour;
    /** SHA-256 of "StudyInstanceUID/SeriesInstanceUID", first 16 hex digits, or null without UIDs. */
    String seriesHash;
    /** InstanceNumber, or null. */
    Integer instance;
    /** ImagePositionPatient (3) and ImageOrientationPatient (6), or null. */
    double[] position;
    double[] orientation;
    String modality = "";

    /** Position along the slice normal (row × column direction cosines), or NaN without geometry. */
    double alongNormal() {
      if (position == null || orientation == null) return Double.NaN;
      double[] o = orientation;
      double nx = o[1] * o[5] - o[2] * o[4];
      double ny = o[2] * o[3] - o[0] * o[5];
      double nz = o[0] * o[4] - o[1] * o[3];
      return position[0] * nx + position[1] * ny + position[2] * nz;
    }
  }

  /** Whether the file is DICOM: "DICM" after the 128-byte preamble, or a bare data set starting with group 0002/0008. */
  static boolean isDicom(byte[] head) {
    if (head.length >= 132 && head[128] == 'D' && head[129] == 'I' && head[130] == 'C' && head[131] == 'M') return true;
    if (head.length < 8) return false;
    int group = (head[0] & 0xff) | (head[1] & 0xff) << 8;
    int element = (head[2] & 0xff) | (head[3] & 0xff) << 8;
    return (group == 0x0002 || group == 0x0008) && element < 0x0100;
  }

  /** Thrown inside the parser when the file ends early. */
  private static final class Truncated extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Truncated(String m) {
      super(m, null, false, false);
    }
  }

  /**
   * Reads one DICOM file.
   *
   * @throws UserException naming the file for a truncated file, a compressed or unsupported transfer syntax or pixel
   *     format, or a file without pixel data
   */
  static Image read(Path file) {
    byte[] bytes;
    try {
      if (Files.size(file) > Integer.MAX_VALUE - 8) {
        throw new UserException("Cannot open " + file + ": DICOM files over 2 GB are not supported. Split it into"
            + " one file per slice or frame.");
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UserException("Cannot read " + file + ": " + e.getMessage() + ". Check that the file is readable.", e);
    }
    try {
      return new Parser(bytes, file).parse();
    } catch (Truncated e) {
      throw new UserException("Cannot open " + file + ": the DICOM file is truncated (" + e.getMessage() + "). Copy"
          + " the complete file again, or remove it.");
    }
  }

  private static final class Parser {
    final ByteBuffer b;
    final Path file;
    boolean explicit = true;
    String transferSyntax;
    final Image img = new Image();
    int samples = 1;
    int planar;
    int bitsAllocated;
    int bitsStored;
    int highBit = -1;
    int pixelRepresentation;
    String photometric = "MONOCHROME2";
    Double slope;
    Double intercept;
    long pixelLength;
    /** Nesting level inside sequences; values are kept at level 0 only. */
    int depth;
    String study;
    String series;

    Parser(byte[] bytes, Path file) {
      this.b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      this.file = file;
    }

    Image parse() {
      int pos = 0;
      if (b.limit() >= 132 && b.get(128) == 'D' && b.get(129) == 'I' && b.get(130) == 'C' && b.get(131) == 'M') {
        pos = 132;
      }
      b.position(pos);
      // File meta information (group 0002): always explicit VR little endian.
      while (b.remaining() >= 8 && (b.getShort(b.position()) & 0xffff) == 0x0002) element(true);
      String ts = transferSyntax == null ? guessSyntax() : transferSyntax;
      switch (ts) {
        case IMPLICIT_LE:
          explicit = false;
          break;
        case EXPLICIT_LE:
          break;
        case EXPLICIT_BE:
          b.order(ByteOrder.BIG_ENDIAN);
          break;
        case DEFLATED:
          throw new UserException("Cannot open " + file + ": its DICOM transfer syntax is deflated explicit VR, which"
              + " this reader does not decode. Convert it first, e.g. with dcmtk: dcmconv +te in.dcm out.dcm");
        default:
          throw compressed(ts);
      }
      while (b.hasRemaining()) {
        if (b.remaining() < 8) throw new Truncated("the file ends at byte " + b.limit() + " inside its header");
        if (element(false)) return pixels();
      }
      throw new Truncated("the file ends at byte " + b.limit() + " before its pixel data");
    }

    private String guessSyntax() {
      if (b.remaining() < 6) return IMPLICIT_LE;
      byte v0 = b.get(b.position() + 4);
      byte v1 = b.get(b.position() + 5);
      return v0 >= 'A' && v0 <= 'Z' && v1 >= 'A' && v1 <= 'Z' ? EXPLICIT_LE : IMPLICIT_LE;
    }

    private UserException compressed(String ts) {
      String name = ts.startsWith("1.2.840.10008.1.2.4.") ? "JPEG, JPEG-LS or JPEG 2000 compressed"
          : ts.equals("1.2.840.10008.1.2.5") ? "RLE compressed" : "an unsupported transfer syntax (" + ts + ")";
      return new UserException("Cannot open " + file + ": its DICOM pixel data is " + name + "; this reader decodes"
          + " uncompressed DICOM only. Decompress it first, e.g. with dcmtk: dcmdjpeg in.dcm out.dcm (JPEG),"
          + " dcmdrle in.dcm out.dcm (RLE), or gdcmconv --raw in.dcm out.dcm.");
    }

    /** Reads one element at the current position; true when it is the pixel data (positioned at its value). */
    private boolean element(boolean meta) {
      ByteOrder saved = b.order();
      if (meta) b.order(ByteOrder.LITTLE_ENDIAN);
      int start = b.position();
      int group = u16();
      int elem = u16();
      int tag = group << 16 | elem;
      boolean ex = meta || explicit;
      String vr = null;
      long len;
      if (group == 0xFFFE) {
        len = u32();
      } else if (ex) {
        need(2);
        vr = new String(new byte[] {b.get(), b.get()}, StandardCharsets.ISO_8859_1);
        if (longVr(vr)) {
          need(2);
          b.position(b.position() + 2);
          len = u32();
        } else {
          len = u16();
        }
      } else {
        len = u32();
      }
      if (meta) b.order(saved);
      if (tag == PIXEL_DATA && depth == 0) {
        if (len == (UNDEFINED & 0xffffffffL)) throw compressed(transferSyntax == null ? "encapsulated" : transferSyntax);
        pixelLength = len;
        return true;
      }
      if (tag == 0x7FE00008 || tag == 0x7FE00009) {
        throw new UserException("Cannot open " + file + ": it holds floating-point pixel data, which this reader does"
            + " not decode. Save it as a 32-bit float TIFF instead.");
      }
      if (len == (UNDEFINED & 0xffffffffL)) {
        skipUndefined(ex && !"UN".equals(vr));
        return false;
      }
      if (len > b.remaining()) {
        throw new Truncated("an attribute at byte " + start + " needs " + len + " bytes but the file ends at byte "
            + b.limit());
      }
      int valueAt = b.position();
      if (meta && tag == 0x00020010) transferSyntax = string(valueAt, (int) len);
      else if (!meta) value(tag, vr, valueAt, (int) len);
      b.position(valueAt + (int) len);
      return false;
    }

    /** Skips an undefined-length value (a sequence): items up to the sequence delimiter, nested values unread. */
    private void skipUndefined(boolean explicitInside) {
      boolean saved = explicit;
      explicit = explicitInside;
      depth++;
      try {
        while (true) {
          need(8);
          int group = u16();
          int elem = u16();
          long len = u32();
          if (group != 0xFFFE) throw new Truncated("a sequence is damaged at byte " + (b.position() - 8));
          if (elem == 0xE0DD) return; // sequence delimiter
          if (elem != 0xE000) continue; // stray item delimiter
          if (len == (UNDEFINED & 0xffffffffL)) {
            while (true) { // item of undefined length: elements up to the item delimiter
              need(8);
              if ((b.getShort(b.position()) & 0xffff) == 0xFFFE && (b.getShort(b.position() + 2) & 0xffff) == 0xE00D) {
                b.position(b.position() + 8);
                break;
              }
              int before = b.position();
              element(false);
              if (b.position() <= before) {
                throw new Truncated("a sequence is damaged at byte " + before);
              }
            }
          } else {
            skip(len);
          }
        }
      } finally {
        explicit = saved;
        depth--;
      }
    }

    /** Keeps the technical attributes only; other values are never decoded. */
    private void value(int tag, String vr, int at, int len) {
      if (depth > 0) return;
      switch (tag) {
        case 0x00080060: img.modality = string(at, len); break;
        case 0x0020000D: study = string(at, len); break;
        case 0x0020000E: series = string(at, len); break;
        case 0x00200013: img.instance = (int) Math.round(number(at, len, 0)); break;
        case 0x00200032: img.position = numbers(at, len, 3); break;
        case 0x00200037: img.orientation = numbers(at, len, 6); break;
        case 0x00280002: samples = us(at, len); break;
        case 0x00280004: photometric = string(at, len).toUpperCase(Locale.ROOT); break;
        case 0x00280006: planar = us(at, len); break;
        case 0x00280008: img.frames = (int) Math.round(number(at, len, 1)); break;
        case 0x00280010: img.rows = us(at, len); break;
        case 0x00280011: img.columns = us(at, len); break;
        case 0x00280100: bitsAllocated = us(at, len); break;
        case 0x00280101: bitsStored = us(at, len); break;
        case 0x00280102: highBit = us(at, len); break;
        case 0x00280103: pixelRepresentation = us(at, len); break;
        case 0x00281052: intercept = number(at, len, 0); break;
        case 0x00281053: slope = number(at, len, 1); break;
        default: break;
      }
    }

    private Image pixels() {
      int rows = img.rows;
      int cols = img.columns;
      if (rows < 1 || cols < 1) {
        throw new UserException("Cannot open " + file + ": its DICOM header gives no image size (Rows " + rows
            + ", Columns " + cols + "). It may not be an image (e.g. a report or a DICOMDIR); remove it.");
      }
      if (bitsAllocated != 8 && bitsAllocated != 16 && bitsAllocated != 32) {
        throw new UserException("Cannot open " + file + ": DICOM pixels of " + bitsAllocated + " bits allocated are not"
            + " supported (8, 16 or 32 are). Convert it, e.g. with dcmtk's dcmconv, or save it as TIFF.");
      }
      boolean mono = photometric.equals("MONOCHROME1") || photometric.equals("MONOCHROME2");
      boolean rgb = photometric.equals("RGB") && samples == 3;
      if (!(mono && samples == 1) && !rgb) {
        throw new UserException("Cannot open " + file + ": DICOM photometric interpretation " + photometric + " with "
            + samples + " samples per pixel is not supported (MONOCHROME1, MONOCHROME2 and RGB are). Convert it, e.g."
            + " with gdcmconv --raw, or save it as TIFF.");
      }
      if (bitsStored < 1 || bitsStored > bitsAllocated) bitsStored = bitsAllocated;
      if (highBit < bitsStored - 1 || highBit >= bitsAllocated) highBit = bitsStored - 1;
      int frames = Math.max(1, img.frames);
      img.frames = frames;
      long perFrame = (long) rows * cols * samples;
      long need = perFrame * frames * (bitsAllocated / 8);
      int at = b.position();
      long available = Math.min(pixelLength, (long) b.limit() - at);
      if (available < need) {
        throw new Truncated("its header announces " + frames + " frame" + (frames == 1 ? "" : "s") + " of " + cols + "x"
            + rows + (samples == 3 ? " RGB" : "") + " pixels (" + need + " bytes) but "
            + (pixelLength < need ? "the pixel data holds " + pixelLength : "the file holds only " + available)
            + " bytes");
      }
      int shift = highBit + 1 - bitsStored;
      long mask = bitsStored >= 32 ? 0xffffffffL : (1L << bitsStored) - 1;
      boolean signed = pixelRepresentation == 1;
      boolean invert = photometric.equals("MONOCHROME1");
      double s = slope == null ? 1 : slope;
      double c = intercept == null ? 0 : intercept;
      int bytes = bitsAllocated / 8;
      img.planes = new float[frames][];
      for (int f = 0; f < frames; f++) {
        float[][] ch = new float[samples][rows * cols];
        for (int i = 0; i < rows * cols; i++) {
          for (int k = 0; k < samples; k++) {
            long idx = planar == 1 && samples > 1 ? (long) f * perFrame + (long) k * rows * cols + i
                : (long) f * perFrame + (long) i * samples + k;
            int off = (int) (at + idx * bytes);
            long raw = bytes == 1 ? b.get(off) & 0xff : bytes == 2 ? b.getShort(off) & 0xffff : b.getInt(off) & 0xffffffffL;
            long v = (raw >>> shift) & mask;
            if (signed && bitsStored < 64 && (v >> (bitsStored - 1) & 1) == 1) v -= mask + 1;
            if (invert) v = signed ? -1 - v : mask - v;
            ch[k][i] = (float) (s * v + c);
          }
        }
        if (rgb) {
          img.colour = GreyRule.ofPlanes(ch[0], ch[1], ch[2], mask);
          img.planes[f] = img.colour.values;
        } else {
          img.planes[f] = ch[0];
        }
      }
      img.conversions.add("DICOM " + (img.modality.isEmpty() ? "" : img.modality + " ") + bitsAllocated + "-bit "
          + (signed ? "signed" : "unsigned") + (bitsStored != bitsAllocated ? " (" + bitsStored + " bits stored)" : ""));
      if (invert) {
        img.inverted = true;
        img.conversions.add("MONOCHROME1 inverted (" + (signed ? "-1 - v" : mask + " - v") + ")");
      }
      if (slope != null && slope != 1 || intercept != null && intercept != 0) {
        img.rescaled = true;
        img.conversions.add("rescaled: " + fmt(s) + " * v + " + fmt(c));
      }
      if (study != null || series != null) {
        img.seriesHash = Checksums.sha256Hex(((study == null ? "" : study) + "/" + (series == null ? "" : series))
            .getBytes(StandardCharsets.US_ASCII)).substring(0, 16);
      }
      return img;
    }

    private static String fmt(double v) {
      return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    private static boolean longVr(String vr) {
      switch (vr) {
        case "OB": case "OD": case "OF": case "OL": case "OV": case "OW": case "SQ": case "SV": case "UC": case "UN":
        case "UR": case "UT": case "UV":
          return true;
        default:
          return false;
      }
    }

    private void need(int n) {
      if (b.remaining() < n) throw new Truncated("the file ends at byte " + b.limit() + " inside its header");
    }

    private void skip(long n) {
      if (n > b.remaining()) {
        throw new Truncated("a value at byte " + b.position() + " needs " + n + " bytes but the file ends at byte "
            + b.limit());
      }
      b.position(b.position() + (int) n);
    }

    private int u16() {
      need(2);
      return b.getShort() & 0xffff;
    }

    private long u32() {
      need(4);
      return b.getInt() & 0xffffffffL;
    }

    private int us(int at, int len) {
      return len >= 2 ? b.getShort(at) & 0xffff : 0;
    }

    private String string(int at, int len) {
      byte[] a = new byte[len];
      for (int i = 0; i < len; i++) a[i] = b.get(at + i);
      return new String(a, StandardCharsets.US_ASCII).replace('\0', ' ').trim();
    }

    private double number(int at, int len, double fallback) {
      double[] v = numbers(at, len, 1);
      return v == null ? fallback : v[0];
    }

    /** A multi-valued decimal or integer string (DS, IS), or null when it does not hold n numbers. */
    private double[] numbers(int at, int len, int n) {
      String[] parts = string(at, len).split("\\\\");
      if (parts.length < n) return null;
      double[] out = new double[n];
      try {
        for (int i = 0; i < n; i++) out[i] = Double.parseDouble(parts[i].trim());
      } catch (NumberFormatException e) {
        return null;
      }
      return out;
    }
  }
}
