package org.diffxai.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The image helpers of the class-consistency measurement. */
class SampleQualityTest {

  @Test
  void medianRemovesAnIsolatedSpikeAndKeepsAStep() {
    int s = 8;
    float[] two = new float[2 * s * s];
    two[3 * s + 4] = 9; // image 1: one hot pixel
    for (int y = 0; y < s; y++) for (int x = 4; x < s; x++) two[s * s + y * s + x] = 1; // image 2: a vertical edge
    float[] f = SampleQuality.median3(List.of(two), s).get(0);
    assertArrayEquals(new float[s * s], Arrays.copyOfRange(f, 0, s * s));
    assertArrayEquals(Arrays.copyOfRange(two, s * s, 2 * s * s), Arrays.copyOfRange(f, s * s, 2 * s * s));
  }

  @Test
  void cornerSdMeasuresTheBackgroundOnly() {
    int s = 16;
    float[] im = new float[s * s];
    for (int y = 0; y < s; y++) for (int x = 0; x < s; x++) im[y * s + x] = (x + y) % 2 == 0 ? 1 : -1;
    for (int y = 5; y < 11; y++) for (int x = 5; x < 11; x++) im[y * s + x] = 100; // centre: not a corner
    assertEquals(1.0, SampleQuality.cornerSd(im, 0, s, 4), 1e-12);
    assertEquals(0.0, SampleQuality.cornerSd(new float[s * s], 0, s, 4), 0);
  }
}
