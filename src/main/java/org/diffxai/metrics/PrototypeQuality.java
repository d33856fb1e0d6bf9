package org.diffxai.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.core.PrototypeMaps;
import org.diffxai.core.Seeds;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.FloatStack;

/**
 * How good a prototype network's prototypes are, engine-free (docs/prototype-networks.md, "Prototype quality"): are
 * they distinct, pure, stable, and on the anatomy? Every measure works on any {@link PrototypeClassifier}; images are
 * flattened n·H·W in image intensity (one channel), masks and foregrounds one array of H·W per image.
 *
 * <ul>
 *   <li>{@link #distinctness}: duplicates are prototypes pushed onto the same source patch or whose vectors have a
 *       cosine similarity above {@value #DUPLICATE_COSINE} (the ProtoPNet failure of several prototypes on one patch);
 *       distinct = the number of groups of mutual duplicates.
 *   <li>{@link #purity}: after PIP-Net's purity (Nauta et al., CVPR 2023, §4.2), the share of a prototype's k nearest
 *       images whose nearest patch's 95th-percentile box overlaps the mask of an image of the prototype's class.
 *   <li>{@link #stability}: after Huang et al. 2023 ("Evaluation and improvement of interpretability for part-prototype
 *       based classifiers", stability under small Gaussian input noise): the share of an image's top prototypes that
 *       stay among its top prototypes, and of their peak latent cells that stay where they were, when Gaussian noise
 *       of a stated σ is added.
 *   <li>{@link #placement} and {@link #sourcePlacement}: the share of explanation boxes (or prototypes' source boxes)
 *       that lie outside the anatomy or touch the image border.
 * </ul>
 */
public final class PrototypeQuality {
  /** Cosine similarity above which two prototype vectors are duplicates ({@link PrototypeInfo#DUPLICATE_COSINE}). */
  public static final double DUPLICATE_COSINE = PrototypeInfo.DUPLICATE_COSINE;
  /** A box is outside the anatomy when less than this share of its pixels is foreground. */
  public static final double OUTSIDE_FOREGROUND_SHARE = 0.5;
  /** A mask pixel counts when its value is at least this (masks may hold partial-volume fractions). */
  public static final double MASK_LEVEL = 0.5;
  /** Images per model call. */
  private static final int BATCH = 32;

  private PrototypeQuality() {}

  // ------------------------------------------------------------------------------------------------ distinctness

  /** Distinct prototypes. */
  public static final class Distinctness {
    /** P. */
    public final int prototypes;
    /** Number of groups of mutual duplicates (a prototype without duplicates is a group of one). */
    public final int distinct;
    /** distinct / P. */
    public final double share;
    /** Per prototype, the smallest index of its group (p itself when it duplicates no earlier prototype). */
    public final int[] group;
    /** Prototypes with no weight on any class (a ProtoPool pool prototype no slot chose); they count in P. */
    public final int unused;

    Distinctness(int[] group, int distinct, int unused) {
      this.prototypes = group.length;
      this.distinct = distinct;
      this.share = distinct / (double) group.length;
      this.group = group;
      this.unused = unused;
    }
  }

  /**
   * Groups duplicate prototypes: p and q are duplicates when pushed onto the same patch of the same source image, or
   * when cos(v_p, v_q) &gt; {@value #DUPLICATE_COSINE}; groups are the connected components of that relation.
   */
  public static Distinctness distinctness(PrototypeClassifier c) {
    int p = c.prototypes();
    List<PrototypeInfo> infos = new ArrayList<>();
    for (int j = 0; j < p; j++) infos.add(c.prototype(j));
    float[][] w = c.lastLayer();
    int unused = 0;
    for (int j = 0; j < p; j++) {
      boolean any = false;
      for (float[] row : w) any |= row[j] != 0;
      if (!any) unused++;
    }
    return distinctness(infos, c.prototypeVectors(), unused);
  }

