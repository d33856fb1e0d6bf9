package org.diffxai.tf.proto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.io.ImageFolder;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.tf.TinyPrototypeBundles;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;

/** The exported bundle of each method, loaded back through DJL: the prototype contract holds on real numbers. */
class PrototypeBundleTest {
  @TempDir
  Path tmp;

  @Test
  void ppnet() {
    bundleKeepsTheContract("PPNet");
  }

  @Test
  void eppnet() {
    bundleKeepsTheContract("EPPNet");
  }

  @Test
  void protoPool() {
    bundleKeepsTheContract("ProtoPool");
  }

  private void bundleKeepsTheContract(String method) {
    Path dir = TinyPrototypeBundles.train(tmp, method);
    ClassifierBundle b = ClassifierBundle.open(dir);
    assertTrue(b.isPrototypeNetwork());
    assertEquals(method, b.method());
    ImageFolder folder = ImageFolder.load(TinyPrototypeBundles.phantomFolder(), TinyPrototypeBundles.SIZE, true);
    com.google.gson.JsonObject input = com.google.gson.JsonParser.parseString(readModelJson(dir)).getAsJsonObject()
        .getAsJsonObject("training").getAsJsonObject("input");
    assertEquals(folder.count(), input.get("input_images").getAsInt(), "the input summary is in the provenance");
    assertEquals("pad", input.get("input_fit").getAsString());
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(b, "cpu")) {
      int n = 4;
      int px = c.height() * c.width();
      float[] x = new float[n * px];
      for (int i = 0; i < n; i++) System.arraycopy(folder.image(i * 5), 0, x, i * px, px);
      PrototypeActivations a = c.activations(x, n);
      float[][] w = c.lastLayer();
      float[][] logits = c.logits(x, n);
      for (int i = 0; i < n; i++) {
        assertArrayEquals(logits[i], a.logits[i], 1e-5f);
        for (int k = 0; k < w.length; k++) {
          double s = 0;
          for (int p = 0; p < c.prototypes(); p++) s += w[k][p] * a.scores[i][p];
          assertEquals(s, logits[i][k], 1e-4, "logits = last layer x scores");
        }
      }
      float[][] protos = c.prototypeVectors();
      for (int p = 0; p < c.prototypes(); p++) {
        PrototypeInfo info = c.prototype(p);
        int idx = folder.files().indexOf(folder.root().resolve(info.sourceImage));
        float[][] f = c.features(folder.image(idx).clone(), 1);
        int d = c.featureDepth();
        int off = (info.patchRow * c.mapWidth() + info.patchCol) * d;
        for (int j = 0; j < d; j++) assertEquals(protos[p][j], f[0][off + j], 1e-5f, "prototype " + p);
        for (int[] box : new int[][] {info.receptiveBox, info.activationBox}) {
          assertTrue(box[0] >= 0 && box[1] >= 0 && box[2] > 0 && box[3] > 0 && box[0] + box[2] <= c.width()
              && box[1] + box[3] <= c.height());
        }
      }
    }
  }

  private static String readModelJson(Path dir) {
    try {
      return new String(java.nio.file.Files.readAllBytes(dir.resolve("model.json")),
          java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
