package org.diffxai.tf;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Shape and size of a {@link UNetBuilder} network. Mutable with fluent setters; {@link #validate()} checks that the
 * pieces fit together (every level halves H and W, GroupNorm groups divide every channel count).
 */
public final class UNetConfig {
  private int height = 64;
  private int width = 64;
  private int channels = 1;
  private int conditionChannels;
  private int numClasses;
  private int baseChannels = 32;
  private int[] channelMultipliers = {1, 2, 2};
  private int layersPerBlock = 1;
  private int groups = 8;
  private boolean attention = true;
  private boolean unconditionalLabel;

  public UNetConfig() {}

  public UNetConfig(UNetConfig o) {
    height = o.height;
    width = o.width;
    channels = o.channels;
    conditionChannels = o.conditionChannels;
    numClasses = o.numClasses;
    baseChannels = o.baseChannels;
    channelMultipliers = o.channelMultipliers.clone();
    layersPerBlock = o.layersPerBlock;
    groups = o.groups;
    attention = o.attention;
    unconditionalLabel = o.unconditionalLabel;
  }

  public UNetConfig size(int h, int w) {
    height = h;
    width = w;
    return this;
  }

  public UNetConfig channels(int c) {
    channels = c;
    return this;
  }

  /** Extra input channels K concatenated to x (0: no {@code condition} input). */
  public UNetConfig conditionChannels(int k) {
    conditionChannels = k;
    return this;
  }

  /** Number of classes (0: unconditional, no {@code label} input). */
  public UNetConfig numClasses(int n) {
    numClasses = n;
    return this;
  }

  public UNetConfig baseChannels(int b) {
    baseChannels = b;
    return this;
  }

  /** Channel multiplier per resolution level; the number of entries is the number of levels. */
  public UNetConfig channelMultipliers(int... m) {
    channelMultipliers = m.clone();
    return this;
  }

  public UNetConfig layersPerBlock(int n) {
    layersPerBlock = n;
    return this;
  }

  public UNetConfig groups(int g) {
    groups = g;
    return this;
  }

  /** Self-attention in the middle block (the lowest resolution). */
  public UNetConfig attention(boolean a) {
    attention = a;
    return this;
  }

  /**
   * One more class-embedding row, label value {@code numClasses}, that stands for "no class": the unconditional model
   * classifier-free guidance needs (Ho &amp; Salimans 2022). Class-conditional networks only.
   */
  public UNetConfig unconditionalLabel(boolean u) {
    unconditionalLabel = u;
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

  public int conditionChannels() {
    return conditionChannels;
  }

  public int numClasses() {
    return numClasses;
  }

  public int baseChannels() {
    return baseChannels;
  }

  public int[] channelMultipliers() {
    return channelMultipliers.clone();
  }

  public int levels() {
    return channelMultipliers.length;
  }

  public int layersPerBlock() {
    return layersPerBlock;
  }

  public int groups() {
    return groups;
  }

  public boolean attention() {
    return attention;
  }

  public boolean unconditionalLabel() {
    return unconditionalLabel;
  }

  /** Channels of resolution level {@code level}. */
  public int levelChannels(int level) {
    return baseChannels * channelMultipliers[level];
  }

  /** Throws IllegalArgumentException naming the first inconsistency. */
  public UNetConfig validate() {
    if (height < 1 || width < 1 || channels < 1) {
      throw new IllegalArgumentException("UNet needs positive height, width and channels, got " + height + "x" + width
          + "x" + channels);
    }
    if (conditionChannels < 0 || numClasses < 0) {
      throw new IllegalArgumentException("conditionChannels and numClasses must be >= 0");
    }
    if (unconditionalLabel && numClasses == 0) {
      throw new IllegalArgumentException("An unconditional label needs a class-conditional UNet (numClasses >= 2)");
    }
    if (numClasses == 1) {
      throw new IllegalArgumentException("A class-conditional UNet needs at least 2 classes (0 = unconditional)");
    }
    if (channelMultipliers.length < 1 || layersPerBlock < 1 || baseChannels < 1 || groups < 1) {
      throw new IllegalArgumentException("UNet needs >= 1 level, >= 1 layer per block, base channels and groups >= 1");
    }
    for (int m : channelMultipliers) {
      if (m < 1) throw new IllegalArgumentException("Channel multipliers must be >= 1: " + Arrays.toString(channelMultipliers));
    }
    int f = 1 << (channelMultipliers.length - 1);
    if (height % f != 0 || width % f != 0) {
      throw new IllegalArgumentException("Image size " + height + "x" + width + " must be divisible by " + f + " for "
          + channelMultipliers.length + " resolution levels");
    }
    // Every tensor that is group-normalised has a channel count that is a sum of multiples of baseChannels.
    if (baseChannels % groups != 0) {
      throw new IllegalArgumentException("GroupNorm groups (" + groups + ") must divide base channels (" + baseChannels
          + ")");
    }
    return this;
  }

  /** Key/value description for model.json. */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("architecture", "unet");
    m.put("base_channels", baseChannels);
    m.put("channel_multipliers", channelMultipliers.clone());
    m.put("layers_per_block", layersPerBlock);
    m.put("norm_groups", groups);
    m.put("attention", attention);
    if (unconditionalLabel) m.put("unconditional_label", numClasses);
    return m;
  }

  /** {@link #describe()} plus the sizes, classes and condition channels: what a resumed run must repeat. */
  Map<String, Object> resumeKeys() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("sample_size", new int[] {height, width});
    m.put("channels", channels);
    m.put("classes", numClasses);
    m.put("condition_channels", conditionChannels);
    m.putAll(describe());
    return m;
  }

  @Override
  public String toString() {
    return "UNet " + height + "x" + width + "x" + channels + " base=" + baseChannels + " mult="
        + Arrays.toString(channelMultipliers) + " layers=" + layersPerBlock + " groups=" + groups + " attention="
        + attention + " classes=" + numClasses + (unconditionalLabel ? "+unconditional" : "") + " condition="
        + conditionChannels;
  }
}