  static Distinctness distinctness(List<PrototypeInfo> infos, float[][] vectors, int unused) {
    int p = vectors.length;
    int[] parent = new int[p];
    for (int j = 0; j < p; j++) parent[j] = j;
    for (int i = 0; i < p; i++) {
      for (int j = i + 1; j < p; j++) {
        if (samePatch(infos.get(i), infos.get(j))
            || PrototypeInfo.cosine(vectors[i], vectors[j]) > DUPLICATE_COSINE) {
          union(parent, i, j);
        }
      }
    }
    int[] group = new int[p];
    int distinct = 0;
    for (int j = 0; j < p; j++) {
      group[j] = find(parent, j);
      if (group[j] == j) distinct++;
    }
    return new Distinctness(group, distinct, unused);
  }

  static boolean samePatch(PrototypeInfo a, PrototypeInfo b) {
    boolean sameImage = a.sourceImage != null && !a.sourceImage.isEmpty() ? a.sourceImage.equals(b.sourceImage)
        : a.sourceIndex == b.sourceIndex;
    return sameImage && a.patchRow == b.patchRow && a.patchCol == b.patchCol;
  }

  /** Union-find root with the smaller index as representative. */
  private static int find(int[] parent, int i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  }

  private static void union(int[] parent, int a, int b) {
    int ra = find(parent, a);
    int rb = find(parent, b);
    if (ra < rb) parent[rb] = ra;
    else if (rb < ra) parent[ra] = rb;
  }

  // ------------------------------------------------------------------------------------------------ purity

  /** Purity of every prototype. */
  public static final class Purity {
    /** Nearest images per prototype. */
    public final int k;
    /** Per prototype, the share of pure neighbours, or NaN when no image of its class has a non-empty mask. */
    public final double[] perPrototype;
    /** Mean over the prototypes where purity is defined (NaN when it is defined for none). */
    public final double mean;
    /** Number of prototypes where purity is defined. */
    public final int defined;

    Purity(int k, double[] perPrototype) {
      this.k = k;
      this.perPrototype = perPrototype;
      double s = 0;
      int d = 0;
      for (double v : perPrototype) {
        if (!Double.isNaN(v)) {
          s += v;
          d++;
        }
      }
      this.defined = d;
      this.mean = d == 0 ? Double.NaN : s / d;
    }
  }

  /**
   * Purity against masks (after Nauta et al. 2023, PIP-Net, §4.2, where a prototype is pure when its top-k image
   * patches show the same object part). For prototype p: every image i has its nearest latent patch to p (smallest
   * distance, the peak of p's similarity map) at distance d_i = minDistances[i][p]; the k images with the smallest d_i
   * (ties: lower index) are p's neighbours. A neighbour is <em>pure</em> when it belongs to p's class
   * ({@link PrototypeInfo#classIndex}) and p's 95th-percentile box on it (the box Explain shows: bicubic upsampled
   * similarity map, {@link PrototypeMaps}) holds at least one pixel of its mask at or above {@value #MASK_LEVEL}.
   * purity_p = pure neighbours / k; NaN when no image of p's class has a non-empty mask (e.g. healthy-class prototypes
   * against lesion masks).
   *
   * @param images n·H·W, image intensity
   * @param labels class index per image
   * @param masks per image H·W values (e.g. the lesion mask; empty/zero for images without)
   * @param k neighbours per prototype (PIP-Net uses 10); at most n
   */
  public static Purity purity(PrototypeClassifier c, float[] images, int n, int[] labels, float[][] masks, int k) {
    int h = c.height();
    int w = c.width();
    int px = h * w;
    checkImages(c, images, n);
    if (labels.length != n || masks.length != n) {
      throw new IllegalArgumentException(labels.length + " labels and " + masks.length + " masks for " + n + " images");
    }
    if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
    k = Math.min(k, n);
    int p = c.prototypes();
    float[][] minD = new float[n][];
    for (int from = 0; from < n; from += BATCH) {
      int m = Math.min(BATCH, n - from);
      PrototypeActivations a = c.activations(Arrays.copyOfRange(images, from * px, (from + m) * px), m);
      System.arraycopy(a.minDistances, 0, minD, from, m);
    }
    double[] purity = new double[p];
    for (int q = 0; q < p; q++) {
      int cls = c.prototype(q).classIndex;
      boolean anyMask = false;
      for (int i = 0; i < n && !anyMask; i++) anyMask = labels[i] == cls && nonEmpty(masks[i]);
      if (!anyMask) {
        purity[q] = Double.NaN;
        continue;
      }
      final int proto = q;
      Integer[] order = new Integer[n];
      for (int i = 0; i < n; i++) order[i] = i;
      Arrays.sort(order, (u, v) -> {
        int d = Float.compare(minD[u][proto], minD[v][proto]);
        return d != 0 ? d : Integer.compare(u, v);
      });
      float[] nb = new float[k * px];
      for (int r = 0; r < k; r++) System.arraycopy(images, order[r] * px, nb, r * px, px);
      PrototypeActivations a = c.activations(nb, k);
      int pure = 0;
      for (int r = 0; r < k; r++) {
        int i = order[r];
        if (labels[i] != cls) continue;
        int[] box = PrototypeMaps.percentileBox(upsampled(c, a.similarity[r], q), h, w,
            PrototypeExplainer.BOX_PERCENTILE);
        if (maskInBox(masks[i], w, box)) pure++;
      }
      purity[q] = pure / (double) k;
    }
    return new Purity(k, purity);
  }

