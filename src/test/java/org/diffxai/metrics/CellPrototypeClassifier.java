package org.diffxai.metrics;

import java.util.ArrayList;
import java.util.List;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeInfo;

/**
 * A prototype network whose evidence is known exactly: the latent grid is the image in 4×4-pixel cells, the latent
 * vector of a cell is (mean, max) of its pixels, and prototype p sees only its own cell: similarity_p(cell) =
 * gain_p · mean(cell) on that cell and 0 elsewhere; its score is the maximum over cells. logits = W · scores.
 * Occluding prototype p's cell with zeros therefore drops its score to 0 and the target logit by exactly W[t][p]·s_p.
 */
public final class CellPrototypeClassifier implements PrototypeClassifier {
  static final int CELL = 4;
  final int h, w;
  final int[] cellOf; // prototype -> cell index
  final float[] gain;
  final float[][] lastLayer;

  CellPrototypeClassifier(int h, int w, int[] cellOf, float[] gain, float[][] lastLayer) {
    this.h = h;
    this.w = w;
    this.cellOf = cellOf;
    this.gain = gain;
    this.lastLayer = lastLayer;
  }

  /** The pixel box {x, y, w, h} of a cell. */
  int[] box(int cell) {
    int cols = w / CELL;
    return new int[] {(cell % cols) * CELL, (cell / cols) * CELL, CELL, CELL};
  }

  @Override
  public int height() {
    return h;
  }

  @Override
  public int width() {
    return w;
  }

  @Override
  public int channels() {
    return 1;
  }

  @Override
  public List<String> classNames() {
    List<String> n = new ArrayList<>();
    for (int k = 0; k < lastLayer.length; k++) n.add("c" + k);
    return n;
  }

  @Override
  public float[][] logits(float[] x, int n) {
    return activations(x, n).logits;
  }

  @Override
  public String method() {
    return "PPNet";
  }

  @Override
  public int prototypes() {
    return cellOf.length;
  }

  @Override
  public int mapHeight() {
    return h / CELL;
  }

  @Override
  public int mapWidth() {
    return w / CELL;
  }

  @Override
  public int featureDepth() {
    return 2;
  }

  @Override
  public float[][] lastLayer() {
    return lastLayer;
  }

  @Override
  public float[][] prototypeVectors() {
    float[][] v = new float[cellOf.length][];
    for (int p = 0; p < v.length; p++) v[p] = new float[] {p, 2 * p};
    return v;
  }

  @Override
  public PrototypeInfo prototype(int p) {
    return new PrototypeInfo(p, 0, "img.tif", 0, 0, 0, new int[4], new int[4], 0);
  }

  @Override
  public PrototypeActivations activations(float[] x, int n) {
    int cells = mapHeight() * mapWidth(), pn = prototypes(), k = lastLayer.length;
    float[][] logits = new float[n][k], scores = new float[n][pn], sim = new float[n][cells * pn];
    float[][] minDist = new float[n][pn];
    float[][] feats = features(x, n);
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < pn; p++) {
        float best = 0;
        for (int cell = 0; cell < cells; cell++) {
          float s = cell == cellOf[p] ? gain[p] * feats[i][cell * 2] : 0;
          sim[i][cell * pn + p] = s;
          best = Math.max(best, s);
        }
        scores[i][p] = best;
      }
      for (int c = 0; c < k; c++) {
        double s = 0;
        for (int p = 0; p < pn; p++) s += (double) lastLayer[c][p] * scores[i][p];
        logits[i][c] = (float) s;
      }
    }
    return new PrototypeActivations(logits, scores, sim, minDist);
  }

  @Override
  public float[][] features(float[] x, int n) {
    int mh = mapHeight(), mw = mapWidth(), d = h * w;
    float[][] f = new float[n][mh * mw * 2];
    for (int i = 0; i < n; i++) {
      for (int cy = 0; cy < mh; cy++) {
        for (int cx = 0; cx < mw; cx++) {
          double sum = 0;
          float max = Float.NEGATIVE_INFINITY;
          for (int y = cy * CELL; y < cy * CELL + CELL; y++) {
            for (int xx = cx * CELL; xx < cx * CELL + CELL; xx++) {
              float v = x[i * d + y * w + xx];
              sum += v;
              max = Math.max(max, v);
            }
          }
          f[i][(cy * mw + cx) * 2] = (float) (sum / (CELL * CELL));
          f[i][(cy * mw + cx) * 2 + 1] = max;
        }
      }
    }
    return f;
  }
}
