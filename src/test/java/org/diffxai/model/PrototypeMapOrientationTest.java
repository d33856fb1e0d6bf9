package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeMaps;
import org.diffxai.tf.TinyPrototypeBundles;
import org.diffxai.tf.proto.ProtoConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The similarity maps of a trained bundle are laid out as the image is: row 0 at the top, column 0 at the left,
 * row-major, [row·w + col]·P + prototype (docs/bias-report.md, "Orientation"). A bright mark put into the top-right
 * corner of a phantom may change the similarity only in the latent cells whose receptive field (the backbone's
 * convolutions, {@link ProtoConfig#receptiveField}) holds a pixel of the mark; a map read upside down, mirrored or
 * transposed puts the change into cells that cannot see the mark.
 */
class PrototypeMapOrientationTest {

  @Test
  void aMarkChangesOnlyTheCellsThatSeeIt(@TempDir Path tmp) {
    Path bundle = TinyPrototypeBundles.train(tmp, "PPNet");
    int s = TinyPrototypeBundles.SIZE;
    float[] plain = java.util.Arrays.copyOf(TinyPrototypeBundles.images(1), s * s);
    float[] marked = plain.clone();
    int[] mark = {s - 6, 2, 4, 3}; // x, y, w, h: top-right corner, in the air outside the head
    for (int y = mark[1]; y < mark[1] + mark[3]; y++) {
      for (int x = mark[0]; x < mark[0] + mark[2]; x++) marked[y * s + x] = 1f;
    }
    float[] both = new float[2 * s * s];
    System.arraycopy(plain, 0, both, 0, s * s);
    System.arraycopy(marked, 0, both, s * s, s * s);
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open(bundle), "cpu")) {
      PrototypeActivations a = c.activations(both, 2);
      int p = c.prototypes(), h = c.mapHeight(), w = c.mapWidth();
      PrototypeMaps.ReceptiveField rf = TinyPrototypeBundles.config(ProtoConfig.Method.PPNET).size(s, s)
          .receptiveField();
      double seen = 0;
      int blind = 0, seeing = 0;
      for (int row = 0; row < h; row++) {
        for (int col = 0; col < w; col++) {
          double change = 0;
          for (int q = 0; q < p; q++) {
            int i = (row * w + col) * p + q;
            change += Math.abs(a.similarity[1][i] - a.similarity[0][i]);
          }
          int[] b = rf.box(row, col, s, s);
          boolean sees = b[0] < mark[0] + mark[2] && mark[0] < b[0] + b[2] && b[1] < mark[1] + mark[3]
              && mark[1] < b[1] + b[3];
          if (sees) {
            seen += change;
            seeing++;
          } else {
            blind++;
            assertTrue(change < 1e-5, "cell (row " + row + ", col " + col + ") cannot see the mark but its "
                + "similarity changed by " + change);
          }
        }
      }
      assertTrue(blind > h * w / 2 && seeing > 0, blind + " blind cells, " + seeing + " seeing");
      assertTrue(seen > 1e-3, "the mark changed no similarity: " + seen);
    }
  }
}
