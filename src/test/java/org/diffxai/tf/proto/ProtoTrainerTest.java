package org.diffxai.tf.proto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.io.ImageFolder;
import org.diffxai.tf.TinyPrototypeBundles;
import org.diffxai.tf.TrainingData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Tiny networks trained for a few epochs: the loss falls, the push is exact, provenance lies inside the images. */
class ProtoTrainerTest {
  static TrainingData data;

  @BeforeAll
  static void load() {
    ImageFolder f = ImageFolder.load(TinyPrototypeBundles.phantomFolder(), TinyPrototypeBundles.SIZE, true);
    List<float[]> x = f.toModelSpace(f.percentileMapping(0.5, 99.5));
    data = TrainingData.of(f.size(), f.size(), 1, x).withLabels(f.labels(), f.classNames());
  }

  private static ProtoConfig config(ProtoConfig.Method m) {
    return TinyPrototypeBundles.config(m).size(TinyPrototypeBundles.SIZE, TinyPrototypeBundles.SIZE);
  }

  @Test
  void ppnet() {
    trainPushAndCheck(ProtoConfig.Method.PPNET);
  }

  @Test
  void eppnet() {
    trainPushAndCheck(ProtoConfig.Method.EPPNET);
  }

  @Test
  void protoPool() {
    trainPushAndCheck(ProtoConfig.Method.PROTOPOOL);
  }

  private void trainPushAndCheck(ProtoConfig.Method m) {
    ProtoConfig cfg = config(m);
    // ProtoPool at a fixed temperature: annealing changes the objective, so its loss is compared at one τ
    ProtoTrainingOptions opts = new ProtoTrainingOptions().epochs(8).warmupEpochs(2).pushEvery(100)
        .lastLayerEpochs(1).batch(8).seed(3).flip(false).tau(1, 1);
    try (ProtoTrainer t = new ProtoTrainer(cfg, opts)) {
      t.train(data, null);
      List<ProtoTrainer.Epoch> e = t.epochs();
      assertEquals(Arrays.asList("warm", "warm", "joint", "joint", "joint", "joint", "joint", "joint", "last"),
          phases(e));
      // the objective falls: the last training epoch's mean loss is below the first's
      assertTrue(e.get(7).loss < e.get(0).loss, m + " loss " + e.get(0).loss + " -> " + e.get(7).loss);

      // push: every prototype is exactly the latent vector of a patch of an image it may represent
      float[] protos = t.weights().get("prototypes");
      float[][] z = t.features(data);
      float[][] identity = t.classIdentity();
      int[] labels = data.labels();
      int d = cfg.featureDepth();
      int w = cfg.gridWidth();
      List<PushRecord> pushed = t.pushRecords();
      assertEquals(cfg.prototypes(), pushed.size());
      for (PushRecord r : pushed) {
        int off = (r.patchRow * w + r.patchCol) * d;
        assertArrayEquals(Arrays.copyOfRange(z[r.sourceIndex], off, off + d),
            Arrays.copyOfRange(protos, r.prototype * d, (r.prototype + 1) * d), 0f, m + " prototype " + r.prototype);
        boolean anyClass = identity[0][r.prototype] == 0 && identity[1][r.prototype] == 0;
        assertTrue(anyClass || identity[labels[r.sourceIndex]][r.prototype] == 1, "source of the prototype's class");
        for (int[] box : new int[][] {r.receptiveBox, r.activationBox}) {
          assertTrue(box[0] >= 0 && box[1] >= 0 && box[2] >= 1 && box[3] >= 1 && box[0] + box[2] <= cfg.width()
              && box[1] + box[3] <= cfg.height(), Arrays.toString(box));
        }
        // the receptive field is centred on the patch: centre = start + index * jump
        int[] rf = r.receptiveBox;
        double cx = cfg.receptiveField().start + r.patchCol * cfg.receptiveField().jump;
        assertTrue(rf[0] <= cx && cx < rf[0] + rf[2]);
      }
      // the push is unique: no two prototypes on the same training patch, none a near-copy of another
      for (PushRecord a : pushed) {
        for (PushRecord b : pushed) {
          if (a.prototype >= b.prototype) continue;
          assertTrue(a.sourceIndex != b.sourceIndex || a.patchRow != b.patchRow || a.patchCol != b.patchCol,
              m + " prototypes " + a.prototype + " and " + b.prototype + " share a patch");
          double cos = PrototypeInfo.cosine(Arrays.copyOfRange(protos, a.prototype * d, (a.prototype + 1) * d),
              Arrays.copyOfRange(protos, b.prototype * d, (b.prototype + 1) * d));
          assertTrue(cos <= PrototypeInfo.DUPLICATE_COSINE, m + " prototypes " + a.prototype + ", " + b.prototype
              + " have cosine " + cos);
        }
      }
    }
  }

  private static List<String> phases(List<ProtoTrainer.Epoch> e) {
    List<String> p = new ArrayList<>();
    for (ProtoTrainer.Epoch x : e) p.add(x.phase);
    return p;
  }

