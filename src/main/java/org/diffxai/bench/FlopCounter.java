package org.diffxai.bench;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.diffxai.model.SavedModels;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * Counts the floating-point operations of one forward pass of a graph, per sample, from the graph itself.
 *
 * <p>Method: starting at the output tensor(s) of a signature, every op the output depends on (data and control inputs,
 * followed backwards) is visited once. Ops that do the multiply-adds of a network are counted as 2 FLOPs per
 * multiply-add, from the static shapes TensorFlow inferred when the graph was loaded:
 *
 * <ul>
 *   <li>{@code Conv2D}: 2·H_out·W_out·k_h·k_w·C_in·C_out (output [N,H_out,W_out,C_out], filter [k_h,k_w,C_in,C_out];
 *       NCHW is handled too). Zero padding at the borders is counted as if it were data, as is usual.
 *   <li>{@code MatMul}: 2·M·K·N for [M,K]·[K,N] (transpose attributes honoured).
 *   <li>{@code BatchMatMul}, {@code BatchMatMulV2}, {@code BatchMatMulV3}: 2·M·K·N per matrix pair, times the batch
 *       dimensions (adj_x/adj_y honoured).
 * </ul>
 *
 * The leading (batch) dimension is dynamic in the bundles this project writes; it is taken as 1, which gives the count
 * per sample. Any other unknown dimension of a counted op is an error, as the count would be a guess. Everything else
 * (BiasAdd, GroupNorm's mean/variance/rsqrt, SiLU's sigmoid and multiply, Softmax, additions, resizes, concatenations)
 * is NOT counted: {@link Count#uncountedOps} lists those op types with how often they occur, so a reader can see that
 * nothing heavy was missed. For the project's UNet these elementwise ops are a few per activation value, i.e. well
 * under 1% of the convolution FLOPs, but memory-bound, so they do cost time: the throughput figure is deliberately
 * "useful convolution/matmul FLOPs per second".
 */
public final class FlopCounter {

  /** Op types counted. */
  static final Set<String> COUNTED = new HashSet<>(java.util.Arrays.asList("Conv2D", "MatMul", "BatchMatMul",
      "BatchMatMulV2", "BatchMatMulV3"));

  /** The result of a count. */
  public static final class Count {
    /** FLOPs per sample of the counted ops. */
    public long flopsPerSample;
    /** FLOPs per sample by op type (counted types only). */
    public final Map<String, Long> flopsByType = new TreeMap<>();
    /** Number of counted ops by type. */
    public final Map<String, Integer> countedOps = new TreeMap<>();
    /** Op types reached but not counted, with how often each occurs. */
    public final Map<String, Integer> uncountedOps = new TreeMap<>();

    @Override
    public String toString() {
      return flopsPerSample + " FLOPs/sample " + flopsByType + " ops " + countedOps;
    }
  }

  private FlopCounter() {}

  /**
   * Loads the SavedModel in {@code dir} (tag serve) with TensorFlow Java and counts the ops the outputs of
   * {@code signatureKey} depend on.
   */
  public static Count countSavedModel(Path dir, String signatureKey) {
    try (SavedModelBundle b = SavedModels.loadTensorFlow(dir, String.valueOf(dir.getFileName()), false)) {
      SignatureDef sig = b.metaGraphDef().getSignatureDefMap().get(signatureKey);
      if (sig == null) {
        throw new IllegalArgumentException("SavedModel " + dir + " has no signature '" + signatureKey + "'");
      }
      String[] outputs = new String[sig.getOutputsCount()];
      int i = 0;
      for (TensorInfo ti : sig.getOutputsMap().values()) outputs[i++] = opName(ti.getName());
      return count(b.graph(), outputs);
    }
  }

  /** Counts the ops that the named ops depend on (op names, or tensor names such as {@code out:0}). */
  public static Count count(Graph g, String... outputOps) {
    Deque<GraphOperation> todo = new ArrayDeque<>();
    Set<String> seen = new HashSet<>();
    for (String name : outputOps) {
      GraphOperation op = g.operation(opName(name));
      if (op == null) throw new IllegalArgumentException("No op named " + name + " in the graph");
      if (seen.add(op.name())) todo.add(op);
    }
    Count c = new Count();
    while (!todo.isEmpty()) {
      GraphOperation op = todo.poll();
      String type = op.type();
      if (COUNTED.contains(type)) {
        long f = flops(op);
        c.flopsPerSample = Math.addExact(c.flopsPerSample, f);
        c.flopsByType.merge(type, f, Long::sum);
        c.countedOps.merge(type, 1, Integer::sum);
      } else {
        c.uncountedOps.merge(type, 1, Integer::sum);
      }
      for (int k = 0; k < op.numInputs(); k++) {
        GraphOperation in = (GraphOperation) op.input(k).op();
        if (seen.add(in.name())) todo.add(in);
      }
      for (GraphOperation in : op.controlInputs()) {
        if (seen.add(in.name())) todo.add(in);
      }
    }
    return c;
  }

  /** FLOPs per sample of one counted op. */
  static long flops(GraphOperation op) {
    String type = op.type();
    switch (type) {
      case "Conv2D": {
        long[] out = dims(op.output(0), op, "output", 4);
        long[] filter = dims(op.input(1), op, "filter", 4);
        String format = stringAttr(op, "data_format", "NHWC");
        long ho, wo, co;
        if (format.equals("NCHW")) {
          co = out[1];
          ho = out[2];
          wo = out[3];
        } else {
          ho = out[1];
          wo = out[2];
          co = out[3];
        }
        long kh = filter[0], kw = filter[1], ci = filter[2];
        if (filter[3] != co) {
          throw new IllegalStateException(op.name() + ": filter has " + filter[3] + " output channels, output " + co);
        }
        return mul(2, ho, wo, kh, kw, ci, co);
      }
      case "MatMul": {
        long[] a = dims(op.input(0), op, "a", 2);
        long[] b = dims(op.input(1), op, "b", 2);
        boolean ta = boolAttr(op, "transpose_a");
        boolean tb = boolAttr(op, "transpose_b");
        long m = ta ? a[1] : a[0];
        long k = ta ? a[0] : a[1];
        long n = tb ? b[0] : b[1];
        return mul(2, m, k, n);
      }
      default: { // BatchMatMul*
        long[] a = dims(op.input(0), op, "x", -1);
        long[] b = dims(op.input(1), op, "y", -1);
        long[] out = dims(op.output(0), op, "output", -1);
        if (a.length < 2 || b.length < 2 || out.length < 2) {
          throw new IllegalStateException(op.name() + ": batch matmul operands must have rank >= 2");
        }
        boolean adjX = boolAttr(op, "adj_x");
        boolean adjY = boolAttr(op, "adj_y");
        int ra = a.length, rb = b.length;
        long m = adjX ? a[ra - 1] : a[ra - 2];
        long k = adjX ? a[ra - 2] : a[ra - 1];
        long n = adjY ? b[rb - 2] : b[rb - 1];
        long batch = 1;
        for (int i = 0; i < out.length - 2; i++) batch = Math.multiplyExact(batch, out[i]);
        return mul(2, batch, m, k, n);
      }
    }
  }

  /**
   * Static dims of a tensor, with an unknown leading (batch) dimension taken as 1; any other unknown dimension is an
   * error.
   */
  private static long[] dims(Operand<?> t, GraphOperation op, String what, int rank) {
    Shape s = t.shape();
    if (s.isUnknown()) {
      throw new IllegalStateException(op.type() + " " + op.name() + ": " + what + " has unknown rank; cannot count FLOPs");
    }
    if (rank > 0 && s.numDimensions() != rank) {
      throw new IllegalStateException(op.type() + " " + op.name() + ": " + what + " has rank " + s.numDimensions()
          + ", expected " + rank);
    }
    long[] d = s.asArray();
    for (int i = 0; i < d.length; i++) {
      if (d[i] < 0) {
        if (i == 0) {
          d[i] = 1;
        } else {
          throw new IllegalStateException(op.type() + " " + op.name() + ": " + what + " shape " + s + " has an unknown "
              + "non-batch dimension; cannot count FLOPs");
        }
      }
    }
    return d;
  }

  private static boolean boolAttr(GraphOperation op, String name) {
    try {
      return op.attributes().getAttrBool(name);
    } catch (RuntimeException e) { // attribute absent: TensorFlow's default is false for all of these
      return false;
    }
  }

  private static String stringAttr(GraphOperation op, String name, String dflt) {
    try {
      String s = op.attributes().getAttrString(name);
      return s == null || s.isEmpty() ? dflt : s;
    } catch (RuntimeException e) {
      return dflt;
    }
  }

  private static long mul(long... f) {
    long p = 1;
    for (long v : f) p = Math.multiplyExact(p, v);
    return p;
  }

  private static String opName(String tensorName) {
    int colon = tensorName.lastIndexOf(':');
    String s = colon > 0 ? tensorName.substring(0, colon) : tensorName;
    return s.startsWith("^") ? s.substring(1) : s;
  }
}
