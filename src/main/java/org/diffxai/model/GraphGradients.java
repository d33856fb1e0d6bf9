package org.diffxai.model;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diffxai.core.UserException;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Sum;
import org.tensorflow.types.TFloat32;

/**
 * Vector–Jacobian products added to a TensorFlow graph (TF Java's {@code Graph.addGradients}, i.e. TensorFlow's C++
 * gradient registry, the same symbolic differentiation {@code tf.gradients} does): for an output y [N, …] of the graph,
 * a fed cotangent u of y's shape and tensors w₁, w₂, … on the path to y, the graph gets
 *
 * <pre>
 *   v[i]  = Σ_j u[i, j] · T(y)[i, j]        (one value per row i; T = identity or log-softmax over the last axis)
 *   g_k   = ∂(Σ_i v[i]) / ∂w_k              (same shape as w_k)
 * </pre>
 *
 * Rows never mix in the graphs this project differentiates (no batch statistics at inference), so g_k's row i is the
 * gradient of v[i] alone: one session call gives the values and per-image gradients of a whole batch. A one-hot u
 * selects a class logit or a prototype score; any other u gives any linear combination (a logit difference for a
 * counterfactual, a chain rule through a second graph for guidance through a denoiser).
 *
 * <p>Ops are added once per key, lazily, to a graph whose session may already exist and have run: TensorFlow's session
 * extends itself with the new nodes at its next run (verified with TF 2.16 through TF Java 1.0.0-rc.1). Function calls
 * (PartitionedCall, as Keras exports) are differentiated by TensorFlow's SymbolicGradient; an op without a registered
 * gradient fails either when the gradient is built (top-level ops) or at the first run (ops inside a function), and
 * both become one {@link UserException} naming the model, the op and the gradient-free methods that still work.
 */
public final class GraphGradients {

  /** How the output is transformed before it is weighted by the cotangent. */
  public enum Transform {
    IDENTITY,
    /** log softmax over the last axis (class log-probabilities from logits). */
    LOG_SOFTMAX
  }

  /** What still works without gradients, for messages. */
  static final String GRADIENT_FREE = "Gradient-free explanations still work: occlusion maps (method=occlusion), the "
      + "upsampled prototype maps (map=upsample) and the perturbation metrics (Faithfulness Score, Compare "
      + "Explanation Methods).";

  /** One vector–Jacobian product in the graph. */
  public static final class Vjp {
    /** u, fed with y's shape. */
    public final Placeholder<TFloat32> cotangent;
    /** v [N]. */
    public final Output<TFloat32> values;
    /** g_k, one per differentiated tensor. */
    public final List<Output<TFloat32>> gradients;
    final String what;

    Vjp(Placeholder<TFloat32> cotangent, Output<TFloat32> values, List<Output<TFloat32>> gradients, String what) {
      this.cotangent = cotangent;
      this.values = values;
      this.gradients = gradients;
      this.what = what;
    }
  }

  private final Graph graph;
  private final String model;
  private final Map<String, Vjp> built = new LinkedHashMap<>();

  /**
   * @param model how the model is called in messages
   */
  public GraphGradients(Graph graph, String model) {
    this.graph = graph;
    this.model = model;
  }

  /**
   * The product for {@code key}, built on first use.
   *
   * @param y an output of rank ≥ 1 with the batch first (rank 2 for {@link Transform#LOG_SOFTMAX})
   * @param what what y is, for messages (e.g. "its logits")
   * @param wrt the tensors to differentiate with respect to (graph inputs or intermediate tensors on the path to y)
   * @throws UserException when TensorFlow cannot build the gradient, or y does not depend on a tensor of wrt through
   *     differentiable ops
   */
  public synchronized Vjp vjp(String key, Output<TFloat32> y, Transform t, String what, List<Output<TFloat32>> wrt) {
    Vjp v = built.get(key);
    if (v != null) return v;
    int rank = y.shape().numDimensions();
    if (rank < 1 || (t == Transform.LOG_SOFTMAX && rank != 2)) {
      throw new IllegalArgumentException(what + " has rank " + rank + "; need the batch first"
          + (t == Transform.LOG_SOFTMAX ? " and one class axis" : ""));
    }
    String scope = freeScope();
    Ops tf = Ops.create(graph).withSubScope(scope);
    Placeholder<TFloat32> u = tf.withName("cotangent").placeholder(TFloat32.class);
    Operand<TFloat32> ty = t == Transform.LOG_SOFTMAX ? tf.nn.logSoftmax(y) : y;
    Operand<TFloat32> prod = tf.math.mul(ty, u);
    Operand<TFloat32> values = prod;
    if (rank > 1) {
      int[] axes = new int[rank - 1];
      for (int i = 0; i < axes.length; i++) axes[i] = i + 1;
      values = tf.sum(prod, tf.constant(axes), Sum.keepDims(false));
    }
    values = tf.withName("values").identity(values);
    Operand<TFloat32> total = tf.sum(values, tf.constant(0), Sum.keepDims(false));
    Output<?>[] dx;
    try {
      dx = graph.addGradients(scope + "/gradients", new Output<?>[] {total.asOutput()},
          wrt.toArray(new Output<?>[0]), null);
    } catch (RuntimeException e) {
      throw cannot(what, e);
    }
    List<Output<TFloat32>> grads = new ArrayList<>();
    for (int k = 0; k < dx.length; k++) {
      if (!connected(dx[k])) {
        throw new UserException("Model " + model + ": " + what + " does not depend on '" + wrt.get(k).op().name()
            + "' through any op TensorFlow can differentiate (every path passes an op whose gradient is defined as "
            + "none, such as Floor, Round or Sign), so its gradient maps would be empty. " + GRADIENT_FREE);
      }
      @SuppressWarnings("unchecked")
      Output<TFloat32> g = (Output<TFloat32>) dx[k];
      grads.add(g);
    }
    v = new Vjp(u, values.asOutput(), grads, what);
    built.put(key, v);
    return v;
  }

