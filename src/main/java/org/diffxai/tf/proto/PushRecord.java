package org.diffxai.tf.proto;

/** What the push step did to one prototype: the training patch it now equals and its boxes in that image. */
public final class PushRecord {
  public final int prototype;
  /** Index of the source image in the training data. */
  public final int sourceIndex;
  public final int patchRow;
  public final int patchCol;
  /** Distance between the prototype before the push and the patch that replaced it. */
  public final float distance;
  /** {x, y, w, h} of the patch's receptive field. */
  public final int[] receptiveBox;
  /** {x, y, w, h} around the pixels at or above the 95th percentile of the upsampled similarity map. */
  public final int[] activationBox;

  PushRecord(int prototype, int sourceIndex, int patchRow, int patchCol, float distance, int[] receptiveBox,
      int[] activationBox) {
    this.prototype = prototype;
    this.sourceIndex = sourceIndex;
    this.patchRow = patchRow;
    this.patchCol = patchCol;
    this.distance = distance;
    this.receptiveBox = receptiveBox.clone();
    this.activationBox = activationBox.clone();
  }
}
