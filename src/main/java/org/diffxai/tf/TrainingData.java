package org.diffxai.tf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.diffxai.io.Checksums;

/**
 * Training samples in model space (NHWC float32 per sample, typically in [-1, 1]), with optional class labels and
 * condition channels.
 */
public final class TrainingData {
  private final int height;
  private final int width;
  private final int channels;
  private final List<float[]> images;
  private final int[] labels;
  private final List<String> classNames;
  private final int conditionChannels;
  private final List<float[]> conditions;

  private TrainingData(int height, int width, int channels, List<float[]> images, int[] labels,
      List<String> classNames, int conditionChannels, List<float[]> conditions) {
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.images = images;
    this.labels = labels;
    this.classNames = classNames;
    this.conditionChannels = conditionChannels;
    this.conditions = conditions;
  }

  /** Unconditional data: each image has height*width*channels values. */
  public static TrainingData of(int height, int width, int channels, List<float[]> images) {
    return new TrainingData(height, width, channels, copy(images), null, Collections.<String>emptyList(), 0, null)
        .check();
  }

  /** Returns a copy with class labels (indices into {@code classNames}, at least 2 classes). */
  public TrainingData withLabels(int[] labels, List<String> classNames) {
    return new TrainingData(height, width, channels, images, labels.clone(),
        Collections.unmodifiableList(new ArrayList<>(classNames)), conditionChannels, conditions).check();
  }

  /** Returns a copy with K condition channels per sample (height*width*K values each). */
  public TrainingData withConditions(int k, List<float[]> conditions) {
    return new TrainingData(height, width, channels, images, labels, classNames, k, copy(conditions)).check();
  }

  private static List<float[]> copy(List<float[]> l) {
    return Collections.unmodifiableList(new ArrayList<>(l));
  }

  private TrainingData check() {
    if (images.isEmpty()) throw new IllegalArgumentException("No training images");
    int px = height * width * channels;
    for (float[] a : images) {
      if (a.length != px) throw new IllegalArgumentException("Image with " + a.length + " values, expected " + px);
    }
    if (labels != null) {
      if (labels.length != images.size()) throw new IllegalArgumentException("One label per image needed");
      if (classNames.size() < 2) throw new IllegalArgumentException("Class-conditional data needs >= 2 classes");
      for (int l : labels) {
        if (l < 0 || l >= classNames.size()) throw new IllegalArgumentException("Label out of range: " + l);
      }
    }
    if (conditions != null) {
      if (conditionChannels < 1) throw new IllegalArgumentException("Condition channels must be >= 1");
      if (conditions.size() != images.size()) throw new IllegalArgumentException("One condition per image needed");
      int cpx = height * width * conditionChannels;
      for (float[] a : conditions) {
        if (a.length != cpx) throw new IllegalArgumentException("Condition with " + a.length + " values, expected " + cpx);
      }
    }
    return this;
  }

  public int height() {
    return height;
  }

  public int width() {
    return width;
  }

  public int channels() {
    return channels;
  }

  public int count() {
    return images.size();
  }

  public float[] image(int i) {
    return images.get(i);
  }

  /** Labels, or null when unconditional. */
  public int[] labels() {
    return labels == null ? null : labels.clone();
  }

  int label(int i) {
    return labels[i];
  }

  public List<String> classNames() {
    return classNames;
  }

  public int numClasses() {
    return labels == null ? 0 : classNames.size();
  }

  public int conditionChannels() {
    return conditions == null ? 0 : conditionChannels;
  }

  /**
   * SHA-256 (hex) of everything training reads: H, W, C, the number of images, the float32 bits of every image in
   * order, the labels and class names, and the condition channels. A resumed training run must see the same
   * fingerprint.
   */
  public String fingerprint() {
    MessageDigest md = Checksums.sha256();
    ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : new int[] {height, width, channels, images.size(), conditionChannels()}) putInt(md, b, v);
    for (float[] a : images) {
      for (float v : a) putInt(md, b, Float.floatToRawIntBits(v));
    }
    if (labels != null) {
      for (int l : labels) putInt(md, b, l);
      for (String c : classNames) {
        for (byte x : (c + "\n").getBytes(StandardCharsets.UTF_8)) putInt(md, b, x);
      }
    }
    if (conditions != null) {
      for (float[] a : conditions) {
        for (float v : a) putInt(md, b, Float.floatToRawIntBits(v));
      }
    }
    b.flip();
    md.update(b);
    return Checksums.hex(md.digest());
  }

  private static void putInt(MessageDigest md, ByteBuffer b, int v) {
    if (b.remaining() < 4) {
      b.flip();
      md.update(b);
      b.clear();
    }
    b.putInt(v);
  }

  /** Condition of sample i, or null. */
  public float[] condition(int i) {
    return conditions == null ? null : conditions.get(i);
  }
}