  /**
   * Runs a product: feeds (the graph's inputs), the cotangent, and fetches v, every g_k and then {@code extra}.
   *
   * @return v, then g_k, then the extra fetches, each flattened
   * @throws UserException when TensorFlow cannot run the gradient (an op without gradient inside a function) or fails
   */
  public float[][] run(Session session, Vjp v, Map<Output<?>, Tensor> feeds, TFloat32 cotangent,
      List<Output<TFloat32>> extra) {
    Session.Runner r = session.runner();
    for (Map.Entry<Output<?>, Tensor> f : feeds.entrySet()) r.feed(f.getKey(), f.getValue());
    r.feed(v.cotangent, cotangent).fetch(v.values);
    for (Output<TFloat32> g : v.gradients) r.fetch(g);
    for (Output<TFloat32> e : extra) r.fetch(e);
    try (Result res = r.run()) {
      float[][] out = new float[res.size()][];
      for (int i = 0; i < out.length; i++) out[i] = copy((TFloat32) res.get(i));
      return out;
    } catch (UserException e) {
      throw e;
    } catch (RuntimeException e) {
      if (String.valueOf(e.getMessage()).contains("No gradient defined")) throw cannot(v.what, e);
      throw new UserException("TensorFlow failed while computing gradients of model " + model + ": "
          + SavedModels.firstLine(SavedModels.deepestMessage(e)) + ". If memory ran out, use a smaller batch or "
          + "device=cpu.", e);
    }
  }

  /** The values of a float tensor. */
  public static float[] copy(TFloat32 t) {
    float[] v = new float[(int) t.shape().size()];
    t.copyTo(DataBuffers.of(v, false, false));
    return v;
  }

  /** The first tensor in front of any chain of Identity ops: what an exported output name stands for. */
  public static Output<?> throughIdentity(Output<?> o) {
    while (o.op() instanceof GraphOperation && o.op().type().equals("Identity")) {
      o = ((GraphOperation) o.op()).input(0);
    }
    return o;
  }

  private static final Pattern NO_GRADIENT = Pattern.compile("No gradient defined for op: ?([A-Za-z0-9_]+)");

  private UserException cannot(String what, RuntimeException e) {
    String msg = SavedModels.firstLine(SavedModels.deepestMessage(e));
    Matcher m = NO_GRADIENT.matcher(msg);
    String detail;
    if (msg.contains("unreachable from the output")) {
      detail = "a tensor it was asked to differentiate with respect to does not feed " + what + " (" + msg + ")";
    } else if (m.find()) {
      String type = m.group(1);
      List<String> names = opsOfType(type);
      detail = "TensorFlow has no gradient for its op type " + type + (names.isEmpty()
          ? " (inside a function of the SavedModel)" : " (" + (names.size() == 1 ? "op '" : "ops '")
          + String.join("', '", names) + "')");
    } else {
      detail = "TensorFlow could not differentiate it (" + msg + ")";
    }
    return new UserException("Model " + model + ": cannot compute the gradient of " + what + " with respect to the "
        + "input: " + detail + ". Gradient maps (saliency, gradient_x_input, integrated_gradients, smoothgrad, "
        + "gradcam, map=gradient|smoothgrad|ig) need it. " + GRADIENT_FREE, e);
  }

  /** Names of the graph's top-level ops of a type (at most 3). */
  private List<String> opsOfType(String type) {
    List<String> out = new ArrayList<>();
    for (Iterator<GraphOperation> it = graph.operations(); it.hasNext() && out.size() < 3;) {
      GraphOperation op = it.next();
      if (op.type().equals(type)) out.add(op.name());
    }
    return out;
  }

  /**
   * False for the placeholder output TensorFlow returns when no differentiable path reaches a tensor (its native
   * operation is null, which TF Java reports as a closed operation).
   */
  private static boolean connected(Output<?> o) {
    try {
      o.op().type();
      return true;
    } catch (IllegalStateException | NullPointerException e) {
      return false;
    }
  }

  private String freeScope() {
    for (int i = 0;; i++) {
      String s = "diffxai_gradients_" + i;
      if (!usedScope(s)) return s;
    }
  }

  private boolean usedScope(String s) {
    for (Iterator<GraphOperation> it = graph.operations(); it.hasNext();) {
      if (it.next().name().startsWith(s + "/")) return true;
    }
    return false;
  }
}
