package org.diffxai.core;

/**
 * A seeded stream of standard-normal numbers that is bit-identical on every JVM and platform.
 *
 * <p>Algorithm (all of it specified here, nothing left to the JDK):
 *
 * <ul>
 * <li>Uniform bits: SplitMix64 (Steele, Lea &amp; Flood 2014, as in {@code java.util.SplittableRandom}): state +=
 * γ with γ = 0x9E3779B97F4A7C15; output = mix64(state), where mix64(z) = z ^= z&gt;&gt;&gt;30, z *=
 * 0xBF58476D1CE4E5B9, z ^= z&gt;&gt;&gt;27, z *= 0x94D049BB133111EB, z ^= z&gt;&gt;&gt;31. The initial state is the
 * seed.
 * <li>Uniforms: u₁ = ((bits &gt;&gt;&gt; 11) + 1)·2⁻⁵³ ∈ (0, 1] and u₂ = (bits &gt;&gt;&gt; 11)·2⁻⁵³ ∈ [0, 1) from two
 * consecutive outputs.
 * <li>Normals: Box–Muller, r = √(−2 ln u₁), θ = 2π·u₂; the pair (r cos θ, r sin θ) is returned in that order.
 * {@link StrictMath} (fdlibm) computes log, sqrt, cos and sin, so the values do not depend on the JVM.
 * </ul>
 *
 * <p>Per-sample streams: sample {@code i} of a run with seed {@code s} uses the stream seeded with
 * {@code mix64(mix64(s) + (i + 1)·γ)} (the (i+1)-th SplitMix64 output of a generator whose state starts at mix64(s)),
 * see {@link #forSample(long, long)}. A sample's noise therefore depends only on (s, i), never on the batch size or the
 * number of samples.
 */
public final class GaussianNoise {
  /** SplitMix64's increment, the odd integer closest to 2⁶⁴/φ. */
  public static final long GAMMA = 0x9E3779B97F4A7C15L;

  private static final double TWO_PI = 2 * Math.PI;
  private static final double INV_2_53 = 0x1.0p-53;

  private long state;
  private double spare;
  private boolean hasSpare;

  /** A stream whose SplitMix64 state starts at {@code seed}. */
  public GaussianNoise(long seed) {
    this.state = seed;
  }

  /** The stream of sample {@code sampleIndex} in a run with seed {@code seed}. */
  public static GaussianNoise forSample(long seed, long sampleIndex) {
    return new GaussianNoise(streamSeed(seed, sampleIndex));
  }

  /** mix64(mix64(seed) + (sampleIndex + 1)·γ). */
  public static long streamSeed(long seed, long sampleIndex) {
    return mix64(mix64(seed) + (sampleIndex + 1) * GAMMA);
  }

  /** The SplitMix64 finaliser (Stafford's variant 13). */
  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The next 64 uniform bits (SplitMix64). */
  public long nextLong() {
    state += GAMMA;
    return mix64(state);
  }

  /** The next standard-normal number. */
  public double nextGaussian() {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    double u1 = ((nextLong() >>> 11) + 1) * INV_2_53;
    double u2 = (nextLong() >>> 11) * INV_2_53;
    double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
    double theta = TWO_PI * u2;
    spare = r * StrictMath.sin(theta);
    hasSpare = true;
    return r * StrictMath.cos(theta);
  }

  /** Fills {@code dst} with the next {@code dst.length} normals, each rounded to float32. */
  public float[] fill(float[] dst) {
    return fill(dst, 0, dst.length);
  }

  /** Fills {@code dst[off, off+len)} with the next normals, each rounded to float32. */
  public float[] fill(float[] dst, int off, int len) {
    for (int i = off; i < off + len; i++) dst[i] = (float) nextGaussian();
    return dst;
  }

  /** Draws and discards {@code count} normals (keeps a stream aligned when its values are not needed). */
  public void skip(long count) {
    for (long i = 0; i < count; i++) nextGaussian();
  }
}
