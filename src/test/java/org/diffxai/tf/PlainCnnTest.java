package org.diffxai.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlClassifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plain CNN of the independent lesion check: learns discs vs rings, and its bundle loads with the same logits. */
class PlainCnnTest {
  private static final int S = 16;

  @TempDir
  Path tmp;

  @Test
  void learnsAndItsBundleGivesTheSameLogits() {
    int[] labels = new int[96];
    List<float[]> train = Synthetic.images(96, S, 31, labels);
    int[] testLabels = new int[40];
    List<float[]> test = Synthetic.images(40, S, 32, testLabels);
    float[] x = new float[40 * S * S];
    for (int i = 0; i < 40; i++) System.arraycopy(test.get(i), 0, x, i * S * S, S * S);
    IntensityMapping map = new IntensityMapping(500, 400); // image = model · 500 + 400
    Path dir = tmp.resolve("cnn");
    float[][] logits;
    try (PlainCnn cnn = new PlainCnn(S, 2, 8, 4)) {
      cnn.train(train, labels, 6, 16, 3e-3, 0.2, Progress.NONE);
      float[] l = cnn.losses();
      assertEquals(36, l.length);
      logits = cnn.logits(x, 40);
      int hits = 0;
      for (int i = 0; i < 40; i++) hits += (logits[i][1] > logits[i][0] ? 1 : 0) == testLabels[i] ? 1 : 0;
      assertTrue(hits >= 36, "unseen accuracy " + hits + "/40, losses " + Arrays.toString(l));
      cnn.writeBundle(dir, "cnn", Arrays.asList("disc", "ring"), map, Collections.emptyMap());
    }
    ClassifierBundle b = ClassifierBundle.open(dir);
    assertTrue(b.checksumsVerified());
    assertEquals(Arrays.asList("disc", "ring"), b.classNames());
    float[] image = map.toImage(x.clone());
    try (DjlClassifier c = ClassifierModels.load(b, "cpu")) {
      float[][] got = c.logits(image, 40);
      for (int i = 0; i < 40; i++) assertArrayEquals(logits[i], got[i], 1e-4f, "image " + i);
    }
  }
}
