package org.diffxai.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.diffxai.core.UserException;

/**
 * Reads what bioimage.io needs from an ONNX file without an ONNX library: the opset version of the default operator
 * domain. An ONNX file is a protobuf {@code ModelProto} (onnx/onnx.proto): field 8 {@code opset_import} holds
 * {@code OperatorSetIdProto}s with field 1 {@code domain} (string; "" or "ai.onnx" for the default domain) and field 2
 * {@code version} (int64). Protobuf wire format: each field is a varint key {@code (number << 3) | wire type}, wire type
 * 0 a varint, 1 eight bytes, 2 a varint length and that many bytes, 5 four bytes.
 */
final class OnnxFiles {
  private OnnxFiles() {}

  /**
   * The default-domain opset version of an ONNX model.
   *
   * @throws UserException when the file is no ONNX model or declares no default opset
   */
  static long opsetVersion(Path onnx) {
    try (FileChannel ch = FileChannel.open(onnx, StandardOpenOption.READ)) {
      ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
      while (b.hasRemaining()) {
        long key = varint(b);
        int field = (int) (key >>> 3);
        int wire = (int) (key & 7);
        if (field == 8 && wire == 2) {
          int len = (int) varint(b);
          ByteBuffer sub = (ByteBuffer) b.slice().limit(len);
          b.position(b.position() + len);
          String domain = "";
          long version = -1;
          while (sub.hasRemaining()) {
            long k = varint(sub);
            if ((k >>> 3) == 1 && (k & 7) == 2) {
              byte[] s = new byte[(int) varint(sub)];
              sub.get(s);
              domain = new String(s, StandardCharsets.UTF_8);
            } else if ((k >>> 3) == 2 && (k & 7) == 0) {
              version = varint(sub);
            } else {
              skip(sub, (int) (k & 7));
            }
          }
          if ((domain.isEmpty() || domain.equals("ai.onnx")) && version > 0) return version;
        } else {
          skip(b, wire);
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new UserException(onnx + " could not be read as an ONNX model (" + e + "). Re-export it with "
          + "torch.onnx.export; see docs/bring-your-model.md.", e);
    }
    throw new UserException(onnx + " declares no opset of the default ONNX domain. Re-export it with "
        + "torch.onnx.export(..., opset_version=17); see docs/bring-your-model.md.");
  }

  private static long varint(ByteBuffer b) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte x = b.get();
      v |= (long) (x & 0x7f) << shift;
      if ((x & 0x80) == 0) return v;
    }
    throw new IllegalStateException("malformed varint");
  }

  private static void skip(ByteBuffer b, int wire) {
    switch (wire) {
      case 0:
        varint(b);
        return;
      case 1:
        b.position(b.position() + 8);
        return;
      case 2:
        int len = (int) varint(b);
        b.position(b.position() + len);
        return;
      case 5:
        b.position(b.position() + 4);
        return;
      default:
        throw new IllegalStateException("unsupported protobuf wire type " + wire);
    }
  }
}
