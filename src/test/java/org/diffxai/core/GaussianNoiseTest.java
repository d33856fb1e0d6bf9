package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GaussianNoiseTest {

  @Test
  void uniformBitsAreSplitMix64() {
    // reference vector of SplitMix64 (seed 1234567)
    GaussianNoise g = new GaussianNoise(1234567L);
    assertEquals(6457827717110365317L, g.nextLong());
    assertEquals(3203168211198807973L, g.nextLong());
    assertEquals(-8629252141511181193L, g.nextLong()); // 9817491932198370423 unsigned
    // and the JDK's SplittableRandom, which uses the same generator
    for (long seed : new long[] {0L, 42L, -7L, Long.MAX_VALUE}) {
      GaussianNoise a = new GaussianNoise(seed);
      SplittableRandom b = new SplittableRandom(seed);
      for (int i = 0; i < 100; i++) assertEquals(b.nextLong(), a.nextLong());
    }
  }

  @Test
  void normalsAreBoxMullerOfTheDocumentedUniforms() {
    GaussianNoise g = new GaussianNoise(99L);
    SplittableRandom r = new SplittableRandom(99L);
    for (int pair = 0; pair < 50; pair++) {
      double u1 = ((r.nextLong() >>> 11) + 1) * 0x1.0p-53;
      double u2 = (r.nextLong() >>> 11) * 0x1.0p-53;
      double rad = Math.sqrt(-2 * Math.log(u1));
      assertEquals(rad * Math.cos(2 * Math.PI * u2), g.nextGaussian(), 1e-12);
      assertEquals(rad * Math.sin(2 * Math.PI * u2), g.nextGaussian(), 1e-12);
    }
  }

  @Test
  void pinnedValuesNeverChange() {
    // bit-exact golden values: changing the algorithm or the stream derivation breaks reproducibility of saved runs
    float[] v = GaussianNoise.forSample(42L, 0).fill(new float[4]);
    assertArrayEquals(GOLDEN_SEED42_SAMPLE0, v);
    assertEquals(GOLDEN_STREAM_SEED_42_3, GaussianNoise.streamSeed(42L, 3));
  }

  /** Also reproduced by an independent Python implementation of the documented algorithm (math.log/cos/sin). */
  static final float[] GOLDEN_SEED42_SAMPLE0 = {0.76378345f, -1.2679155f, -0.28663164f, -0.26813462f};

  static final long GOLDEN_STREAM_SEED_42_3 = 885919558081284366L;

  @Test
  void streamSeedIsDocumentedFormula() {
    long s = 123456789L;
    for (int i = 0; i < 5; i++) {
      long expected = GaussianNoise.mix64(GaussianNoise.mix64(s) + (i + 1) * 0x9E3779B97F4A7C15L);
      assertEquals(expected, GaussianNoise.streamSeed(s, i));
    }
    assertNotEquals(GaussianNoise.streamSeed(s, 0), GaussianNoise.streamSeed(s, 1));
    assertNotEquals(GaussianNoise.streamSeed(s, 0), GaussianNoise.streamSeed(s + 1, 0));
  }

  @Test
  void momentsAreStandardNormal() {
    GaussianNoise g = GaussianNoise.forSample(7L, 0);
    int n = 200_000;
    double sum = 0;
    double sq = 0;
    double quart = 0;
    for (int i = 0; i < n; i++) {
      double z = g.nextGaussian();
      sum += z;
      sq += z * z;
      quart += z * z * z * z;
    }
    double mean = sum / n;
    double var = sq / n - mean * mean;
    assertTrue(Math.abs(mean) < 0.01, "mean " + mean);
    assertTrue(Math.abs(var - 1) < 0.015, "var " + var);
    assertTrue(Math.abs(quart / n - 3) < 0.1, "4th moment " + quart / n);
  }

  @Test
  void streamsAreDeterministicAndFillMatchesNextGaussian() {
    float[] a = GaussianNoise.forSample(5L, 2).fill(new float[7]);
    GaussianNoise g = GaussianNoise.forSample(5L, 2);
    for (float v : a) assertEquals((float) g.nextGaussian(), v);
    // skip keeps alignment, odd counts included
    GaussianNoise h = GaussianNoise.forSample(5L, 2);
    h.skip(3);
    float[] rest = h.fill(new float[4]);
    for (int i = 0; i < 4; i++) assertEquals(a[3 + i], rest[i]);
  }
}
