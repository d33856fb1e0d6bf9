package org.diffxai.io;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;

/**
 * Float planes of a (hyper)stack in ImageJ's order (channel fastest, then slice, then frame), each row-major, with
 * optional slice labels. Plain data holder; the arrays are not copied.
 */
public final class FloatStack implements Planes {
  public final int width;
  public final int height;
  public final int channels;
  public final int slices;
  public final int frames;
  private final float[][] planes;
  private final String[] labels;

  public FloatStack(int width, int height, int channels, int slices, int frames, float[][] planes, String[] labels) {
    if (planes.length != (long) channels * slices * frames) {
      throw new IllegalArgumentException(planes.length + " planes for c=" + channels + " z=" + slices + " t=" + frames);
    }
    for (float[] p : planes) {
      if (p.length != (long) width * height) {
        throw new IllegalArgumentException("plane of " + p.length + " values for " + width + "x" + height);
      }
    }
    this.width = width;
    this.height = height;
    this.channels = channels;
    this.slices = slices;
    this.frames = frames;
    this.planes = planes;
    this.labels = labels == null ? new String[planes.length] : Arrays.copyOf(labels, planes.length);
  }

  /** Number of planes, C x Z x T. */
  @Override
  public int planeCount() {
    return planes.length;
  }

  @Override
  public String name() {
    return "";
  }

  @Override
  public int width() {
    return width;
  }

  @Override
  public int height() {
    return height;
  }

  @Override
  public int channels() {
    return channels;
  }

  @Override
  public int slices() {
    return slices;
  }

  @Override
  public int frames() {
    return frames;
  }

  @Override
  public int bitDepth() {
    return 32;
  }

  @Override
  public Map<String, String> properties() {
    return Collections.emptyMap();
  }

  @Override
  public String description() {
    return null;
  }

  @Override
  public FloatStack toFloatStack() {
    return this;
  }

  /** Number of samples when each slice and frame is one sample of {@link #channels} channels: Z x T. */
  public int sampleCount() {
    return slices * frames;
  }

  /** Plane by 0-based index in ImageJ order. */
  @Override
  public float[] plane(int index) {
    return planes[index];
  }

  /** Plane (c, z, t), all 0-based. */
  public float[] plane(int c, int z, int t) {
    return planes[StreamingTiffWriter.planeIndex(c, z, t, channels, slices)];
  }

  /** Slice label of a plane (0-based index), or null. */
  @Override
  public String label(int index) {
    return labels[index];
  }

  /**
   * All samples flattened NHWC (N = Z x T samples, C channels), the layout of {@code org.diffxai.core.Denoiser}:
   * value (n, y, x, c) at {@code ((n * H + y) * W + x) * C + c}.
   */
  public float[] toNHWC() {
    int n = sampleCount();
    int hw = width * height;
    if ((long) n * hw * channels > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("stack too large for one array: " + n + " x " + hw + " x " + channels);
    }
    float[] out = new float[n * hw * channels];
    for (int s = 0; s < n; s++) {
      for (int c = 0; c < channels; c++) {
        float[] p = planes[s * channels + c];
        int base = s * hw * channels + c;
        for (int i = 0; i < hw; i++) out[base + i * channels] = p[i];
      }
    }
    return out;
  }

  /** 1-based ImageJ slice number and label of a plane, for messages: "slice 3 (label 'x', channel 2)". */
  String describe(int index) {
    StringBuilder sb = new StringBuilder("slice ").append(index + 1);
    String l = labels[index];
    boolean hyper = channels > 1;
    if (l != null || hyper) {
      sb.append(" (");
      if (l != null) sb.append("label '").append(l.length() > 60 ? l.substring(0, 60) + "..." : l).append('\'');
      if (hyper) {
        if (l != null) sb.append(", ");
        int c = index % channels, z = (index / channels) % slices, t = index / (channels * slices);
        sb.append("channel ").append(c + 1).append(", z ").append(z + 1).append(", t ").append(t + 1);
      }
      sb.append(')');
    }
    return sb.toString();
  }
}
