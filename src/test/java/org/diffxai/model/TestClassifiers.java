package org.diffxai.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;

/**
 * Test fixture for tests of any package: a real TensorFlow SavedModel classifier whose logits are known exactly,
 * {@code logits[n][k] = Σ_i W[k][i] · x[n][i]} over the h·w pixels of a one-channel image (row-major). The weights
 * are a TensorFlow variable (the bundle has a real {@code variables/} directory); there is no model.json, so it loads
 * as a plain classifier with identity intensity and class names {@code class 0, class 1, …}.
 */
public final class TestClassifiers {
  private TestClassifiers() {}

  /**
   * Writes the linear classifier into {@code dir} (created) and returns it.
   *
   * @param weights K rows of h·w weights
   */
  public static Path writeLinear(Path dir, float[][] weights, int h, int w) {
    return writeLinear(dir, weights, h, w, null, false);
  }

  /**
   * {@link #writeLinear(Path, float[][], int, int)}, optionally with a {@link TestBundles.Leak} on the logits (null:
   * none) and with the class count hidden from the signature ({@code hideK}: logits reshaped by a shape that shape
   * inference cannot see, so the signature says [N, ?]).
   */
  public static Path writeLinear(Path dir, float[][] weights, int h, int w, TestBundles.Leak leak, boolean hideK) {
    int k = weights.length;
    float[] flat = new float[k * h * w];
    for (int c = 0; c < k; c++) {
      if (weights[c].length != h * w) throw new IllegalArgumentException("row " + c + " needs " + h * w + " weights");
      System.arraycopy(weights[c], 0, flat, c * h * w, h * w);
    }
    TensorFlowRuntime.ensureLoaded();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, h, w,
          1)));
      Variable<TFloat32> wv = tf.withName("weights").variable(Shape.of(k, (long) h * w), TFloat32.class);
      Placeholder<TFloat32> init = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(k, (long) h * w)));
      Operand<TFloat32> assign = tf.assign(wv, init);
      Operand<TFloat32> logits = tf.linalg.matMul(tf.reshape(x, tf.constant(new int[] {-1, h * w})), wv,
          MatMul.transposeB(true));
      if (hideK) {
        logits = tf.reshape(logits, tf.placeholderWithDefault(tf.constant(new int[] {-1, k}), Shape.of(2)));
      }
      if (leak != null) logits = leak.wrap(tf, logits);
      logits = tf.withName("logits").identity(logits);
      try (Session s = new Session(g);
          org.tensorflow.types.TFloat32 t = TFloat32.tensorOf(Shape.of(k, (long) h * w),
              DataBuffers.of(flat, true, false))) {
        s.runner().feed(init, t).addTarget(assign).run();
        Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("x", x).output("logits", logits).build();
        SavedModelBundle.exporter(dir.toString()).withTags(SavedModelBundle.DEFAULT_TAG)
            .withFunction(SessionFunction.create(sig, s)).export();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }
}
