package org.diffxai.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.diffxai.model.TensorFlowRuntime;
import org.diffxai.tf.UNetBuilder;
import org.diffxai.tf.UNetConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** The FLOP counter against counts done by hand. */
class FlopCounterTest {

  @BeforeAll
  static void load() {
    TensorFlowRuntime.ensureLoaded();
  }

  @Test
  void countsConvMatMulAndBatchMatMulByHand() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 10, 12, 3)));
      Operand<TFloat32> w1 = tf.zeros(tf.constant(new int[] {3, 3, 3, 5}), TFloat32.class);
      // stride 2, SAME: output 5 x 6 x 5
      Operand<TFloat32> c1 = tf.nn.conv2d(x, w1, Arrays.asList(1L, 2L, 2L, 1L), "SAME");
      Operand<TFloat32> w2 = tf.zeros(tf.constant(new int[] {1, 1, 5, 7}), TFloat32.class);
      Operand<TFloat32> c2 = tf.nn.conv2d(c1, w2, Arrays.asList(1L, 1L, 1L, 1L), "VALID"); // 5 x 6 x 7
      Operand<TFloat32> seq = tf.reshape(c2, tf.constant(new int[] {-1, 30, 7}));
      Operand<TFloat32> att = tf.train.batchMatMul(seq, seq, TFloat32.class, BatchMatMul.adjY(true)); // [N,30,30]
      Operand<TFloat32> flat = tf.reshape(att, tf.constant(new int[] {-1, 900}));
      Operand<TFloat32> m = tf.zeros(tf.constant(new int[] {4, 900}), TFloat32.class);
      Operand<TFloat32> y = tf.withName("y").linalg.matMul(flat, m, MatMul.transposeB(true)); // [N,900]x[900,4]
      FlopCounter.Count c = FlopCounter.count(g, "y");
      long conv1 = 2L * 5 * 6 * 3 * 3 * 3 * 5;
      long conv2 = 2L * 5 * 6 * 1 * 1 * 5 * 7;
      long bmm = 2L * 30 * 7 * 30;
      long mm = 2L * 900 * 4;
      assertEquals(conv1 + conv2, (long) c.flopsByType.get("Conv2D"));
      assertEquals(mm, (long) c.flopsByType.get("MatMul"));
      assertEquals(bmm, c.flopsByType.entrySet().stream().filter(e -> e.getKey().startsWith("BatchMatMul"))
          .mapToLong(e -> e.getValue()).sum());
      assertEquals(conv1 + conv2 + bmm + mm, c.flopsPerSample);
      assertEquals(2, (int) c.countedOps.get("Conv2D"));
    }
  }

  @Test
  void onlyCountsWhatTheOutputDependsOn() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> a = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8)));
      Operand<TFloat32> w = tf.zeros(tf.constant(new int[] {8, 2}), TFloat32.class);
      tf.withName("used").linalg.matMul(a, w);
      tf.withName("unused").linalg.matMul(a, tf.zeros(tf.constant(new int[] {8, 100}), TFloat32.class));
      assertEquals(2L * 8 * 2, FlopCounter.count(g, "used:0").flopsPerSample);
    }
  }

  @Test
  void refusesUnknownNonBatchDimensions() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> a = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
      Placeholder<TFloat32> b = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      tf.withName("y").linalg.matMul(a, b);
      assertThrows(IllegalStateException.class, () -> FlopCounter.count(g, "y"));
    }
  }

  /**
   * The sample model's architecture (64×64×1, base 32, multipliers 1,2,2, one block per level, mid attention), counted
   * by hand from UNetBuilder's layout, layer by layer (2·H·W·k²·C_in·C_out per convolution):
   * <pre>
   * conv_in 1→32 @64²                                       2,359,296
   * down.0 res 32→32 @64² (2 convs)                       150,994,944
   * down.0 downsample 32→32 stride 2 → 32²                 18,874,368
   * down.1 res 32→64 @32² (3×3 32→64, 3×3 64→64, 1×1)      117,440,512
   * down.1 downsample 64→64 → 16²                          18,874,368
   * down.2 res 64→64 @16²                                  37,748,736
   * mid res, attention q/k/v/out 1×1, res @16²             83,886,080
   * up.2 2× res (128→64 with 1×1 shortcut) @16²           121,634,816
   * up.2 upsample conv 64→64 @32²                          75,497,472
   * up.1 res 128→64, res 96→64 @32²                       444,596,224
   * up.1 upsample conv 64→64 @64²                         301,989,888
   * up.0 res 96→32, res 64→32 @64²                        570,425,344
   * conv_out 32→1 @64²                                      2,359,296
   * Conv2D total                                        1,946,681,344
   * MatMul: time MLP 32→128→128, 11 time_emb_proj 128→C        196,608
   * attention: QKᵀ and AV, 256×256×64 each                 16,777,216
   * </pre>
   */
  @Test
  void sampleUNetMatchesHandCount() {
    UNetConfig cfg = new UNetConfig().size(64, 64).channels(1).numClasses(2).baseChannels(32)
        .channelMultipliers(1, 2, 2).groups(8).layersPerBlock(1).attention(true);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 64, 64, 1)));
      Placeholder<TFloat32> t = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Placeholder<TInt32> label = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      UNetBuilder.Weights weights = spec -> tf.zeros(tf.constant(spec.shape()), TFloat32.class);
      Operand<TFloat32> y = tf.withName("out").identity(new UNetBuilder(cfg).build(tf, weights, x, t, label, null));
      FlopCounter.Count c = FlopCounter.count(g, "out");
      assertEquals(1_946_681_344L, (long) c.flopsByType.get("Conv2D"));
      assertEquals(196_608L, (long) c.flopsByType.get("MatMul"));
      assertEquals(1_946_681_344L + 196_608L + 16_777_216L, c.flopsPerSample);
      assertEquals(39, (int) c.countedOps.get("Conv2D"));
      assertFalse(c.uncountedOps.containsKey("Conv2D"));
      assertArrayEquals(new long[] {-1, 64, 64, 1}, y.shape().asArray());
    }
  }
}
