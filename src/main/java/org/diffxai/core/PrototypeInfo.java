package org.diffxai.core;

/**
 * Where a prototype comes from after the push step: the training image whose latent patch it now equals, the patch
 * position on the latent grid, and two boxes in that image's pixels ({x, y, w, h}): the receptive field of the patch
 * and the box around the pixels whose upsampled similarity is at or above its 95th percentile.
 */
public final class PrototypeInfo {

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
}
