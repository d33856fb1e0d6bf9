package org.diffxai.tf;

import java.util.Arrays;
import java.util.Random;

/** One trainable tensor of a network: its name, shape and how it is initialised (in Java, from a seeded Random). */
public final class ParamSpec {

  /** Initialisation rule. */
  public enum Init {
    /**
     * U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for conv/linear weights and biases (kaiming_uniform with
     * a = sqrt(5)), which diffusers' UNet2DModel uses.
     */
    FAN_IN_UNIFORM,
    /**
     * U(-sqrt(6/fan_in), sqrt(6/fan_in)): He initialisation (He et al. 2015, "Delving Deep into Rectifiers", Eq. 10),
     * which keeps the activation variance of a plain ReLU stack constant with depth.
     */
    HE_UNIFORM,
    /** U(0, 1): ProtoPNet's initial prototype vectors (Chen et al. 2019, torch.rand). */
    UNIT_UNIFORM,
    /** N(0, 1): PyTorch's nn.Embedding default. */
    NORMAL,
    ONES,
    ZEROS
  }

  private final String name;
  private final long[] shape;
  private final Init init;
  private final int fanIn;

  public ParamSpec(String name, long[] shape, Init init, int fanIn) {
    this.name = name;
    this.shape = shape.clone();
    this.init = init;
    this.fanIn = fanIn;
  }

  public String name() {
    return name;
  }

  public long[] shape() {
    return shape.clone();
  }

  public Init init() {
    return init;
  }

  public int size() {
    long n = 1;
    for (long d : shape) n *= d;
    return Math.toIntExact(n);
  }

  /** Fresh initial values drawn from {@code rnd}. */
  public float[] initialValues(Random rnd) {
    float[] v = new float[size()];
    switch (init) {
      case FAN_IN_UNIFORM:
        double bound = 1.0 / Math.sqrt(Math.max(1, fanIn));
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        break;
      case HE_UNIFORM:
        double he = Math.sqrt(6.0 / Math.max(1, fanIn));
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rnd.nextDouble() * 2 - 1) * he);
        break;
      case UNIT_UNIFORM:
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextDouble();
        break;
      case NORMAL:
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        break;
      case ONES:
        Arrays.fill(v, 1f);
        break;
      default:
        break;
    }
    return v;
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape);
  }
}