  @Test
  void protoPoolFoldsSlotsOntoThePool() {
    ProtoConfig cfg = config(ProtoConfig.Method.PROTOPOOL);
    ProtoTrainingOptions opts = new ProtoTrainingOptions().epochs(2).warmupEpochs(1).lastLayerEpochs(0).batch(8)
        .seed(5);
    try (ProtoTrainer t = new ProtoTrainer(cfg, opts)) {
      t.train(data, null);
      java.util.Map<String, float[]> w = t.weights();
      float[] q = w.get("slots.logits");
      float[] slotLayer = w.get("slots.last_layer");
      float[] folded = w.get("last_layer");
      int p = cfg.prototypes();
      int slots = cfg.numClasses() * cfg.slotsPerClass();
      float[] expect = new float[cfg.numClasses() * p];
      for (int j = 0; j < slots; j++) {
        int best = ProtoTrainer.argmax(q, j * p, p);
        for (int c = 0; c < cfg.numClasses(); c++) expect[c * p + best] += slotLayer[c * slots + j];
      }
      assertArrayEquals(expect, folded, 0f); // no last-layer epochs: the fold is exported as is
    }
  }

  @Test
  void protoPoolDropsThePoolPrototypesNoSlotChose() {
    // pool 6, 2 classes x 2 slots: at most 4 prototypes are chosen, so at least 2 are dropped
    ProtoConfig cfg = config(ProtoConfig.Method.PROTOPOOL).poolSize(6).slotsPerClass(2);
    ProtoTrainingOptions opts = new ProtoTrainingOptions().epochs(4).warmupEpochs(1).pushEvery(100)
        .lastLayerEpochs(2).batch(8).seed(4);
    try (ProtoTrainer t = new ProtoTrainer(cfg, opts)) {
      t.train(data, null);
      float[][] identity = t.classIdentity();
      float[] last = t.weights().get("last_layer");
      List<Integer> chosen = new ArrayList<>();
      for (int j = 0; j < 6; j++) {
        if (identity[0][j] > 0 || identity[1][j] > 0) {
          chosen.add(j);
        } else { // the last-layer epochs kept the unchosen columns at the fold's 0
          // 0 or -0 (a negative weight times the mask): == treats them alike
          assertTrue(last[j] == 0 && last[6 + j] == 0, "prototype " + j + ": " + last[j] + ", " + last[6 + j]);
        }
      }
      assertTrue(chosen.size() <= 4, chosen.toString());
      float[][] logits = t.logits(data);
      float[][] features = t.features(data);
      float[] protos = t.weights().get("prototypes");
      List<PushRecord> pushed = t.pushRecords();
      try (ProtoTrainer c = t.withoutUnchosen()) {
        int n = chosen.size();
        assertEquals(n, c.config().prototypes());
        assertEquals(6 - n, c.config().removedFromPool());
        assertEquals(6 - n, c.config().describe().get("unchosen_removed"));
        float[] cp = c.weights().get("prototypes");
        float[] cl = c.weights().get("last_layer");
        int d = cfg.featureDepth();
        for (int m = 0; m < n; m++) {
          int j = chosen.get(m);
          assertArrayEquals(Arrays.copyOfRange(protos, j * d, (j + 1) * d), Arrays.copyOfRange(cp, m * d,
              (m + 1) * d), 0f);
          assertEquals(last[j], cl[m]);
          assertEquals(last[6 + j], cl[n + m]);
          assertTrue(cl[m] != 0 || cl[n + m] != 0, "a kept prototype has a weight");
          PushRecord a = pushed.get(j);
          PushRecord b = c.pushRecords().get(m);
          assertEquals(m, b.prototype);
          assertEquals(a.sourceIndex, b.sourceIndex);
          assertEquals(a.patchRow * 100 + a.patchCol, b.patchRow * 100 + b.patchCol);
          assertArrayEquals(a.activationBox, b.activationBox);
        }
        assertEquals(n, c.pushRecords().size());
        assertArrayEquals(features[3], c.features(data)[3], 0f); // the same backbone and add-on
        float[][] cLogits = c.logits(data); // the dropped prototypes had zero weights: the same decision
        for (int i = 0; i < logits.length; i++) assertArrayEquals(logits[i], cLogits[i], 1e-5f);
        assertEquals(t.epochs().size(), c.epochs().size());
      }
    }
    try (ProtoTrainer t = new ProtoTrainer(config(ProtoConfig.Method.PPNET), opts)) {
      t.train(data, null);
      assertTrue(t.withoutUnchosen() == t, "PPNet has no pool");
    }
  }

  @Test
  void sameSeedSameNetwork() {
    ProtoConfig cfg = config(ProtoConfig.Method.EPPNET);
    ProtoTrainingOptions opts = new ProtoTrainingOptions().epochs(2).warmupEpochs(1).lastLayerEpochs(1).batch(8)
        .seed(9);
    float[][] a = new float[2][];
    for (int i = 0; i < 2; i++) {
      try (ProtoTrainer t = new ProtoTrainer(cfg, opts)) {
        t.train(data, null);
        a[i] = t.weights().get("prototypes");
      }
    }
    assertArrayEquals(a[0], a[1], 0f);
  }
}
