package org.diffxai.core;

/**
 * Where a prototype comes from after the push step: the training image whose latent patch it now equals, the patch
 * position on the latent grid, and two boxes in that image's pixels ({x, y, w, h}): the receptive field of the patch
 * and the box around the pixels whose upsampled similarity is at or above its 95th percentile.
 */
public final class PrototypeInfo {
  /**
   * Cosine similarity above which two prototype vectors are duplicates (issue 10; {@code metrics.PrototypeQuality}
   * counts them, the trainer's push avoids them).
   */
  public static final double DUPLICATE_COSINE = 0.99;


  public final int index;
  /** Class the prototype belongs to (ProtoPool: the class whose slot weight on it is largest). */
  public final int classIndex;
  /** Path of the source image as the training folder listed it (relative to the folder). */
  public final String sourceImage;
  /** Index of the source image in the training set. */
  public final int sourceIndex;
  public final int patchRow;
  public final int patchCol;
  public final int[] receptiveBox;
  public final int[] activationBox;
  /** Plane of the bundle's gallery TIFF that shows the source image (0-based). */
  public final int galleryPlane;

  public PrototypeInfo(int index, int classIndex, String sourceImage, int sourceIndex, int patchRow, int patchCol,
      int[] receptiveBox, int[] activationBox, int galleryPlane) {
    this.index = index;
    this.classIndex = classIndex;
    this.sourceImage = sourceImage;
    this.sourceIndex = sourceIndex;
    this.patchRow = patchRow;
    this.patchCol = patchCol;
    this.receptiveBox = receptiveBox.clone();
    this.activationBox = activationBox.clone();
    this.galleryPlane = galleryPlane;
  }

  /** Cosine similarity (0 when a vector is zero). */
  public static double cosine(float[] a, float[] b) {
    return cosine(a, b, 0, b.length);
  }

  /** Cosine similarity of a[0, d) and b[off, off + d) (0 when one of them is zero). */
  public static double cosine(float[] a, float[] b, int off, int d) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < d; i++) {
      ab += (double) a[i] * b[off + i];
      aa += (double) a[i] * a[i];
      bb += (double) b[off + i] * b[off + i];
    }
    return aa == 0 || bb == 0 ? 0 : ab / Math.sqrt(aa * bb);
  }
}