  private static boolean nonEmpty(float[] mask) {
    for (float v : mask) if (v >= MASK_LEVEL) return true;
    return false;
  }

  private static boolean maskInBox(float[] mask, int width, int[] box) {
    for (int y = box[1]; y < box[1] + box[3]; y++) {
      for (int x = box[0]; x < box[0] + box[2]; x++) {
        if (mask[y * width + x] >= MASK_LEVEL) return true;
      }
    }
    return false;
  }

  /** Prototype q's similarity map of one image, bicubic-upsampled to the model's input size. */
  private static float[] upsampled(PrototypeClassifier c, float[] similarity, int q) {
    int mh = c.mapHeight();
    int mw = c.mapWidth();
    int p = c.prototypes();
    float[] grid = new float[mh * mw];
    for (int cell = 0; cell < grid.length; cell++) grid[cell] = similarity[cell * p + q];
    return PrototypeMaps.upsampleBicubic(grid, mh, mw, c.height(), c.width());
  }

  // ------------------------------------------------------------------------------------------------ stability

  /** Stability of the top prototypes under input noise. */
  public static final class Stability {
    /** Standard deviation of the added noise, image intensity. */
    public final double sigma;
    public final int top;
    public final int runs;
    /** Mean over images and runs of |top(x) ∩ top(x + ε)| / top. */
    public final double topShare;
    /** Mean over images, runs and the clean top prototypes of [peak latent cell unchanged]. */
    public final double locationShare;

    Stability(double sigma, int top, int runs, double topShare, double locationShare) {
      this.sigma = sigma;
      this.top = top;
      this.runs = runs;
      this.topShare = topShare;
      this.locationShare = locationShare;
    }
  }

