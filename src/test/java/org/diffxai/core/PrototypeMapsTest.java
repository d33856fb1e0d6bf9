package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.diffxai.core.PrototypeMaps.ReceptiveField;
import org.junit.jupiter.api.Test;

class PrototypeMapsTest {

  @Test
  void bicubicKeepsConstantsAndSymmetry() {
    float[] c = new float[4 * 4];
    java.util.Arrays.fill(c, 2.5f);
    for (float v : PrototypeMaps.upsampleBicubic(c, 4, 4, 32, 32)) assertEquals(2.5f, v, 1e-6f);
    // mirroring the map mirrors the result (half-pixel centres put no bias on either side)
    float[] m = new float[3 * 5];
    for (int i = 0; i < m.length; i++) m[i] = (i * 7) % 5 - 1.5f;
    float[] mm = new float[m.length];
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 5; x++) mm[y * 5 + x] = m[y * 5 + 4 - x];
    }
    float[] up = PrototypeMaps.upsampleBicubic(m, 3, 5, 12, 20);
    float[] upm = PrototypeMaps.upsampleBicubic(mm, 3, 5, 12, 20);
    for (int y = 0; y < 12; y++) {
      for (int x = 0; x < 20; x++) assertEquals(up[y * 20 + x], upm[y * 20 + 19 - x], 1e-5f);
    }
  }

  @Test
  void bicubicMatchesHandComputedSample() {
    // 1-D impulse in a 1x4 map, output 1x8: sample x=3 sits at source 1.25 (t = 0.25 from pixel 1)
    float[] m = {0, 1, 0, 0};
    float[] up = PrototypeMaps.upsampleBicubic(m, 1, 4, 1, 8);
    double a = -0.75;
    double t = 0.25;
    double w = ((a + 2) * t - (a + 3)) * t * t + 1; // Keys kernel at distance 0.25
    assertEquals(w, up[3], 1e-6);
  }

  @Test
  void percentileBoxBoundsTheHotPixels() {
    float[] m = new float[10 * 10];
    m[3 * 10 + 6] = 5;
    m[4 * 10 + 7] = 4;
    // 98th percentile of 100 values: the 2 hot pixels pass
    assertArrayEquals(new int[] {6, 3, 2, 2}, PrototypeMaps.percentileBox(m, 10, 10, 98.5));
    // 50th: zeros pass too, so the whole image
    assertArrayEquals(new int[] {0, 0, 10, 10}, PrototypeMaps.percentileBox(m, 10, 10, 50));
  }

  @Test
  void receptiveFieldOfTheBackbone() {
    // 3x3 s1 (pad 1), then [3x3 s2 (pad 0 before), 3x3 s1 (pad 1)] x 3: the 64 px network's stack
    ReceptiveField rf = ReceptiveField.identity().then(3, 1, 1);
    for (int l = 0; l < 3; l++) rf = rf.then(3, 2, 0).then(3, 1, 1);
    // size: 1 + 2 + (2 + 4) + (4 + 8) + (8 + 16) = 45; jump 8; first centre 0 + 1 + 2 + 4 = 7
    assertEquals(45, rf.size);
    assertEquals(8, rf.jump);
    assertEquals(7.0, rf.start, 0);
    assertArrayEquals(new int[] {0, 0, 30, 30}, rf.box(0, 0, 64, 64)); // centre 7, 22 either side, clipped at 0
    // patch (row 1, col 5): centre x = 7 + 5 * 8 = 47 -> [25, 69] clipped to [25, 64); y = 15 -> [-7, 37] -> [0, 38)
    assertArrayEquals(new int[] {25, 0, 39, 38}, rf.box(1, 5, 64, 64));
  }
}
