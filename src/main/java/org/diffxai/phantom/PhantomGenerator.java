package org.diffxai.phantom;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Procedural axial brain MRI slices ("phantoms") in two classes, {@code healthy} and {@code lesion}, deterministic
 * from (seed, index).
 *
 * <p>Model, outside in (anatomy as in any axial slice at the level of the lateral ventricles): scalp (thin skin,
 * subcutaneous fat), skull (cortical bone with a marrow/diploe layer), a CSF rim, the grey-matter cortex as a folded
 * ribbon of roughly constant thickness lining the brain surface, the sulci (CSF clefts with branches, the Sylvian
 * fissures) and the interhemispheric fissure, a white-matter core, deep grey matter (caudate heads, lentiform nuclei,
 * thalami), butterfly-shaped lateral ventricles (frontal horns diverging anteriorly, bodies, atria with choroid plexus,
 * occipital horns) and the third ventricle. Anterior is up.
 *
 * <p>Per-sample variation: head size, ellipticity, egg shape, position and rotation; layer thicknesses; number, depth,
 * direction and branching of sulci; ventricle size and left/right asymmetry; deep nuclei positions; tissue intensity
 * jitter, a smooth tissue texture and the global gain.
 *
 * <p>Lesion class: an irregular T1-hypointense (T2-hyperintense) mass with a necrotic core and a rim, surrounded by
 * finger-like vasogenic oedema that spreads in white matter and largely spares the cortex, placed at random in the
 * hemispheres away from the ventricles, with varied size and contrast, and a mass effect that pushes the ventricles,
 * midline and sulci away from it. A healthy slice and a lesion slice with the same (seed, index) share the anatomy,
 * bias field and texture: they form a matched pair whose difference is the lesion and its mass effect.
 *
 * <p>Imaging: tissues are rendered on a supersampled grid and box-averaged to the output grid, which gives
 * partial-volume mixing at every border; a smooth multiplicative bias field (exponential of a random quadratic
 * polynomial, as coil sensitivity varies slowly) multiplies the signal; the magnitude image carries Rician noise,
 * {@code |S + n_re + i n_im|} with independent Gaussian n (Gudbjartsson and Patz, "The Rician distribution of noisy MRI
 * data", Magn. Reson. Med. 34:910-914, 1995), so the background has mean sigma*sqrt(pi/2), not zero.
 *
 * <p>Coordinates are normalised to the image (half the shorter side is 1), so the same (seed, index) gives the same
 * anatomy at any size. Transcendental functions use {@link StrictMath} and random numbers {@link java.util.Random}
 * (both fully specified), so results are identical on every JVM.
 */
public final class PhantomGenerator {

  public static final int DEFAULT_SIZE = 64;
  /** Smallest supported side. */
  public static final int MIN_SIZE = 16;
  /** Largest supported side (a 1024x1024 slice needs about 80 MB of working memory). */
  public static final int MAX_SIZE = 1024;

  // Random streams derived from (seed, index)
  private static final int ANATOMY = 1, LESION = 2, NOISE_HEALTHY = 3, NOISE_LESION = 4;

  /** Number of rendered tissues (BACKGROUND to OEDEMA; the tissue jitter draws one number each). */
  private static final int NT = Tissue.OEDEMA.ordinal() + 1;
  private static final byte AIR = Tissue.BACKGROUND.code(), SKIN = Tissue.SKIN.code(), FAT = Tissue.FAT.code(),
      BONE = Tissue.BONE.code(), MARROW = Tissue.MARROW.code(), CSF = Tissue.CSF.code(),
      GM = Tissue.GREY_MATTER.code(), WM = Tissue.WHITE_MATTER.code(), DEEP = Tissue.DEEP_GREY_MATTER.code(),
      VENT = Tissue.VENTRICLE.code(), CHOROID = Tissue.CHOROID_PLEXUS.code(), CORE = Tissue.LESION_CORE.code(),
      RIM = Tissue.LESION_RIM.code(), OEDEMA = Tissue.OEDEMA.code();
  /** Marks parenchyma before the cortex/white-matter split (never left in the output). */
  private static final byte PARENCHYMA = -1;

  private final int width;
  private final int height;
  private final Contrast contrast;
  private final boolean noise;
  private final boolean biasField;
  private final boolean massEffect;

  /** Square T1 phantoms of the given side. */
  public PhantomGenerator(int size) {
    this(size, size, Contrast.T1);
  }

  public PhantomGenerator(int width, int height, Contrast contrast) {
    this(width, height, contrast, true, true, true);
  }

  private PhantomGenerator(int width, int height, Contrast contrast, boolean noise, boolean biasField,
      boolean massEffect) {
    if (width < MIN_SIZE || height < MIN_SIZE || width > MAX_SIZE || height > MAX_SIZE) {
      throw new IllegalArgumentException(
          "phantom size must be " + MIN_SIZE + ".." + MAX_SIZE + " pixels per side; got " + width + "x" + height);
    }
    if (contrast == null) throw new IllegalArgumentException("contrast is null");
    this.width = width;
    this.height = height;
    this.contrast = contrast;
    this.noise = noise;
    this.biasField = biasField;
    this.massEffect = massEffect;
  }

  /** A copy that adds Rician noise (default) or not. */
  public PhantomGenerator withNoise(boolean on) {
    return new PhantomGenerator(width, height, contrast, on, biasField, massEffect);
  }

  /** A copy that applies the bias field (default) or not. */
  public PhantomGenerator withBiasField(boolean on) {
    return new PhantomGenerator(width, height, contrast, noise, on, massEffect);
  }

  /**
   * A copy whose lesions displace the surrounding anatomy (default) or not. Without the mass effect a lesion slice
   * differs from its healthy pair exactly at its {@link Phantom#lesionPixels} (noise aside): a ground-truth check.
   * The random draws are the same either way.
   */
  public PhantomGenerator withMassEffect(boolean on) {
    return new PhantomGenerator(width, height, contrast, noise, biasField, on);
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  public Contrast contrast() {
    return contrast;
  }

  /**
   * Generates slice {@code index} of the given class. The same arguments always give the same arrays.
   *
   * @param lesion false for {@code healthy}, true for {@code lesion}
   */
  public Phantom generate(long seed, int index, boolean lesion) {
    Anatomy an = new Anatomy(new Random(streamSeed(seed, index, ANATOMY)));
    Lesion les = lesion ? new Lesion(new Random(streamSeed(seed, index, LESION)), an) : null;
    Random noiseRng = new Random(streamSeed(seed, index, lesion ? NOISE_LESION : NOISE_HEALTHY));
    return render(an, les, noiseRng);
  }

  /** SplitMix64 finaliser over (seed, index, stream): independent, well-mixed seeds for java.util.Random. */
  static long streamSeed(long seed, int index, int stream) {
    long z = seed + 0x9E3779B97F4A7C15L * (index + 1L) + 0xD1B54A32D192ED03L * stream;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Tissue intensities. T1: fat > WM > deep GM > GM > CSF, bone dark; T2: CSF > GM > deep GM > WM, fat still bright
  // (fast spin echo). Lesion: T1 core darkest, rim and oedema hypointense to white matter; T2 the reverse.

  private static double[] intensities(Contrast c) {
    double[] t = new double[NT];
    boolean t1 = c == Contrast.T1;
    t[SKIN] = t1 ? 0.45 : 0.40;
    t[FAT] = t1 ? 0.88 : 0.62;
    t[BONE] = 0.04;
    t[MARROW] = t1 ? 0.42 : 0.45;
    t[CSF] = t1 ? 0.12 : 0.95;
    t[GM] = t1 ? 0.45 : 0.58;
    t[WM] = t1 ? 0.70 : 0.40;
    t[DEEP] = t1 ? 0.56 : 0.48;
    t[VENT] = t[CSF];
    t[CHOROID] = t1 ? 0.38 : 0.55;
    t[CORE] = t1 ? 0.18 : 0.88;
    t[RIM] = t1 ? 0.38 : 0.55;
    t[OEDEMA] = t1 ? 0.50 : 0.76;
    return t;
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** Supersampling factor: at least 2, and at least 256 samples across the shorter side. */
  private int supersampling() {
    return Math.max(2, Math.min(8, (int) Math.ceil(256.0 / Math.min(width, height))));
  }

  /** Approximate temporary memory of one {@link #generate} call, in bytes (the supersampled working arrays). */
  public long workingMemoryBytes() {
    long s = supersampling();
    return width * s * height * s * 19L + width * (long) height * 14L;
  }

  private Phantom render(Anatomy an, Lesion les, Random noiseRng) {
    int s = supersampling();
    int sw = width * s, sh = height * s;
    double unit = Math.min(width, height) / 2.0; // output pixels per normalised unit
    double delta = 1 / (unit * s); // super-pixel size in normalised units
    int n = sw * sh;
    byte[] cls = new byte[n];
    byte[] deep = new byte[n]; // ventricle or choroid plexus inside parenchyma (0 = none)
    float[] deepW = new float[n]; // weight of deep grey matter (soft-edged nuclei)
    byte[] lesCls = les == null ? null : new byte[n]; // lesion core/rim, applied after the cortex split
    float[] oed = les == null ? null : new float[n];
    double[] p = new double[2];

    for (int j = 0; j < sh; j++) {
      double y = ((j + 0.5) / s - height / 2.0) / unit;
      for (int i = 0; i < sw; i++) {
        double x = ((i + 0.5) / s - width / 2.0) / unit;
        int k = j * sw + i;
        an.toHead(x, y, p);
        double hx = p[0], hy = p[1];
        double aEff = an.aEff(hy);
        double ex = hx / aEff, ey = hy / an.b;
        double rho = Math.sqrt(ex * ex + ey * ey);
        if (rho >= 1) {
          cls[k] = AIR;
          continue;
        }
        if (rho >= 1 - an.tScalp * an.skinFrac) {
          cls[k] = SKIN;
          continue;
        }
        if (rho >= an.rhoSkullOut) {
          cls[k] = FAT;
          continue;
        }
        double phi = StrictMath.atan2(ey, ex);
        if (rho >= an.rhoSkullIn) {
          double f = (an.rhoSkullOut - rho) / (an.rhoSkullOut - an.rhoSkullIn);
          double mid = 0.5 + 0.08 * StrictMath.sin(3 * phi + an.diploePhase);
          cls[k] = Math.abs(f - mid) < an.diploeHalf ? MARROW : BONE;
          continue;
        }
        if (rho >= an.pial(phi)) {
          cls[k] = CSF;
          continue;
        }
        // intracranial, inside the pial surface: anatomy displaced by the lesion's mass effect
        double qx = hx, qy = hy;
        if (les != null && massEffect) {
          les.warp(hx, hy, p);
          qx = p[0];
          qy = p[1];
        }
        if (an.inCleft(qx, qy)) {
          cls[k] = CSF;
        } else {
          cls[k] = PARENCHYMA;
          deep[k] = an.ventricleClass(qx, qy);
          if (deep[k] == 0) deepW[k] = (float) an.deepGreyWeight(qx, qy);
        }
        if (les != null) {
          double dx = hx - les.cx, dy = hy - les.cy;
          double d = Math.sqrt(dx * dx + dy * dy);
          if (d < les.outerReach) {
            double th = StrictMath.atan2(dy, dx);
            double r = les.radius(th);
            if (d < r * les.coreFrac) lesCls[k] = CORE;
            else if (d < r) lesCls[k] = RIM;
            else oed[k] = (float) les.oedema(d, r, th);
          }
        }
      }
    }

    // Cortex: parenchyma within tGm of CSF (outer surface, sulci, fissures) is grey matter. Exact Euclidean distance
    // transform (Felzenszwalb and Huttenlocher, "Distance transforms of sampled functions", Theory of Computing 8,
    // 2012) on the supersampled grid.
    double[] dist2 = distanceToNonParenchyma(cls, sw, sh);
    double tGm2 = (an.tGm / delta) * (an.tGm / delta);
    for (int k = 0; k < n; k++) {
      if (cls[k] == PARENCHYMA) cls[k] = deep[k] != 0 ? deep[k] : dist2[k] < tGm2 ? GM : WM;
    }

    // Intensities on the supersampled grid, box-averaged (partial volume) one output row at a time; then gain, bias
    // field and noise per output pixel, in row-major order.
    double[] tab = intensities(contrast);
    for (int t = 0; t < NT; t++) tab[t] *= an.jitter[t];
    double kappa = les == null ? 0 : les.contrast;
    double[] box = new double[width]; // extracranial signal
    double[] boxIn = new double[width]; // intracranial signal (carries the tissue texture)
    double[] boxIn0 = les == null ? null : new double[width]; // the same without the lesion's tissue
    boolean[] lesionPixels = new boolean[width * height];
    int[] counts = new int[width * NT];
    float[] lesionFrac = new float[width * height];
    byte[] tissue = new byte[width * height];
    float[] clean = new float[width * height];
    float[] pixels = new float[width * height];
    double inv = 1.0 / (s * s);
    for (int oy = 0; oy < height; oy++) {
      Arrays.fill(box, 0);
      Arrays.fill(boxIn, 0);
      if (boxIn0 != null) Arrays.fill(boxIn0, 0);
      Arrays.fill(counts, 0);
      for (int j = oy * s; j < (oy + 1) * s; j++) {
        for (int i = 0; i < sw; i++) {
          int k = j * sw + i;
          byte h = cls[k]; // the anatomy (after the mass effect)
          byte c = lesCls != null && lesCls[k] != 0 ? lesCls[k] : h;
          double v;
          byte label = c;
          if (c == CORE || c == RIM) {
            v = tab[WM] + kappa * (tab[c] - tab[WM]);
          } else {
            v = anatomyValue(tab, c, deepW[k]);
            if (deepW[k] > 0.5 && (c == WM || c == GM)) {
              label = DEEP;
              c = DEEP;
            }
            if (oed != null && oed[k] > 0) {
              double e = oed[k] * kappa;
              if (c == WM || c == DEEP) {
                v += e * (tab[OEDEMA] - v);
                if (oed[k] > 0.5) label = OEDEMA;
              } else if (c == GM) {
                v += 0.3 * e * (tab[OEDEMA] - v); // vasogenic oedema largely spares the cortex
              }
            }
          }
          int ox = i / s;
          if (c >= CSF) boxIn[ox] += v;
          else box[ox] += v;
          if (boxIn0 != null && h >= CSF) boxIn0[ox] += anatomyValue(tab, h, deepW[k]);
          counts[ox * NT + label]++;
          if (label == CORE || label == RIM || label == OEDEMA) lesionFrac[oy * width + ox] += 1;
        }
      }
      double y = (oy + 0.5 - height / 2.0) / unit;
      for (int ox = 0; ox < width; ox++) {
        double x = (ox + 0.5 - width / 2.0) / unit;
        int o = oy * width + ox;
        lesionFrac[o] *= inv;
        int best = 0;
        for (int t = 1; t < NT; t++) {
          if (counts[ox * NT + t] > counts[ox * NT + best]) best = t;
        }
        tissue[o] = (byte) best;
        // smooth tissue texture inside the skull (it varies over ~1/4 of the image: constant within a pixel)
        double tex = 1 + an.textureAmp * an.texture(x, y);
        double sig = (box[ox] + boxIn[ox] * tex) * inv * an.gain;
        if (biasField) sig *= an.bias(x, y);
        clean[o] = (float) sig;
        if (boxIn0 != null) {
          // the same pixel with the lesion's tissue (core, rim, oedema) left out and the mass effect kept
          double sig0 = (box[ox] + boxIn0[ox] * tex) * inv * an.gain;
          if (biasField) sig0 *= an.bias(x, y);
          lesionPixels[o] = (float) sig0 != clean[o];
        }
        if (noise) {
          // Rician magnitude: |S + n_re + i n_im| (Gudbjartsson and Patz 1995)
          double re = sig + an.sigma * noiseRng.nextGaussian();
          double im = an.sigma * noiseRng.nextGaussian();
          pixels[o] = (float) Math.sqrt(re * re + im * im);
        } else {
          pixels[o] = (float) sig;
        }
      }
    }
    return new Phantom(width, height, les != null, pixels, clean, tissue, lesionFrac, lesionPixels,
        noise ? an.sigma : 0);
  }

  /** Signal of an anatomical class on the supersampled grid, blended towards deep grey matter by its weight. */
  private static double anatomyValue(double[] tab, byte c, float deepWeight) {
    double v = tab[c];
    if (deepWeight > 0 && (c == WM || c == GM)) v += deepWeight * (tab[DEEP] - v);
    return v;
  }

  /** Squared distance (in super-pixels) from each parenchyma pixel to the nearest non-parenchyma pixel. */
  private static double[] distanceToNonParenchyma(byte[] cls, int w, int h) {
    final double inf = 1e20;
    double[] g = new double[w * h];
    for (int k = 0; k < g.length; k++) g[k] = cls[k] == PARENCHYMA ? inf : 0;
    int m = Math.max(w, h);
    double[] f = new double[m], d = new double[m], z = new double[m + 1];
    int[] v = new int[m];
    for (int x = 0; x < w; x++) { // columns
      for (int y = 0; y < h; y++) f[y] = g[y * w + x];
      edt1d(f, h, d, v, z);
      for (int y = 0; y < h; y++) g[y * w + x] = d[y];
    }
    for (int y = 0; y < h; y++) { // rows
      System.arraycopy(g, y * w, f, 0, w);
      edt1d(f, w, d, v, z);
      System.arraycopy(d, 0, g, y * w, w);
    }
    return g;
  }

  /** 1-D squared distance transform: lower envelope of parabolas (Felzenszwalb and Huttenlocher 2012). */
  private static void edt1d(double[] f, int n, double[] d, int[] v, double[] z) {
    int k = 0;
    v[0] = 0;
    z[0] = Double.NEGATIVE_INFINITY;
    z[1] = Double.POSITIVE_INFINITY;
    for (int q = 1; q < n; q++) {
      double s = intersection(f, q, v[k]);
      while (s <= z[k]) { // z[0] = -infinity ends the loop
        k--;
        s = intersection(f, q, v[k]);
      }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = Double.POSITIVE_INFINITY;
    }
    k = 0;
    for (int q = 0; q < n; q++) {
      while (z[k + 1] < q) k++;
      double dq = q - v[k];
      d[q] = dq * dq + f[v[k]];
    }
  }

  /** Abscissa where the parabolas rooted at q and r intersect. */
  private static double intersection(double[] f, int q, int r) {
    return ((f[q] + (double) q * q) - (f[r] + (double) r * r)) / (2.0 * q - 2.0 * r);
  }

  // ---------------------------------------------------------------------------------------------------------------

  private static double uniform(Random r, double lo, double hi) {
    return lo + (hi - lo) * r.nextDouble();
  }

  /** A capsule-like segment with linearly varying half-width, for clefts and ventricles. */
  static final class Segment {
    final double x0, y0, x1, y1, r0, r1;
    final double minX, maxX, minY, maxY, dx, dy, len2;

    Segment(double x0, double y0, double x1, double y1, double r0, double r1) {
      this.x0 = x0;
      this.y0 = y0;
      this.x1 = x1;
      this.y1 = y1;
      this.r0 = r0;
      this.r1 = r1;
      double r = Math.max(r0, r1);
      minX = Math.min(x0, x1) - r;
      maxX = Math.max(x0, x1) + r;
      minY = Math.min(y0, y1) - r;
      maxY = Math.max(y0, y1) + r;
      dx = x1 - x0;
      dy = y1 - y0;
      len2 = dx * dx + dy * dy;
    }

    boolean contains(double x, double y) {
      if (x < minX || x > maxX || y < minY || y > maxY) return false;
      double t = len2 == 0 ? 0 : ((x - x0) * dx + (y - y0) * dy) / len2;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      double px = x0 + t * dx - x, py = y0 + t * dy - y;
      double r = r0 + t * (r1 - r0);
      return px * px + py * py < r * r;
    }
  }

  /** An ellipse with rotation, in head coordinates. */
  static final class Ellipse {
    final double cx, cy, ax, ay, cos, sin;

    Ellipse(double cx, double cy, double ax, double ay, double angle) {
      this.cx = cx;
      this.cy = cy;
      this.ax = ax;
      this.ay = ay;
      this.cos = StrictMath.cos(angle);
      this.sin = StrictMath.sin(angle);
    }

    boolean contains(double x, double y) {
      return radius2(x, y) < 1;
    }

    /** 1 inside 0.75 of the ellipse, 0 outside 1.15 of it, smooth in between. */
    double softWeight(double x, double y) {
      double r2 = radius2(x, y);
      if (r2 >= 1.15 * 1.15) return 0;
      if (r2 <= 0.75 * 0.75) return 1;
      double t = (Math.sqrt(r2) - 0.75) / 0.4;
      return 1 - t * t * (3 - 2 * t);
    }

    private double radius2(double x, double y) {
      double dx = x - cx, dy = y - cy;
      double u = (cos * dx + sin * dy) / ax, v = (-sin * dx + cos * dy) / ay;
      return u * u + v * v;
    }
  }

  /**
   * One subject's anatomy and acquisition. Head coordinates: origin at the head centre, axes along the head's
   * left-right (x) and anterior-posterior (y, anterior negative = up) directions, in normalised units.
   */
  static final class Anatomy {
    final double cx, cy, cosR, sinR;
    final double a, b, egg;
    final double tScalp, skinFrac, rhoSkullOut, rhoSkullIn, rhoPial0;
    final double diploeHalf, diploePhase;
    final int[] pialM = new int[3];
    final double[] pialAmp = new double[3], pialPh = new double[3];
    final double bx, by; // brain semi-axes (for placing deep structures in "brain units")
    final double tGm;
    final List<Segment> clefts = new ArrayList<>();
    static final int GRID = 24;
    static final double GRID_HALF = 1.2;
    final Segment[][] cleftGrid;
    final double ventMinX, ventMaxX, ventMinY, ventMaxY;
    final List<Segment> ventricles = new ArrayList<>();
    final List<Ellipse> deepGm = new ArrayList<>();
    final List<Ellipse> choroid = new ArrayList<>();
    final double[][] ventricleAxis = new double[2][]; // centre lines for lesion placement: x,y pairs
    final double[] jitter = new double[NT];
    final double gain, sigma, textureAmp;
    final double[] biasC = new double[5];
    final double[] tex;
    static final int TEX = 9;

    Anatomy(Random r) {
      cx = uniform(r, -0.03, 0.03);
      cy = uniform(r, -0.03, 0.03);
      double rot = uniform(r, -0.15, 0.15);
      cosR = StrictMath.cos(rot);
      sinR = StrictMath.sin(rot);
      b = uniform(r, 0.80, 0.90);
      a = b * uniform(r, 0.76, 0.86);
      egg = uniform(r, 0.0, 0.06);
      tScalp = uniform(r, 0.06, 0.085);
      skinFrac = uniform(r, 0.15, 0.25);
      rhoSkullOut = 1 - tScalp;
      rhoSkullIn = rhoSkullOut - uniform(r, 0.045, 0.06);
      rhoPial0 = rhoSkullIn - uniform(r, 0.018, 0.03);
      diploeHalf = uniform(r, 0.12, 0.2);
      diploePhase = uniform(r, 0, 2 * Math.PI);
      for (int i = 0; i < 3; i++) {
        pialM[i] = 4 + r.nextInt(6);
        pialAmp[i] = uniform(r, 0.002, 0.006);
        pialPh[i] = uniform(r, 0, 2 * Math.PI);
      }
      bx = a * rhoPial0;
      by = b * rhoPial0;
      tGm = uniform(r, 0.032, 0.044);

      // Interhemispheric fissure: anterior and posterior parts of the midline cleft (falx), not reaching the centre.
      double hwF = uniform(r, 0.006, 0.010);
      double vA = uniform(r, -0.55, -0.42) * by, vP = uniform(r, 0.55, 0.68) * by;
      clefts.add(new Segment(0, -1.5, 0, vA, hwF * 1.3, hwF));
      clefts.add(new Segment(0, vP, 0, 1.5, hwF, hwF * 1.3));

      for (int side = -1; side <= 1; side += 2) {
        addSulci(r, side);
        addSylvian(r, side);
      }
      addDeepStructures(r);
      cleftGrid = bucket(clefts);
      double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y0 = Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
      for (Segment sg : ventricles) {
        x0 = Math.min(x0, sg.minX);
        x1 = Math.max(x1, sg.maxX);
        y0 = Math.min(y0, sg.minY);
        y1 = Math.max(y1, sg.maxY);
      }
      ventMinX = x0;
      ventMaxX = x1;
      ventMinY = y0;
      ventMaxY = y1;

      for (int t = 0; t < NT; t++) jitter[t] = 1 + 0.03 * r.nextGaussian();
      gain = uniform(r, 0.92, 1.05);
      for (int i = 0; i < 5; i++) biasC[i] = 0.07 * r.nextGaussian();
      sigma = uniform(r, 0.012, 0.035);
      textureAmp = uniform(r, 0.015, 0.035);
      tex = new double[TEX * TEX];
      for (int i = 0; i < tex.length; i++) tex[i] = r.nextGaussian();
    }

    /** Image (normalised) to head coordinates. */
    void toHead(double x, double y, double[] out) {
      double dx = x - cx, dy = y - cy;
      out[0] = cosR * dx + sinR * dy;
      out[1] = -sinR * dx + cosR * dy;
    }

    /** Egg shape: the head is a little wider at the back. */
    double aEff(double hy) {
      double t = hy / b;
      t = t < -1 ? -1 : t > 1 ? 1 : t;
      return a * (1 + egg * t);
    }

    /** Point at elliptic radius rho and angle phi (inverse of the rho/phi mapping used in rendering). */
    double[] point(double rho, double phi) {
      double y = rho * b * StrictMath.sin(phi);
      double x = rho * aEff(y) * StrictMath.cos(phi);
      return new double[] {x, y};
    }

    /** Elliptic radius of the pial (brain) surface at angle phi: gentle undulation under the CSF rim. */
    double pial(double phi) {
      double r = rhoPial0;
      for (int i = 0; i < 3; i++) r += pialAmp[i] * StrictMath.sin(pialM[i] * phi + pialPh[i]);
      return r;
    }

    /**
     * Sulci on one hemisphere: clefts from the surface inwards along a random walk (so they bend), about half of them
     * branched, a few deep ones (central and precentral-like).
     */
    private void addSulci(Random r, int side) {
      int m = 15 + r.nextInt(7);
      double lo = -Math.PI / 2 + 0.12, hi = Math.PI / 2 - 0.12;
      for (int j = 0; j < m; j++) {
        double phi = lo + (j + 0.5 + uniform(r, -0.35, 0.35)) * (hi - lo) / m;
        if (side < 0) phi = Math.PI - phi;
        double len = r.nextDouble() < 0.2 ? uniform(r, 0.14, 0.21) : uniform(r, 0.05, 0.14);
        double hw = uniform(r, 0.0045, 0.008);
        double[] st = point(pial(phi) + 0.04, phi);
        double norm = Math.sqrt(st[0] * st[0] + st[1] * st[1]);
        double dir = StrictMath.atan2(-st[1], -st[0]) + uniform(r, -0.3, 0.3); // towards the centre
        int nseg = 3 + r.nextInt(2);
        double[] xs = new double[nseg + 1], ys = new double[nseg + 1];
        xs[0] = st[0];
        ys[0] = st[1];
        double step = (len + 0.04 * norm) / nseg;
        for (int k = 1; k <= nseg; k++) {
          xs[k] = xs[k - 1] + StrictMath.cos(dir) * step;
          ys[k] = ys[k - 1] + StrictMath.sin(dir) * step;
          dir += 0.35 * r.nextGaussian();
        }
        for (int k = 0; k < nseg; k++) {
          double h0 = hw * (1.4 - 0.9 * k / nseg), h1 = hw * (1.4 - 0.9 * (k + 1) / nseg);
          clefts.add(new Segment(xs[k], ys[k], xs[k + 1], ys[k + 1], h0, h1));
        }
        int branches = r.nextDouble() < 0.5 ? 1 + (r.nextDouble() < 0.3 ? 1 : 0) : 0;
        for (int bI = 0; bI < branches; bI++) {
          int k = 1 + r.nextInt(nseg - 1);
          double base = StrictMath.atan2(ys[k + 1] - ys[k], xs[k + 1] - xs[k]);
          double ang = base + (r.nextBoolean() ? 1 : -1) * uniform(r, 0.5, 1.1);
          double bl = len * uniform(r, 0.25, 0.5);
          double mx = xs[k] + StrictMath.cos(ang) * bl * 0.5, my = ys[k] + StrictMath.sin(ang) * bl * 0.5;
          ang += 0.3 * r.nextGaussian();
          double ex = mx + StrictMath.cos(ang) * bl * 0.5, ey = my + StrictMath.sin(ang) * bl * 0.5;
          clefts.add(new Segment(xs[k], ys[k], mx, my, hw * 0.8, hw * 0.6));
          clefts.add(new Segment(mx, my, ex, ey, hw * 0.6, hw * 0.35));
        }
      }
    }

    /** The lateral (Sylvian) fissure: a deep cleft reaching the insula, lateral to the lentiform nucleus. */
    private void addSylvian(Random r, int side) {
      double phi = uniform(r, -0.16, 0.0);
      if (side < 0) phi = Math.PI - phi;
      double[] st = point(pial(phi) + 0.04, phi);
      double ex = side * uniform(r, 0.50, 0.56) * bx, ey = uniform(r, -0.12, -0.02) * by;
      double hw = uniform(r, 0.008, 0.012);
      double mx = st[0] + (ex - st[0]) * 0.45, my = st[1] + (ey - st[1]) * 0.45 + uniform(r, -0.03, 0.03);
      clefts.add(new Segment(st[0], st[1], mx, my, hw * 1.5, hw));
      clefts.add(new Segment(mx, my, ex, ey, hw, hw * 0.9));
      // the insular cistern runs along the insula, anteriorly and posteriorly from the fissure's end
      double l1 = uniform(r, 0.05, 0.09) * by, l2 = uniform(r, 0.05, 0.09) * by;
      clefts.add(new Segment(ex, ey, ex - side * 0.01, ey - l1, hw * 0.8, hw * 0.4));
      clefts.add(new Segment(ex, ey, ex - side * 0.01, ey + l2, hw * 0.8, hw * 0.4));
    }

    /** Lateral and third ventricles, choroid plexus, caudate heads, lentiform nuclei and thalami. */
    private void addDeepStructures(Random r) {
      double size = 0.75 + 0.75 * StrictMath.pow(r.nextDouble(), 1.5); // ventricle enlargement varies (age, atrophy)
      double asym = uniform(r, -0.18, 0.18);
      double spread = 1 + 0.3 * (size - 1);
      double bu = (bx + by) / 2; // radii in brain units scale with the mean brain semi-axis
      double[] jit = new double[10];
      for (int side = -1; side <= 1; side += 2) {
        for (int i = 0; i < jit.length; i++) jit[i] = 0.02 * r.nextGaussian();
        double sz = size * (1 + side * asym);
        // Lateral ventricle centre line in brain units (u right, v posterior), radii: frontal horn tip, frontal horn
        // beside the caudate head, body, atrium, occipital horn. Frontal horns diverge anteriorly: the butterfly.
        double rS = 0.065 * sz;
        double xS = Math.max(0.085 * spread, rS + 0.03);
        double[][] pts = {
            {0.22 * spread + jit[0], -0.46 + jit[1], 0.04 * sz},
            {xS, -0.28 + jit[2], rS},
            {0.11 * spread + jit[3], 0.0 + jit[4], 0.042 * sz},
            {0.23 * spread + jit[5], 0.28 + jit[6], 0.07 * sz},
            {0.21 * spread + jit[7], 0.50 + jit[8], 0.025 * sz}};
        List<double[]> line = catmullRom(pts, 6);
        double[] axis = new double[line.size() * 2];
        for (int i = 0; i < line.size(); i++) {
          axis[2 * i] = side * line.get(i)[0] * bx;
          axis[2 * i + 1] = line.get(i)[1] * by;
        }
        ventricleAxis[(side + 1) / 2] = axis;
        for (int i = 0; i + 1 < line.size(); i++) {
          double[] p0 = line.get(i), p1 = line.get(i + 1);
          ventricles.add(new Segment(side * p0[0] * bx, p0[1] * by, side * p1[0] * bx, p1[1] * by, p0[2] * bu,
              p1[2] * bu));
        }
        double[] at = pts[3];
        choroid.add(new Ellipse(side * at[0] * bx, at[1] * by, 0.45 * at[2] * bu, 0.6 * at[2] * bu, side * 0.5));
        deepGm.add(new Ellipse(side * (xS + rS + 0.05) * bx, (-0.25 + jit[9]) * by, 0.065 * bu, 0.095 * bu,
            side * -0.3)); // caudate head
        deepGm.add(new Ellipse(side * 0.35 * bx, -0.06 * by, 0.055 * bu, 0.15 * bu, side * 0.15)); // lentiform
        deepGm.add(new Ellipse(side * 0.125 * bx, 0.13 * by, 0.085 * bu, 0.13 * bu, side * -0.1)); // thalamus
      }
      double w3 = 0.012 * Math.sqrt(size) * bu;
      ventricles.add(new Segment(0, 0.02 * by, 0, 0.22 * by, w3, w3)); // third ventricle
    }

    /** Catmull-Rom spline through points {x, y, radius}, {@code per} samples per span. */
    private static List<double[]> catmullRom(double[][] p, int per) {
      List<double[]> out = new ArrayList<>();
      for (int i = 0; i + 1 < p.length; i++) {
        double[] p0 = p[Math.max(0, i - 1)], p1 = p[i], p2 = p[i + 1], p3 = p[Math.min(p.length - 1, i + 2)];
        for (int s = 0; s < per; s++) {
          double t = s / (double) per, t2 = t * t, t3 = t2 * t;
          double[] q = new double[3];
          for (int d = 0; d < 3; d++) {
            q[d] = 0.5 * (2 * p1[d] + (-p0[d] + p2[d]) * t + (2 * p0[d] - 5 * p1[d] + 4 * p2[d] - p3[d]) * t2
                + (-p0[d] + 3 * p1[d] - 3 * p2[d] + p3[d]) * t3);
          }
          out.add(q);
        }
      }
      out.add(p[p.length - 1].clone());
      return out;
    }

    boolean inCleft(double x, double y) {
      int gx = (int) ((x + GRID_HALF) / (2 * GRID_HALF) * GRID), gy = (int) ((y + GRID_HALF) / (2 * GRID_HALF) * GRID);
      if (gx < 0 || gy < 0 || gx >= GRID || gy >= GRID) {
        for (Segment s : clefts) {
          if (s.contains(x, y)) return true;
        }
        return false;
      }
      for (Segment s : cleftGrid[gy * GRID + gx]) {
        if (s.contains(x, y)) return true;
      }
      return false;
    }

    /** Buckets the clefts by bounding box so that each point tests only the few nearby ones. */
    private Segment[][] bucket(List<Segment> segs) {
      List<List<Segment>> cells = new ArrayList<>();
      for (int i = 0; i < GRID * GRID; i++) cells.add(new ArrayList<>());
      double cell = 2 * GRID_HALF / GRID;
      for (Segment sg : segs) {
        int x0 = Math.max(0, (int) Math.floor((sg.minX + GRID_HALF) / cell));
        int x1 = Math.min(GRID - 1, (int) Math.floor((sg.maxX + GRID_HALF) / cell));
        int y0 = Math.max(0, (int) Math.floor((sg.minY + GRID_HALF) / cell));
        int y1 = Math.min(GRID - 1, (int) Math.floor((sg.maxY + GRID_HALF) / cell));
        for (int gy = y0; gy <= y1; gy++) {
          for (int gx = x0; gx <= x1; gx++) cells.get(gy * GRID + gx).add(sg);
        }
      }
      Segment[][] out = new Segment[GRID * GRID][];
      for (int i = 0; i < out.length; i++) out[i] = cells.get(i).toArray(new Segment[0]);
      return out;
    }

    /** Ventricle, choroid plexus (inside a ventricle) or 0 at a head position. */
    byte ventricleClass(double x, double y) {
      if (x < ventMinX || x > ventMaxX || y < ventMinY || y > ventMaxY) return 0;
      for (Segment s : ventricles) {
        if (s.contains(x, y)) {
          for (Ellipse e : choroid) {
            if (e.contains(x, y)) return CHOROID;
          }
          return VENT;
        }
      }
      return 0;
    }

    /** Deep grey matter weight in [0, 1]: 1 inside the nuclei, fading over their borders (they are not sharp). */
    double deepGreyWeight(double x, double y) {
      double w = 0;
      for (Ellipse e : deepGm) w = Math.max(w, e.softWeight(x, y));
      return w;
    }

    /** Distance from a head position to the nearest ventricle centre line. */
    double distanceToVentricleAxis(double x, double y) {
      double best = Double.POSITIVE_INFINITY;
      for (double[] axis : ventricleAxis) {
        for (int i = 0; i < axis.length; i += 2) {
          double dx = x - axis[i], dy = y - axis[i + 1];
          best = Math.min(best, Math.sqrt(dx * dx + dy * dy));
        }
      }
      return best;
    }

    /** Smooth multiplicative coil sensitivity: exp of a random quadratic in image coordinates. */
    double bias(double x, double y) {
      return StrictMath.exp(biasC[0] * x + biasC[1] * y + biasC[2] * x * x + biasC[3] * y * y + biasC[4] * x * y);
    }

    /** Smooth random field (bicubic interpolation of a coarse Gaussian grid over [-1.2, 1.2]^2), about N(0, 1). */
    double texture(double x, double y) {
      double gx = (x + 1.2) / 2.4 * (TEX - 1), gy = (y + 1.2) / 2.4 * (TEX - 1);
      gx = gx < 0 ? 0 : gx > TEX - 1.001 ? TEX - 1.001 : gx;
      gy = gy < 0 ? 0 : gy > TEX - 1.001 ? TEX - 1.001 : gy;
      int ix = (int) gx, iy = (int) gy;
      double fx = gx - ix, fy = gy - iy;
      double sum = 0;
      for (int m = -1; m <= 2; m++) {
        double wy = cubic(fy - m);
        int yy = Math.max(0, Math.min(TEX - 1, iy + m));
        for (int l = -1; l <= 2; l++) {
          int xx = Math.max(0, Math.min(TEX - 1, ix + l));
          sum += wy * cubic(fx - l) * tex[yy * TEX + xx];
        }
      }
      return sum;
    }

    /** Catmull-Rom kernel. */
    private static double cubic(double t) {
      t = Math.abs(t);
      if (t < 1) return 1.5 * t * t * t - 2.5 * t * t + 1;
      if (t < 2) return -0.5 * t * t * t + 2.5 * t * t - 4 * t + 2;
      return 0;
    }
  }

  /** A tumour: irregular core and rim, finger-like oedema, mass effect. Head coordinates. */
  static final class Lesion {
    final double cx, cy, r0, coreFrac, contrast, mass, warpS2, outerReach, oedemaStrength;
    final double[] shapeA = new double[3], shapeP = new double[3];
    final double[] oedA = new double[4], oedP = new double[4];
    final double oedReach;

    Lesion(Random r, Anatomy an) {
      r0 = uniform(r, 0.05, 0.13);
      coreFrac = uniform(r, 0.45, 0.75);
      contrast = uniform(r, 0.65, 1.0);
      oedemaStrength = uniform(r, 0.6, 1.0);
      oedReach = uniform(r, 1.5, 2.3);
      mass = uniform(r, 0.15, 0.4);
      double ws = 2.2 * r0;
      warpS2 = ws * ws;
      for (int i = 0; i < 3; i++) {
        shapeA[i] = uniform(r, 0, 0.12);
        shapeP[i] = uniform(r, 0, 2 * Math.PI);
      }
      for (int i = 0; i < 4; i++) {
        oedA[i] = uniform(r, 0, 0.15);
        oedP[i] = uniform(r, 0, 2 * Math.PI);
      }
      // Position: in a hemisphere, inside the brain with a margin, away from the midline and the ventricles.
      double rmax = Math.max(0.2, 0.78 - r0 / Math.min(an.bx, an.by));
      double px = 0, py = 0;
      for (int tries = 0; tries < 500; tries++) {
        double u = uniform(r, -rmax, rmax), v = uniform(r, -rmax, rmax);
        if (u * u + v * v > rmax * rmax) continue;
        px = u * an.bx;
        py = v * an.by;
        if (Math.abs(px) < r0 + 0.03) continue;
        if (an.distanceToVentricleAxis(px, py) < r0 * 1.1 + 0.07) continue;
        break;
      }
      cx = px;
      cy = py;
      outerReach = 2 * r0 * oedReach; // beyond the largest oedema reach (outline <= 1.36 r0, fingers <= 1.4)
    }

    /** Irregular outline radius at angle th. */
    double radius(double th) {
      double f = 1;
      for (int i = 0; i < 3; i++) f += shapeA[i] * StrictMath.cos((i + 2) * th + shapeP[i]);
      return r0 * f;
    }

    /** Oedema weight at distance d (outline radius r there): 1 at the rim, fading with finger-like extensions. */
    double oedema(double d, double r, double th) {
      double f = 1;
      for (int i = 0; i < 4; i++) f += oedA[i] * StrictMath.cos((i + 3) * th + oedP[i]) * 2;
      double reach = r * oedReach * Math.max(0.6, Math.min(1.4, f));
      if (d >= reach) return 0;
      double t = (d - r) / (reach - r);
      double w = 1 - t * t * (3 - 2 * t); // smoothstep falloff
      return oedemaStrength * w;
    }

    /** Mass effect: source position of what appears at (x, y): tissue is pushed away from the lesion centre. */
    void warp(double x, double y, double[] out) {
      double dx = x - cx, dy = y - cy;
      double f = 1 - mass * StrictMath.exp(-(dx * dx + dy * dy) / (2 * warpS2));
      out[0] = cx + dx * f;
      out[1] = cy + dy * f;
    }
  }
}
