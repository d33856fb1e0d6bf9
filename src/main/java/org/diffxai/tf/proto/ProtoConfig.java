package org.diffxai.tf.proto;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.PrototypeMaps.ReceptiveField;
import org.diffxai.core.UserException;

/**
 * Architecture and loss weights of a prototype network. Mutable with fluent setters; {@link #validate()} before use.
 *
 * <p>Backbone (trained from scratch; no pretrained weights): a 3×3 convolution to {@code baseChannels}, then per level a
 * stride-2 3×3 convolution and a 3×3 convolution, ReLU after each, until the grid is at most 8×8 (64 px: 3 levels,
 * 8×8 latent grid; 256 px: 5 levels). Level channels are base·2, base·4, base·4, … Then the ProtoPNet add-on: 1×1
 * convolution to D, ReLU, 1×1 convolution to D, sigmoid (Chen et al. 2019, §2.1).
 */
public final class ProtoConfig {

  /** The three prototype-network methods. */
  public enum Method {
    /** ProtoPNet (Chen et al., "This Looks Like That", NeurIPS 2019). */
    PPNET("PPNet"),
    /** ProtoPNet with L2-normalised patches and prototypes (cosine distance) and a diversity regulariser. */
    EPPNET("EPPNet"),
    /** ProtoPool (Rymarczyk et al., "Interpretable Image Classification with Differentiable Prototypes Assignment", ECCV 2022). */
    PROTOPOOL("ProtoPool");

    private final String label;

    Method(String label) {
      this.label = label;
    }

    /** The name used in bundles and by the {@code method} key. */
    public String label() {
      return label;
    }

    /** Parses PPNet, EPPNet or ProtoPool (case-insensitive). */
    public static Method parse(String s) {
      String t = s == null ? "" : s.trim();
      for (Method m : values()) {
        if (m.label.equalsIgnoreCase(t)) return m;
      }
      throw new UserException("Unknown method '" + t + "'. Use method=PPNet, method=EPPNet or method=ProtoPool.");
    }

    @Override
    public String toString() {
      return label;
    }
  }

  private Method method = Method.PPNET;
  private int height = 64;
  private int width = 64;
  private int channels = 1;
  private int numClasses = 2;
  private int prototypesPerClass = 5;
  private int poolSize = 10;
  private int slotsPerClass = 3;
  private int baseChannels = 16;
  private int featureDepth = 32;
  private int maxGrid = 8;
  // Loss weights: ProtoPNet's (Chen et al. 2019, §2.2 and their settings.py: cluster 0.8, separation 0.08, L1 1e-4).
  private double clusterWeight = 0.8;
  private double separationWeight = 0.08;
  private double l1Weight = 1e-4;
  // Diversity of the prototype vectors (docs/prototype-networks.md): weight and cosine margin; NaN = the method's
  // default (EPPNet 0.1 and 0.5 over same-class pairs; PPNet and ProtoPool DIVERSITY_* over all pairs).
  private double diversityWeight = Double.NaN;
  private double diversityMargin = Double.NaN;
  /** PPNet's and ProtoPool's default diversity weight and margin (all prototype pairs; raw, positive vectors). */
  public static final double DIVERSITY_WEIGHT = 2;
  public static final double DIVERSITY_MARGIN = 0.95;
  // ProtoPool orthogonality weight (Rymarczyk et al. 2022 use 1).
  private double orthogonalityWeight = 1.0;
  /** ProtoPool: pool prototypes no slot chose, removed after training (ProtoTrainer.withoutUnchosen). */
  private int removedFromPool;

  public ProtoConfig() {}

  public ProtoConfig(ProtoConfig o) {
    method = o.method;
    height = o.height;
    width = o.width;
    channels = o.channels;
    numClasses = o.numClasses;
    prototypesPerClass = o.prototypesPerClass;
    poolSize = o.poolSize;
    slotsPerClass = o.slotsPerClass;
    baseChannels = o.baseChannels;
    featureDepth = o.featureDepth;
    maxGrid = o.maxGrid;
    clusterWeight = o.clusterWeight;
    separationWeight = o.separationWeight;
    l1Weight = o.l1Weight;
    diversityWeight = o.diversityWeight;
    diversityMargin = o.diversityMargin;
    orthogonalityWeight = o.orthogonalityWeight;
    removedFromPool = o.removedFromPool;
  }

