package org.diffxai.explain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import java.util.List;
import org.diffxai.core.Progress;
import org.diffxai.io.FloatStack;
import org.diffxai.io.RgbTiff;
import org.junit.jupiter.api.Test;

public class ExplanationImagesTest {

  /** Five 8×8 gallery planes; plane p is the horizontal ramp x + 10 p. */
  public static FloatStack gallery() {
    float[][] planes = new float[5][64];
    for (int p = 0; p < 5; p++) {
      for (int i = 0; i < 64; i++) planes[p][i] = i % 8 + 10 * p;
    }
    return new FloatStack(8, 8, 1, 5, 1, planes, null);
  }

  static int rgb(int r, int g, int b) {
    return (r << 16) | (g << 8) | b;
  }

  @Test
  void jetRunsFromDarkBlueToDarkRed() {
    assertArrayEquals(new int[] {0, 0, 128}, ExplanationImages.jet(0));
    assertArrayEquals(new int[] {128, 255, 128}, ExplanationImages.jet(0.5));
    assertArrayEquals(new int[] {128, 0, 0}, ExplanationImages.jet(1));
  }

  @Test
  void panelShowsHeatBoxAndTheGallerySourceSideBySide() {
    FloatStack img = PrototypeExplainerTest.stack(64, PrototypeExplainerTest.image(64, 1, 2),
        PrototypeExplainerTest.image(64, 3, 3));
    List<Explanation> ex = new PrototypeExplainer(PrototypeExplainerTest.model(), "analytic")
        .explain(img, 2, 1, 32, "img", Progress.NONE);
    ImagePlus imp = RgbTiff.image("Prototype explanation", ExplanationImages.overlays(img, ex, gallery(),
        PrototypeExplainerTest.CLASSES), null);
    // 64 px image, a 2 px gap, the 8x8 gallery plane scaled to 64 px high.
    int w = 130;
    assertEquals(w, imp.getWidth());
    assertEquals(64, imp.getHeight());
    assertEquals(4, imp.getStackSize());
    assertEquals(24, imp.getBitDepth());
    String label = imp.getStack().getSliceLabel(1);
    assertTrue(label.matches("slice 1 rank 1 prototype 0 \\(lesion\\) contribution 4\\.\\d+; source train/p0.tif"),
        label);
    assertEquals("slice 2 rank 2", imp.getStack().getSliceLabel(4).substring(0, 14));

    Explanation.Contribution c = ex.get(0).top.get(0);
    int[] px = (int[]) imp.getStack().getPixels(1);
    int[] b = c.box;
    assertEquals(ExplanationImages.BOX_RGB, px[b[1] * w + b[0]] & 0xffffff);
    assertEquals(ExplanationImages.BOX_RGB, px[(b[1] + b[3] - 1) * w + b[0] + b[2] - 1] & 0xffffff);
    assertNotEquals(ExplanationImages.BOX_RGB, px[(b[1] + 1) * w + b[0] + 1] & 0xffffff, "only the outline");
    // Where the map is lowest (far from the hot block, image value 100 = darkest): 0.55 * 0 + 0.45 * jet(0).
    int lo = argmin(c.map);
    assertEquals(rgb(0, 0, 58), px[(lo / 64) * w + lo % 64] & 0xffffff);
    // Where it is highest (inside the box) the image is 150 (brightest), jet dark red: 0.55 * 255 + 0.45 * (128, 0, 0).
    int hi = argmax(c.map);
    assertEquals(rgb(198, 140, 140), px[(hi / 64) * w + hi % 64] & 0xffffff);
    for (int y = 0; y < 64; y++) {
      assertEquals(0, px[y * w + 64] & 0xffffff, "gap");
      assertEquals(0, px[y * w + 65] & 0xffffff, "gap");
    }
    // Right: the source ramp from black (left) to white (right), with the pushed box {1,2,3,4} scaled by 8.
    int r0 = 66;
    assertEquals(0, px[63 * w + r0] & 0xffffff);
    assertEquals(rgb(255, 255, 255), px[63 * w + w - 1] & 0xffffff);
    assertEquals(ExplanationImages.BOX_RGB, px[16 * w + r0 + 8] & 0xffffff);
    assertEquals(ExplanationImages.BOX_RGB, px[47 * w + r0 + 31] & 0xffffff);
    assertNotEquals(ExplanationImages.BOX_RGB, px[30 * w + r0 + 20] & 0xffffff, "only the outline is drawn");
  }

  static int argmin(float[] v) {
    int k = 0;
    for (int i = 1; i < v.length; i++) if (v[i] < v[k]) k = i;
    return k;
  }

  static int argmax(float[] v) {
    int k = 0;
    for (int i = 1; i < v.length; i++) if (v[i] > v[k]) k = i;
    return k;
  }
}