  /**
   * Stability of explanations under small Gaussian input noise (after Huang et al. 2023, whose stability score asks
   * whether a prototype still activates on the same part of a perturbed image). For every image x and run r, x' = x +
   * σ·ε with ε drawn from {@code Seeds.gaussian(seed, "prototype-quality.stability", i·runs + r)}. The top prototypes
   * are the {@code top} largest contributions to the clean image's predicted class (as Explain ranks them), on x and
   * on x' for that same class. Reported: the mean share of x's top prototypes still among x''s, and the mean share of
   * x's top prototypes whose peak latent cell (argmax of the similarity map; ties: lower cell index) is unchanged.
   *
   * @param sigma noise standard deviation in image intensity ({@link #noiseSigma} gives a relative default)
   */
  public static Stability stability(PrototypeClassifier c, float[] images, int n, int top, double sigma, int runs,
      long seed) {
    checkImages(c, images, n);
    if (top < 1 || runs < 1) throw new IllegalArgumentException("top and runs must be >= 1");
    if (!(sigma >= 0) || Double.isInfinite(sigma)) throw new IllegalArgumentException("sigma " + sigma);
    int px = c.height() * c.width();
    int p = c.prototypes();
    top = Math.min(top, p);
    float[][] w = c.lastLayer();
    double topSum = 0;
    double locSum = 0;
    for (int from = 0; from < n; from += BATCH) {
      int m = Math.min(BATCH, n - from);
      float[] x = Arrays.copyOfRange(images, from * px, (from + m) * px);
      PrototypeActivations clean = c.activations(x, m);
      int[][] cleanTop = new int[m][];
      int[] target = new int[m];
      for (int i = 0; i < m; i++) {
        target[i] = argmax(clean.logits[i]);
        cleanTop[i] = topPrototypes(clean.scores[i], w[target[i]], top);
      }
      for (int r = 0; r < runs; r++) {
        float[] noisy = x.clone();
        for (int i = 0; i < m; i++) {
          GaussianNoise g = Seeds.gaussian(seed, "prototype-quality.stability", (long) (from + i) * runs + r);
          for (int j = i * px; j < (i + 1) * px; j++) noisy[j] += (float) (sigma * g.nextGaussian());
        }
        PrototypeActivations a = c.activations(noisy, m);
        for (int i = 0; i < m; i++) {
          int[] t = topPrototypes(a.scores[i], w[target[i]], top);
          int kept = 0;
          int same = 0;
          for (int q : cleanTop[i]) {
            for (int u : t) if (u == q) kept++;
            if (peakCell(clean.similarity[i], q, p) == peakCell(a.similarity[i], q, p)) same++;
          }
          topSum += kept / (double) top;
          locSum += same / (double) top;
        }
      }
    }
    return new Stability(sigma, top, runs, topSum / ((double) n * runs), locSum / ((double) n * runs));
  }

  /**
   * A noise σ relative to the images' intensity span: {@code fraction} × (99.5th − 0.5th percentile of all pixels).
   */
  public static double noiseSigma(float[] images, double fraction) {
    float[] s = images.clone();
    Arrays.sort(s);
    return fraction * (s[(int) Math.floor(0.995 * (s.length - 1))] - s[(int) Math.ceil(0.005 * (s.length - 1))]);
  }

  /** The {@code top} prototypes with the largest score × weight (ties: lower index), as Explain ranks them. */
  static int[] topPrototypes(float[] scores, float[] weights, int top) {
    Integer[] order = new Integer[scores.length];
    for (int k = 0; k < order.length; k++) order[k] = k;
    Arrays.sort(order, (u, v) -> {
      int c = Double.compare((double) scores[v] * weights[v], (double) scores[u] * weights[u]);
      return c != 0 ? c : Integer.compare(u, v);
    });
    int[] t = new int[top];
    for (int k = 0; k < top; k++) t[k] = order[k];
    return t;
  }

  private static int peakCell(float[] similarity, int q, int p) {
    int best = 0;
    for (int cell = 1; cell * p + q < similarity.length; cell++) {
      if (similarity[cell * p + q] > similarity[best * p + q]) best = cell;
    }
    return best;
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
    return best;
  }

  // ------------------------------------------------------------------------------------------------ placement

  /** Where boxes lie relative to the anatomy. */
  public static final class Placement {
    public final int boxes;
    /** Boxes with less than {@value PrototypeQuality#OUTSIDE_FOREGROUND_SHARE} of their pixels in the foreground. */
    public final int outside;
    /** Boxes touching the image border (x = 0, y = 0, x + w = W or y + h = H). */
    public final int border;
    /** Mean share of a box's pixels in the foreground. */
    public final double meanForeground;