  public ProtoConfig method(Method m) {
    method = m;
    return this;
  }

  public ProtoConfig size(int h, int w) {
    height = h;
    width = w;
    return this;
  }

  public ProtoConfig channels(int c) {
    channels = c;
    return this;
  }

  public ProtoConfig numClasses(int k) {
    numClasses = k;
    return this;
  }

  /** PPNet/EPPNet: prototypes per class m (P = K·m). */
  public ProtoConfig prototypesPerClass(int m) {
    prototypesPerClass = m;
    return this;
  }

  /** ProtoPool: number of shared prototypes (P). */
  public ProtoConfig poolSize(int n) {
    poolSize = n;
    return this;
  }

  /** ProtoPool: slots per class. */
  public ProtoConfig slotsPerClass(int n) {
    slotsPerClass = n;
    return this;
  }

  public ProtoConfig baseChannels(int c) {
    baseChannels = c;
    return this;
  }

  /** Depth D of latent patches and prototypes. */
  public ProtoConfig featureDepth(int d) {
    featureDepth = d;
    return this;
  }

  /** The backbone halves the image until the grid side is at most this. */
  public ProtoConfig maxGrid(int g) {
    maxGrid = g;
    return this;
  }

  public ProtoConfig clusterWeight(double w) {
    clusterWeight = w;
    return this;
  }

  public ProtoConfig separationWeight(double w) {
    separationWeight = w;
    return this;
  }

  public ProtoConfig diversityWeight(double w) {
    diversityWeight = w;
    return this;
  }

  public ProtoConfig orthogonalityWeight(double w) {
    orthogonalityWeight = w;
    return this;
  }

