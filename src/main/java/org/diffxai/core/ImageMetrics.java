package org.diffxai.core;

import java.util.List;

/**
 * Full-reference image similarity on single-channel float images stored row-major ({@code a[y * width + x]}): mean
 * squared error, PSNR and SSIM, plus the nearest reference of a sample by either measure (the usual memorisation check
 * for generative models: is a synthetic image a copy of a training image?).
 *
 * <p>All computations use double precision. Non-finite input values propagate (the result is NaN); callers that need
 * a clear message should check their inputs first.
 */
public final class ImageMetrics {

  /** Side of the SSIM window (Wang et al. 2004, section III.C). */
  public static final int SSIM_WINDOW = 11;
  /** Standard deviation of the Gaussian SSIM window, in pixels (Wang et al. 2004). */
  public static final double SSIM_SIGMA = 1.5;
  /** SSIM stabilising constants: C1 = (K1 L)^2, C2 = (K2 L)^2 (Wang et al. 2004, eqs. 7 and 9). */
  public static final double SSIM_K1 = 0.01;

  public static final double SSIM_K2 = 0.03;

  private static final double[] GAUSS = gaussianWindow(SSIM_WINDOW, SSIM_SIGMA);

  private ImageMetrics() {}

  /** Mean squared error over all pixels. */
  public static double mse(float[] a, float[] b) {
    checkSameLength(a, b);
    if (a.length == 0) throw new IllegalArgumentException("empty images");
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (double) a[i] - b[i];
      sum += d * d;
    }
    return sum / a.length;
  }

  /**
   * Peak signal-to-noise ratio in dB: {@code 10 log10(L^2 / MSE)} with L the data range (e.g. 1 for images in [0, 1],
   * 255 for 8-bit). Identical images give {@code +Infinity}.
   */
  public static double psnr(float[] a, float[] b, double dataRange) {
    checkRange(dataRange);
    double mse = mse(a, b);
    if (mse == 0) return Double.POSITIVE_INFINITY;
    return 10 * Math.log10(dataRange * dataRange / mse);
  }

  /**
   * Mean structural similarity (SSIM) of two images, following Wang, Bovik, Sheikh and Simoncelli, "Image quality
   * assessment: from error visibility to structural similarity", IEEE TIP 13(4):600-612, 2004, and their reference
   * implementation {@code ssim_index.m}: an 11x11 Gaussian window with sigma 1.5 normalised to unit sum, local means
   * mu, variances sigma^2 = E[x^2] - mu^2 and covariance sigma_xy = E[xy] - mu_x mu_y under that window,
   *
   * <pre>
   * SSIM(x, y) = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))
   * </pre>
   *
   * with C1 = (0.01 L)^2, C2 = (0.03 L)^2, averaged over the valid window positions (the window entirely inside the
   * image, MATLAB's {@code filter2(..., 'valid')}), i.e. over (width-10) x (height-10) positions. No automatic
   * downsampling is applied (the later {@code ssim.m} of the authors downsamples images larger than 256 pixels).
   *
   * @param dataRange L, the dynamic range of the pixel values (e.g. 1 for [0, 1])
   * @throws IllegalArgumentException if the images are smaller than 11x11 or the sizes do not match
   */
  public static double ssim(float[] a, float[] b, int width, int height, double dataRange) {
    checkRange(dataRange);
    checkImage(a, width, height);
    checkImage(b, width, height);
    if (width < SSIM_WINDOW || height < SSIM_WINDOW) {
      throw new IllegalArgumentException("SSIM needs images of at least " + SSIM_WINDOW + "x" + SSIM_WINDOW
          + " pixels; got " + width + "x" + height);
    }
    double c1 = SSIM_K1 * dataRange;
    c1 *= c1;
    double c2 = SSIM_K2 * dataRange;
    c2 *= c2;
    int vw = width - SSIM_WINDOW + 1;
    int vh = height - SSIM_WINDOW + 1;
    // Separable filtering: horizontal 'valid' pass into rows of width vw, then vertical 'valid' pass.
    double[] hx = new double[vw * height];
    double[] hy = new double[vw * height];
    double[] hxx = new double[vw * height];
    double[] hyy = new double[vw * height];
    double[] hxy = new double[vw * height];
    for (int y = 0; y < height; y++) {
      int row = y * width;
      for (int x = 0; x < vw; x++) {
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int k = 0; k < SSIM_WINDOW; k++) {
          double w = GAUSS[k];
          double px = a[row + x + k];
          double py = b[row + x + k];
          sx += w * px;
          sy += w * py;
          sxx += w * px * px;
          syy += w * py * py;
          sxy += w * px * py;
        }
        int o = y * vw + x;
        hx[o] = sx;
        hy[o] = sy;
        hxx[o] = sxx;
        hyy[o] = syy;
        hxy[o] = sxy;
      }
    }
    double total = 0;
    for (int y = 0; y < vh; y++) {
      for (int x = 0; x < vw; x++) {
        double mx = 0, my = 0, exx = 0, eyy = 0, exy = 0;
        for (int k = 0; k < SSIM_WINDOW; k++) {
          double w = GAUSS[k];
          int o = (y + k) * vw + x;
          mx += w * hx[o];
          my += w * hy[o];
          exx += w * hxx[o];
          eyy += w * hyy[o];
          exy += w * hxy[o];
        }
        double vx = exx - mx * mx;
        double vy = eyy - my * my;
        double cxy = exy - mx * my;
        total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      }
    }
    return total / ((double) vw * vh);
  }

  /** The best match of a sample in a reference set, by SSIM and by PSNR (they may pick different references). */
  public static final class Nearest {
    /** Index in the reference list of the reference with the highest SSIM. */
    public final int ssimIndex;
    /** Highest SSIM over the references. */
    public final double ssim;
    /** Index in the reference list of the reference with the highest PSNR (lowest MSE). */
    public final int psnrIndex;
    /** Highest PSNR over the references, in dB ({@code +Infinity} for an exact copy). */
    public final double psnr;

    Nearest(int ssimIndex, double ssim, int psnrIndex, double psnr) {
      this.ssimIndex = ssimIndex;
      this.ssim = ssim;
      this.psnrIndex = psnrIndex;
      this.psnr = psnr;
    }

    @Override
    public String toString() {
      return "Nearest[ssim=" + ssim + " @" + ssimIndex + ", psnr=" + psnr + " dB @" + psnrIndex + "]";
    }
  }

  /**
   * The reference closest to {@code sample} by SSIM and by PSNR. References whose SSIM or PSNR is NaN (non-finite
   * pixels) never win.
   *
   * @throws IllegalArgumentException if the reference list is empty or a size does not match
   */
  public static Nearest nearest(float[] sample, List<float[]> references, int width, int height, double dataRange) {
    if (references == null || references.isEmpty()) {
      throw new IllegalArgumentException("no reference images");
    }
    int bestS = -1, bestP = -1;
    double maxS = Double.NEGATIVE_INFINITY, maxP = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < references.size(); i++) {
      float[] r = references.get(i);
      double s = ssim(sample, r, width, height, dataRange);
      double p = psnr(sample, r, dataRange);
      if (s > maxS) {
        maxS = s;
        bestS = i;
      }
      if (p > maxP) {
        maxP = p;
        bestP = i;
      }
    }
    return new Nearest(bestS, bestS < 0 ? Double.NaN : maxS, bestP, bestP < 0 ? Double.NaN : maxP);
  }

  /** The normalised 1-D Gaussian; the 2-D SSIM window is its outer product (MATLAB fspecial('gaussian', 11, 1.5)). */
  static double[] gaussianWindow(int size, double sigma) {
    double[] g = new double[size];
    int r = size / 2;
    double sum = 0;
    for (int k = 0; k < size; k++) {
      double d = k - r;
      g[k] = Math.exp(-d * d / (2 * sigma * sigma));
      sum += g[k];
    }
    for (int k = 0; k < size; k++) g[k] /= sum;
    return g;
  }

  private static void checkRange(double dataRange) {
    if (!(dataRange > 0) || Double.isInfinite(dataRange)) {
      throw new IllegalArgumentException("data range must be finite and positive; got " + dataRange);
    }
  }

  private static void checkSameLength(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("images differ in size: " + a.length + " vs " + b.length + " pixels");
    }
  }

  private static void checkImage(float[] a, int width, int height) {
    if (width <= 0 || height <= 0 || (long) width * height != a.length) {
      throw new IllegalArgumentException(
          "image of " + a.length + " pixels does not match " + width + "x" + height);
    }
  }
}
