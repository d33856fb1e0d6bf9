package org.diffxai.core;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * The one seeding scheme of the project: a user's {@code long} seed is split into named sub-streams, so that adding a
 * random draw to one part of a computation never shifts the numbers of another part.
 *
 * <p>The sub-seed of stream {@code name} is {@code mix64(mix64(seed) + h(name)·γ)}, where h is the 64-bit FNV-1a hash
 * of the name's UTF-8 bytes and mix64/γ are SplitMix64's finaliser and increment ({@link GaussianNoise}); an index
 * (image, prototype, iteration) refines it once more the same way. Every stream is a SplitMix64 generator
 * ({@link #random}) or a {@link GaussianNoise}, so the numbers are the same on every JVM and platform.
 *
 * <p>Existing artefacts keep the streams they were made with ({@link GaussianNoise#forSample} for the diffusion noise,
 * the phantom generator's streams); new code takes its randomness from here.
 */
public final class Seeds {
  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private Seeds() {}

  /** The sub-seed of stream {@code name} of {@code seed}. */
  public static long stream(long seed, String name) {
    return GaussianNoise.mix64(GaussianNoise.mix64(seed) + fnv1a(name) * GaussianNoise.GAMMA);
  }

  /** The sub-seed of item {@code index} of stream {@code name} of {@code seed}. */
  public static long stream(long seed, String name, long index) {
    return GaussianNoise.mix64(stream(seed, name) + (index + 1) * GaussianNoise.GAMMA);
  }

  /** A SplitMix64 generator for stream {@code name}, with {@link Random}'s API (its algorithms are specified). */
  public static Random random(long seed, String name) {
    return new SplitMixRandom(stream(seed, name));
  }

  /** A SplitMix64 generator for item {@code index} of stream {@code name}. */
  public static Random random(long seed, String name, long index) {
    return new SplitMixRandom(stream(seed, name, index));
  }

  /** Standard normals (Box–Muller on SplitMix64, see {@link GaussianNoise}) for item {@code index} of a stream. */
  public static GaussianNoise gaussian(long seed, String name, long index) {
    return new GaussianNoise(stream(seed, name, index));
  }

  static long fnv1a(String name) {
    long h = FNV_OFFSET;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= FNV_PRIME;
    }
    return h;
  }

  /**
   * {@link Random} whose bits come from SplitMix64 ({@link GaussianNoise#nextLong()}): {@code next(bits)} returns the
   * top bits of the next 64-bit output. Random's derived methods (nextInt(bound), nextDouble, nextGaussian with
   * StrictMath) are specified by the JDK, so the numbers do not depend on the JVM.
   */
  private static final class SplitMixRandom extends Random {
    private static final long serialVersionUID = 1L;
    private GaussianNoise bits;

    SplitMixRandom(long seed) {
      super(0);
      bits = new GaussianNoise(seed);
    }

    @Override
    public synchronized void setSeed(long seed) {
      super.setSeed(seed);
      bits = new GaussianNoise(seed); // called once by Random's constructor, before the field is assigned
    }

    @Override
    protected int next(int n) {
      return (int) (bits.nextLong() >>> (64 - n));
    }

    @Override
    public long nextLong() {
      return bits.nextLong();
    }
  }
}