  public Method method() {
    return method;
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

  public int numClasses() {
    return numClasses;
  }

  public int prototypesPerClass() {
    return prototypesPerClass;
  }

  public int poolSize() {
    return poolSize;
  }

  public int slotsPerClass() {
    return slotsPerClass;
  }

  public int baseChannels() {
    return baseChannels;
  }

  public int featureDepth() {
    return featureDepth;
  }

  public double clusterWeight() {
    return clusterWeight;
  }

  public double separationWeight() {
    return separationWeight;
  }

  public double l1Weight() {
    return l1Weight;
  }

  /** Weight of the diversity term (0 switches it off). */
  public double diversityWeight() {
    if (!Double.isNaN(diversityWeight)) return diversityWeight;
    return method == Method.EPPNET ? 0.1 : DIVERSITY_WEIGHT;
  }

  /** Cosine similarity above which two prototypes pay the diversity term. */
  public double diversityMargin() {
    if (!Double.isNaN(diversityMargin)) return diversityMargin;
    return method == Method.EPPNET ? 0.5 : DIVERSITY_MARGIN;
  }

  public ProtoConfig diversityMargin(double m) {
    diversityMargin = m;
    return this;
  }

  /** True when the diversity term covers only pairs of prototypes of the same class (EPPNet); else all pairs. */
  public boolean diversitySameClassOnly() {
    return method == Method.EPPNET;
  }

  public double orthogonalityWeight() {
    return orthogonalityWeight;
  }

  /** ProtoPool: how many pool prototypes no slot chose were removed after training (0 before). */
  public int removedFromPool() {
    return removedFromPool;
  }

  ProtoConfig removedFromPool(int n) {
    removedFromPool = n;
    return this;
  }

  /** Number of prototypes P: K·m for PPNet/EPPNet, the pool size for ProtoPool. */
  public int prototypes() {
    return method == Method.PROTOPOOL ? poolSize : numClasses * prototypesPerClass;
  }

  /** Number of stride-2 levels of the backbone. */
  public int levels() {
    int l = 0;
    int h = height;
    int w = width;
    while ((h > maxGrid || w > maxGrid) && h % 2 == 0 && w % 2 == 0) {
      h /= 2;
      w /= 2;
      l++;
    }
    return l;
  }

  /** Output channels of level i (0-based): base·2, base·4, base·4, … */
  public int levelChannels(int level) {
    return baseChannels * (level == 0 ? 2 : 4);
  }

  public int gridHeight() {
    return height >> levels();
  }

  public int gridWidth() {
    return width >> levels();
  }

  /**
   * Receptive field of one latent patch, from the backbone's layers and TensorFlow's SAME padding (a stride-1 3×3
   * convolution pads 1 before; a stride-2 3×3 convolution on an even side pads 0 before and 1 after). The 1×1 add-on
   * layers do not change it.
   */
  public ReceptiveField receptiveField() {
    ReceptiveField rf = ReceptiveField.identity().then(3, 1, 1);
    for (int l = 0; l < levels(); l++) rf = rf.then(3, 2, 0).then(3, 1, 1);
    return rf;
  }

  /** Throws UserException naming the first bad value. */
  public ProtoConfig validate() {
    if (height < 8 || width < 8) throw new UserException("The image size must be at least 8 pixels, got " + height);
    if (channels < 1) throw new UserException("channels must be >= 1");
    if (numClasses < 2) {
      throw new UserException("A classifier needs at least 2 classes (sub-folders of images), got " + numClasses + ".");
    }
    if (method == Method.PROTOPOOL) {
      if (poolSize < 2) throw new UserException("pool_size must be >= 2, got " + poolSize + ".");
      if (slotsPerClass < 1) throw new UserException("slots_per_class must be >= 1, got " + slotsPerClass + ".");
      if (slotsPerClass > poolSize) {
        throw new UserException("slots_per_class (" + slotsPerClass + ") cannot exceed pool_size (" + poolSize + ").");
      }
    } else if (prototypesPerClass < 1) {
      throw new UserException("prototypes_per_class must be >= 1, got " + prototypesPerClass + ".");
    }
    if (baseChannels < 1) throw new UserException("base_channels must be >= 1, got " + baseChannels + ".");
    if (featureDepth < 1) throw new UserException("feature_depth must be >= 1, got " + featureDepth + ".");
    if (!(diversityWeight() >= 0)) throw new UserException("diversity must be >= 0, got " + diversityWeight() + ".");
    if (!(diversityMargin() >= -1 && diversityMargin() < 1)) {
      throw new UserException("The diversity margin must be in [-1, 1), got " + diversityMargin() + ".");
    }
    if (levels() == 0) {
      throw new UserException("The image size " + height + "x" + width + " cannot be halved towards an 8x8 latent "
          + "grid; use a size such as 64, 128 or 256.");
    }
    return this;
  }

  /** Architecture and loss settings for model.json and prototypes.json. */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", method.label());
    if (method == Method.PROTOPOOL) {
      m.put("pool_size", poolSize);
      m.put("slots_per_class", slotsPerClass);
      if (removedFromPool > 0) m.put("unchosen_removed", removedFromPool);
    } else {
      m.put("prototypes_per_class", prototypesPerClass);
    }
    m.put("prototypes", prototypes());
    m.put("base_channels", baseChannels);
    m.put("feature_depth", featureDepth);
    m.put("backbone_levels", levels());
    m.put("latent_grid", new int[] {gridHeight(), gridWidth()});
    m.put("distance", method == Method.EPPNET ? "squared L2 of L2-normalised vectors (2 - 2 cos)" : "squared L2");
    m.put("similarity", "log((d + 1) / (d + 1e-4))");
    m.put("score", method == Method.PROTOPOOL ? "focal: act(min d) - act(mean d)" : "act(min d) = max similarity");
    if (method == Method.PROTOPOOL) {
      m.put("orthogonality_weight", orthogonalityWeight);
    } else {
      m.put("cluster_weight", clusterWeight);
      m.put("separation_weight", separationWeight);
    }
    m.put("l1_weight", l1Weight);
    m.put("diversity_weight", diversityWeight());
    m.put("diversity_margin", diversityMargin());
    m.put("diversity_pairs", diversitySameClassOnly() ? "same class" : "all");
    return m;
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%s %dx%dx%d, %d classes, %d prototypes of depth %d, grid %dx%d", method, height,
        width, channels, numClasses, prototypes(), featureDepth, gridHeight(), gridWidth());
  }
}
