package org.diffxai.tf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Graph ops of one Adam optimiser (Kingma &amp; Ba 2015, Algorithm 1; β = 0.9, 0.999, ε = 1e-8) over a chosen set of
 * parameters, with global gradient-norm clipping: g ← g · c / max(‖g‖, c). Its moments live in their own variables
 * (scope {@code <scope>_m}, {@code <scope>_v}), so several optimisers over different parameter sets (e.g. the phases
 * of prototype-network training) keep separate state. The learning rate and the bias-correction powers β^t are fed
 * per step ({@link #feed}), so the caller owns the step count and the schedule.
 */
public final class Adam {
  static final float BETA1 = 0.9f;
  static final float BETA2 = 0.999f;
  static final float EPS = 1e-8f;

  private final VariableStore m;
  private final VariableStore v;
  private final List<ParamSpec> specs;
  private final Placeholder<TFloat32> lr;
  private final Placeholder<TFloat32> beta1Power;
  private final Placeholder<TFloat32> beta2Power;
  private final Operand<TFloat32> gradNorm;
  private final List<Op> updates;

  /**
   * @param names the parameters of {@code params} to optimise (all of them when null)
   * @param clip global-norm clipping threshold (0: none)
   */
  public Adam(Ops tf, String scope, Operand<TFloat32> loss, VariableStore params, List<String> names, double clip) {
    Ops s = tf.withSubScope(scope);
    List<ParamSpec> chosen = new ArrayList<>();
    List<Variable<TFloat32>> vars = new ArrayList<>();
    for (ParamSpec p : params.specs()) {
      if (names == null || names.contains(p.name())) {
        chosen.add(p);
        vars.add(params.variable(p.name()));
      }
    }
    if (chosen.isEmpty()) throw new IllegalArgumentException("Adam " + scope + ": no parameters to optimise");
    specs = Collections.unmodifiableList(chosen);
    lr = s.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    beta1Power = s.withName("beta1_power").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    beta2Power = s.withName("beta2_power").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    m = new VariableStore(tf, scope + "_m");
    v = new VariableStore(tf, scope + "_v");
    for (ParamSpec p : chosen) {
      m.get(p);
      v.get(p);
    }

    Ops gtf = s.withSubScope("gradients");
    Gradients g = gtf.gradients(loss, vars);
    List<Operand<TFloat32>> grads = new ArrayList<>();
    List<Operand<TFloat32>> sq = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      Operand<TFloat32> d = g.dy(i);
      grads.add(d);
      sq.add(gtf.reshape(gtf.sum(gtf.math.square(d), gtf.constant(all(vars.get(i).shape().numDimensions()))),
          gtf.constant(new int[] {1})));
    }
    Operand<TFloat32> squares = sq.size() == 1 ? sq.get(0) : gtf.concat(sq, gtf.constant(0)); // Concat needs >= 2
    gradNorm = gtf.withName("global_norm").math.sqrt(gtf.sum(squares, gtf.constant(0)));
    Operand<TFloat32> scale = gtf.constant(1f);
    if (clip > 0) {
      Operand<TFloat32> c = gtf.constant((float) clip);
      scale = gtf.math.div(c, gtf.math.maximum(gradNorm, c));
    }
    // Every update waits for the global norm, i.e. for all gradients, so no backward op reads an updated weight.
    Ops atf = s.withSubScope("apply").withControlDependencyOps(gradNorm.op());
    List<Op> ups = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      String n = chosen.get(i).name();
      ups.add(atf.train.applyAdam(vars.get(i), m.variable(n), v.variable(n), beta1Power, beta2Power, lr,
          atf.constant(BETA1), atf.constant(BETA2), atf.constant(EPS), atf.math.mul(grads.get(i), scale)));
    }
    updates = Collections.unmodifiableList(ups);
    m.prepareAssign();
    v.prepareAssign();
  }

  private static int[] all(int rank) {
    int[] a = new int[rank];
    for (int i = 0; i < rank; i++) a[i] = i;
    return a;
  }

  /** The update ops, one per parameter (run them as targets, or make a later op depend on them). */
  public List<Op> updates() {
    return updates;
  }

  /** The global gradient norm before clipping. */
  public Operand<TFloat32> gradNorm() {
    return gradNorm;
  }

  /** Sets both moments to zero (a fresh optimiser). */
  public void reset(Session session) {
    Map<String, float[]> zeros = new LinkedHashMap<>();
    for (ParamSpec p : specs) zeros.put(p.name(), new float[p.size()]);
    m.assignAll(session, zeros);
    v.assignAll(session, zeros);
  }

  /** The first moments (m) by parameter name, e.g. for a checkpoint. */
  public Map<String, float[]> firstMoments(Session session) {
    return m.read(session);
  }

  /** The second moments (v) by parameter name. */
  public Map<String, float[]> secondMoments(Session session) {
    return v.read(session);
  }

  /** Sets both moments, e.g. from a checkpoint (one entry per optimised parameter in each map). */
  public void restore(Session session, Map<String, float[]> first, Map<String, float[]> second) {
    m.assignAll(session, first);
    v.assignAll(session, second);
  }

  /**
   * Feeds the step size and bias-correction powers for optimisation step {@code step} (0-based, counted by the
   * caller); the created tensors are added to {@code toClose}.
   */
  public void feed(Session.Runner r, float learningRate, int step, List<Tensor> toClose) {
    r.feed(lr, add(toClose, TFloat32.scalarOf(learningRate)));
    r.feed(beta1Power, add(toClose, TFloat32.scalarOf((float) Math.pow(BETA1, step + 1))));
    r.feed(beta2Power, add(toClose, TFloat32.scalarOf((float) Math.pow(BETA2, step + 1))));
  }

  private static <T extends Tensor> T add(List<Tensor> l, T t) {
    l.add(t);
    return t;
  }
}