    Placement(int boxes, int outside, int border, double meanForeground) {
      this.boxes = boxes;
      this.outside = outside;
      this.border = border;
      this.meanForeground = meanForeground;
    }

    public double outsideShare() {
      return boxes == 0 ? Double.NaN : outside / (double) boxes;
    }

    public double borderShare() {
      return boxes == 0 ? Double.NaN : border / (double) boxes;
    }
  }

  /**
   * The boxes Explain with Prototypes shows for these images (the {@code top} largest contributions to each image's
   * predicted class, 95th-percentile boxes of the upsampled maps) against each image's foreground.
   *
   * @param foreground per image H·W flags, true inside the anatomy
   */
  public static Placement placement(PrototypeClassifier c, float[] images, int n, int top, boolean[][] foreground) {
    checkImages(c, images, n);
    if (foreground.length != n) throw new IllegalArgumentException(foreground.length + " masks for " + n + " images");
    int h = c.height();
    int w = c.width();
    float[][] planes = new float[n][];
    for (int i = 0; i < n; i++) planes[i] = Arrays.copyOfRange(images, i * h * w, (i + 1) * h * w);
    List<Explanation> ex = new PrototypeExplainer(c, "model").explain(new FloatStack(w, h, 1, n, 1, planes, null),
        top, -1, BATCH, "images", org.diffxai.core.Progress.NONE);
    return placement(ex, foreground, w, h);
  }

  /**
   * The boxes of explanations already computed (e.g. by Explain with Prototypes, in the explained images' pixels)
   * against each explained slice's foreground.
   *
   * @param foreground per slice ({@link Explanation#slice}) width·height flags, true inside the anatomy
   */
  public static Placement placement(List<Explanation> explanations, boolean[][] foreground, int width, int height) {
    List<int[]> boxes = new ArrayList<>();
    List<boolean[]> fg = new ArrayList<>();
    for (Explanation e : explanations) {
      for (Explanation.Contribution t : e.top) {
        boxes.add(t.box);
        fg.add(foreground[e.slice]);
      }
    }
    return place(boxes, fg, width, height);
  }

  /**
   * The prototypes' own activation boxes (prototypes.json {@code activation_box}) in their source images.
   *
   * @param sourceForeground per prototype H·W flags: the foreground of its source image (the gallery plane)
   */
  public static Placement sourcePlacement(PrototypeClassifier c, boolean[][] sourceForeground) {
    int p = c.prototypes();
    if (sourceForeground.length != p) {
      throw new IllegalArgumentException(sourceForeground.length + " masks for " + p + " prototypes");
    }
    List<int[]> boxes = new ArrayList<>();
    for (int q = 0; q < p; q++) boxes.add(c.prototype(q).activationBox);
    return place(boxes, Arrays.asList(sourceForeground), c.width(), c.height());
  }

  static Placement place(List<int[]> boxes, List<boolean[]> foreground, int width, int height) {
    int outside = 0;
    int border = 0;
    double fgSum = 0;
    for (int b = 0; b < boxes.size(); b++) {
      int[] box = boxes.get(b);
      boolean[] f = foreground.get(b);
      if (f.length != width * height) {
        throw new IllegalArgumentException("foreground of " + f.length + " pixels for " + width + "x" + height);
      }
      double share = 1 - Localisation.boxOutsideFraction(box, f, width, height);
      fgSum += share;
      if (share < OUTSIDE_FOREGROUND_SHARE) outside++;
      if (Localisation.touchesBorder(box, width, height)) border++;
    }
    return new Placement(boxes.size(), outside, border, boxes.isEmpty() ? Double.NaN : fgSum / boxes.size());
  }

  private static void checkImages(PrototypeClassifier c, float[] images, int n) {
    if (c.channels() != 1) throw new IllegalArgumentException("prototype quality needs a 1-channel model");
    if (n < 1 || images.length != (long) n * c.height() * c.width()) {
      throw new IllegalArgumentException(images.length + " values for " + n + " images of " + c.height() + "x"
          + c.width());
    }
  }
}
