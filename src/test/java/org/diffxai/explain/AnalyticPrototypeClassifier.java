package org.diffxai.explain;

import java.util.List;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeInfo;

/**
 * A prototype network small enough to compute by hand, for tests without TensorFlow. The input (side × side, one
 * channel) is mapped to model space by {@code (x − offset) / scale}; the latent grid holds the means of block × block
 * pixel blocks (D = 1); similarity is ProtoPNet's {@code log((d + 1) / (d + 1e-4))} of the squared distance d; the
 * score of a prototype is its largest similarity; logits = lastLayer · scores. Prototype p's gallery plane is p.
 */
public final class AnalyticPrototypeClassifier implements PrototypeClassifier {
  final int side;
  final int block;
  final double offset;
  final double scale;
  final float[] prototypes;
  final int[] classes;
  final float[][] lastLayer;
  final List<String> names;
  int channels = 1;
  int calls;
  int largestBatch;

  public AnalyticPrototypeClassifier(int side, int block, double offset, double scale, float[] prototypes,
      int[] classes, float[][] lastLayer, List<String> names) {
    this.side = side;
    this.block = block;
    this.offset = offset;
    this.scale = scale;
    this.prototypes = prototypes;
    this.classes = classes;
    this.lastLayer = lastLayer;
    this.names = names;
  }

  static double similarity(double d) {
    return Math.log((d + 1) / (d + 1e-4));
  }

  @Override
  public int height() {
    return side;
  }

  @Override
  public int width() {
    return side;
  }

  @Override
  public int channels() {
    return channels;
  }

  @Override
  public List<String> classNames() {
    return names;
  }

  @Override
  public String method() {
    return "PPNet";
  }

  @Override
  public int prototypes() {
    return prototypes.length;
  }

  @Override
  public int mapHeight() {
    return side / block;
  }

  @Override
  public int mapWidth() {
    return side / block;
  }

  @Override
  public int featureDepth() {
    return 1;
  }

  @Override
  public float[][] lastLayer() {
    return lastLayer;
  }

  @Override
  public float[][] prototypeVectors() {
    float[][] v = new float[prototypes.length][];
    for (int p = 0; p < v.length; p++) v[p] = new float[] {prototypes[p]};
    return v;
  }

  @Override
  public PrototypeInfo prototype(int p) {
    return new PrototypeInfo(p, classes[p], "train/p" + p + ".tif", 10 + p, p % mapHeight(), 0,
        new int[] {0, 0, block * 2, block * 2}, new int[] {1, 2, 3, 4}, p);
  }

  @Override
  public float[][] features(float[] x, int n) {
    int g = side / block;
    float[][] f = new float[n][g * g];
    for (int i = 0; i < n; i++) {
      for (int r = 0; r < g; r++) {
        for (int c = 0; c < g; c++) {
          double sum = 0;
          for (int y = r * block; y < (r + 1) * block; y++) {
            for (int xx = c * block; xx < (c + 1) * block; xx++) {
              sum += (x[i * side * side + y * side + xx] - offset) / scale;
            }
          }
          f[i][r * g + c] = (float) (sum / (block * block));
        }
      }
    }
    return f;
  }

  @Override
  public PrototypeActivations activations(float[] x, int n) {
    calls++;
    largestBatch = Math.max(largestBatch, n);
    float[][] f = features(x, n);
    int cells = f[0].length, np = prototypes.length, k = lastLayer.length;
    float[][] sim = new float[n][cells * np], scores = new float[n][np], minD = new float[n][np];
    float[][] logits = new float[n][k];
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < np; p++) {
        double best = Double.NEGATIVE_INFINITY, dmin = Double.POSITIVE_INFINITY;
        for (int c = 0; c < cells; c++) {
          double d = (f[i][c] - prototypes[p]) * (double) (f[i][c] - prototypes[p]);
          double s = similarity(d);
          sim[i][c * np + p] = (float) s;
          best = Math.max(best, s);
          dmin = Math.min(dmin, d);
        }
        scores[i][p] = (float) best;
        minD[i][p] = (float) dmin;
      }
      for (int kk = 0; kk < k; kk++) {
        double l = 0;
        for (int p = 0; p < np; p++) l += lastLayer[kk][p] * scores[i][p];
        logits[i][kk] = (float) l;
      }
    }
    return new PrototypeActivations(logits, scores, sim, minD);
  }

  @Override
  public float[][] logits(float[] x, int n) {
    return activations(x, n).logits;
  }
}
