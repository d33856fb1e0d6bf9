package org.diffxai.model;

import java.util.Locale;
import org.diffxai.core.UserException;

/**
 * The order of a model's image axes. The project works in NHWC (batch, height, width, channel); PyTorch exports NCHW.
 * Declared in model.json as {@code "layout": "NCHW"} or {@code "NHWC"}; the default depends on the
 * {@linkplain ModelFormat#defaultLayout() format}.
 */
public enum TensorLayout {
  NHWC,
  NCHW;

  /**
   * Parses model.json's value.
   *
   * @throws UserException for anything but NHWC or NCHW (case-insensitive)
   */
  static TensorLayout parse(String s, String where) {
    String v = s == null ? "" : s.trim().toUpperCase(Locale.ROOT);
    if (v.equals("NHWC")) return NHWC;
    if (v.equals("NCHW")) return NCHW;
    throw new UserException(where + " has \"layout\": \"" + s + "\"; it must be \"NCHW\" (PyTorch, ONNX exported from "
        + "PyTorch) or \"NHWC\" (TensorFlow). Fix the file; see docs/bring-your-model.md.");
  }

  /** The shape of n images of h x w x c in this layout. */
  public long[] shape(int n, int h, int w, int c) {
    return this == NHWC ? new long[] {n, h, w, c} : new long[] {n, c, h, w};
  }

  /** NHWC values in this layout (the same array for NHWC, or when c == 1, where both orders agree). */
  public float[] fromNhwc(float[] a, int n, int h, int w, int c) {
    if (this == NHWC || c == 1) return a;
    float[] out = new float[a.length];
    int hw = h * w;
    for (int i = 0; i < n; i++) {
      int base = i * hw * c;
      for (int p = 0; p < hw; p++) {
        for (int k = 0; k < c; k++) out[base + k * hw + p] = a[base + p * c + k];
      }
    }
    return out;
  }

  /** Values in this layout as NHWC (the same array for NHWC or c == 1). */
  public float[] toNhwc(float[] a, int n, int h, int w, int c) {
    if (this == NHWC || c == 1) return a;
    float[] out = new float[a.length];
    int hw = h * w;
    for (int i = 0; i < n; i++) {
      int base = i * hw * c;
      for (int p = 0; p < hw; p++) {
        for (int k = 0; k < c; k++) out[base + p * c + k] = a[base + k * hw + p];
      }
    }
    return out;
  }
}
