package org.diffxai.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diffxai.core.UserException;

/**
 * NumPy {@code .npy} files (format version 1.0; https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * the magic {@code \x93NUMPY}, version 1.0, a little-endian uint16 header length, an ASCII Python dict
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (1, 64, 64, 1), }} padded with spaces to a multiple of 64
 * bytes and ended by a newline, then the values in C order. bioimage.io test tensors are stored this way.
 */
public final class Npy {
  /** An array read from a file: its dtype ({@code <f4}, {@code <i8}, ...), shape and values as doubles. */
  public static final class Array {
    public final String dtype;
    public final long[] shape;
    public final double[] values;

    Array(String dtype, long[] shape, double[] values) {
      this.dtype = dtype;
      this.shape = shape;
      this.values = values;
    }

    public float[] floats() {
      float[] f = new float[values.length];
      for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
      return f;
    }

    public int[] ints() {
      int[] v = new int[values.length];
      for (int i = 0; i < v.length; i++) v[i] = (int) values[i];
      return v;
    }

    @Override
    public String toString() {
      return dtype + " " + Arrays.toString(shape);
    }
  }

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

  private Npy() {}

  /** The bytes of a float32 array ({@code <f4}). */
  public static byte[] float32(float[] v, long... shape) {
    ByteBuffer b = body(header("<f4", shape, v.length), v.length * 4L);
    for (float f : v) b.putFloat(f);
    return b.array();
  }

  /** The bytes of an int32 array ({@code <i4}). */
  public static byte[] int32(int[] v, long... shape) {
    ByteBuffer b = body(header("<i4", shape, v.length), v.length * 4L);
    for (int i : v) b.putInt(i);
    return b.array();
  }

  private static byte[] header(String descr, long[] shape, int n) {
    long count = 1;
    for (long s : shape) count *= s;
    if (count != n) throw new IllegalArgumentException(n + " values do not fill shape " + Arrays.toString(shape));
    StringBuilder sb = new StringBuilder("{'descr': '").append(descr).append("', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < shape.length; i++) sb.append(i > 0 ? ", " : "").append(shape[i]);
    sb.append(shape.length == 1 ? ",), }" : "), }"); // a Python 1-tuple is (n,)
    int unpadded = MAGIC.length + 2 + 2 + sb.length() + 1;
    while ((unpadded % 64) != 0) {
      sb.append(' ');
      unpadded++;
    }
    sb.append('\n');
    return sb.toString().getBytes(StandardCharsets.US_ASCII);
  }

  private static ByteBuffer body(byte[] header, long dataBytes) {
    ByteBuffer b = ByteBuffer.allocate((int) (MAGIC.length + 4 + header.length + dataBytes)).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length).put(header);
    return b;
  }

  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /**
   * Reads a .npy file of a numeric dtype (float16/32/64, signed and unsigned integers up to 64 bits, bool).
   *
   * @throws UserException when the file is not such an array
   */
  public static Array read(Path file) {
    byte[] all;
    try {
      all = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UserException("Cannot read " + file + ": " + e + ". Check that the file exists and is readable.", e);
    }
    ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
    if (all.length < 10 || !Arrays.equals(Arrays.copyOf(all, 6), MAGIC)) throw bad(file, "it does not start with \\x93NUMPY");
    int major = all[6];
    b.position(8);
    int hlen = major == 1 ? b.getShort() & 0xffff : b.getInt();
    if (b.position() + hlen > all.length) throw bad(file, "its header is cut off");
    String header = new String(all, b.position(), hlen, StandardCharsets.ISO_8859_1);
    b.position(b.position() + hlen);
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) throw bad(file, "its header is not a NumPy array header");
    if (f.group(1).equals("True")) throw bad(file, "it is stored in Fortran order; save it with np.save of a C-ordered array");
    String shapeText = s.group(1).trim();
    long[] shape = shapeText.isEmpty() ? new long[0] : Arrays.stream(shapeText.split(","))
        .map(String::trim).filter(x -> !x.isEmpty()).mapToLong(Long::parseLong).toArray();
    long count = 1;
    for (long v : shape) count *= v;
    String descr = d.group(1);
    char order = descr.charAt(0);
    if (order == '>') b.order(ByteOrder.BIG_ENDIAN);
    String kind = descr.substring(1);
    int size = Integer.parseInt(kind.substring(1));
    if (b.remaining() < count * size) throw bad(file, "it holds fewer values than its shape " + Arrays.toString(shape));
    double[] v = new double[(int) count];
    for (int i = 0; i < v.length; i++) {
      switch (kind) {
        case "f4":
          v[i] = b.getFloat();
          break;
        case "f8":
          v[i] = b.getDouble();
          break;
        case "f2":
          v[i] = halfToFloat(b.getShort());
          break;
        case "i1":
          v[i] = b.get();
          break;
        case "u1":
        case "b1":
          v[i] = b.get() & 0xff;
          break;
        case "i2":
          v[i] = b.getShort();
          break;
        case "u2":
          v[i] = b.getShort() & 0xffff;
          break;
        case "i4":
          v[i] = b.getInt();
          break;
        case "u4":
          v[i] = b.getInt() & 0xffffffffL;
          break;
        case "i8":
        case "u8":
          v[i] = b.getLong();
          break;
        default:
          throw bad(file, "its dtype " + descr + " is not numeric");
      }
    }
    return new Array(descr, shape, v);
  }

  private static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits >>> 15) << 31;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0) return (sign == 0 ? 1 : -1) * mant * (float) Math.pow(2, -24);
    if (exp == 31) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  private static UserException bad(Path file, String why) {
    return new UserException(file + " is not a NumPy .npy array: " + why + ".");
  }
}
