package org.diffxai.bench;

import java.util.Random;
import org.diffxai.model.TensorFlowRuntime;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * TensorFlow's own float32 matrix-multiply speed on this machine: an S×S by S×S {@code MatMul} (2·S³ FLOPs) in a TF
 * Java graph session configured like the denoiser's DJL session on the CPU (no GPU devices; the thread-count system
 * properties {@code ai.djl.tensorflow.num_interop_threads} / {@code num_intraop_threads} applied when set, else
 * TensorFlow's defaults). Both operands are fed through placeholders, so no constant folding can skip the work; the
 * product stays in a native tensor (it is not copied to Java).
 */
final class MatmulPeak implements AutoCloseable {
  final int size;
  private final Graph graph;
  private final Session session;
  private final Placeholder<TFloat32> a;
  private final Placeholder<TFloat32> b;
  private final MatMul<TFloat32> product;
  private final TFloat32 at;
  private final TFloat32 bt;

  /** Builds the graph and session and runs three warm-up multiplications. */
  MatmulPeak(int size) throws Exception {
    TensorFlowRuntime.ensureLoaded();
    this.size = size;
    Random rnd = new Random(1);
    float[] av = new float[size * size];
    float[] bv = new float[size * size];
    for (int i = 0; i < av.length; i++) {
      av[i] = rnd.nextFloat() * 2 - 1;
      bv[i] = rnd.nextFloat() * 2 - 1;
    }
    graph = new Graph();
    Ops tf = Ops.create(graph);
    a = tf.withName("a").placeholder(TFloat32.class, Placeholder.shape(Shape.of(size, size)));
    b = tf.withName("b").placeholder(TFloat32.class, Placeholder.shape(Shape.of(size, size)));
    product = tf.withName("product").linalg.matMul(a, b);
    session = new Session(graph, cpuSessionConfig());
    at = TFloat32.tensorOf(Shape.of(size, size), DataBuffers.of(av, true, false));
    bt = TFloat32.tensorOf(Shape.of(size, size), DataBuffers.of(bv, true, false));
    for (int i = 0; i < 3; i++) run(); // warm-up: kernel selection, thread pools, page faults
  }

  /** FLOPs of one multiplication. */
  double flops() {
    return 2.0 * size * size * (double) size;
  }

  /** One multiplication. */
  void run() {
    try (org.tensorflow.Result r = session.runner().feed(a, at).feed(b, bt).fetch(product).run()) {
      if (r.size() != 1) throw new IllegalStateException("matmul returned " + r.size() + " tensors");
    }
  }

  /** Session settings mirroring {@code TensorFlowRuntime.sessionConfigOption} for the CPU. */
  static ConfigProto cpuSessionConfig() {
    ConfigProto.Builder b = ConfigProto.newBuilder().putDeviceCount("GPU", 0);
    Integer inter = Integer.getInteger("ai.djl.tensorflow.num_interop_threads");
    Integer intra = Integer.getInteger("ai.djl.tensorflow.num_intraop_threads");
    if (inter != null) b.setInterOpParallelismThreads(inter);
    if (intra != null) b.setIntraOpParallelismThreads(intra);
    return b.build();
  }

  @Override
  public void close() {
    at.close();
    bt.close();
    session.close();
    graph.close();
  }
}
