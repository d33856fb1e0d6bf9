package org.diffxai.metrics;

import org.diffxai.core.GaussianNoise;

/**
 * Seeded uniform integers for the metrics: the SplitMix64 bits of {@link GaussianNoise#nextLong()} (state += γ,
 * output mix64(state), state starting at the seed), and unbiased bounded integers by rejection: draw 31 bits
 * {@code u = bits >>> 33}, accept {@code u mod bound} unless u falls in the incomplete last block of size
 * {@code 2^31 mod bound}. Same seed, same numbers on every JVM.
 */
final class SplitMix64 {
  private final GaussianNoise bits;

  SplitMix64(long seed) {
    this.bits = new GaussianNoise(seed);
  }

  long nextLong() {
    return bits.nextLong();
  }

  /** Uniform in [0, bound), bound &gt;= 1. */
  int nextInt(int bound) {
    if (bound <= 0) throw new IllegalArgumentException("bound must be positive: " + bound);
    while (true) {
      int u = (int) (nextLong() >>> 33);
      int r = u % bound;
      if (u - r + (bound - 1) >= 0) return r; // u is not in the incomplete last block (no int overflow)
    }
  }
}
