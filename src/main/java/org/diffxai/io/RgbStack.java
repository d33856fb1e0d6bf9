package org.diffxai.io;

/** RGB planes (packed 0xRRGGBB, row-major) with slice labels: pictures such as explanation panels. Plain data. */
public final class RgbStack {
  public final int width;
  public final int height;
  private final int[][] planes;
  private final String[] labels;

  public RgbStack(int width, int height, int[][] planes, String[] labels) {
    for (int[] p : planes) {
      if (p.length != (long) width * height) {
        throw new IllegalArgumentException("plane of " + p.length + " values for " + width + "x" + height);
      }
    }
    if (labels != null && labels.length != planes.length) {
      throw new IllegalArgumentException(labels.length + " labels for " + planes.length + " planes");
    }
    this.width = width;
    this.height = height;
    this.planes = planes;
    this.labels = labels == null ? new String[planes.length] : labels.clone();
  }

  public int planeCount() {
    return planes.length;
  }

  public int[] plane(int index) {
    return planes[index];
  }

  public String label(int index) {
    return labels[index];
  }
}
