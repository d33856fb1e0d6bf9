package org.diffxai.tf;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Creates one TF1-style ({@code VariableV2}) float variable per parameter, named {@code <scope>/<parameter name>}, and
 * an op that sets all of them from fed values. VariableV2 is what TF Java's SavedModel exporter saves.
 */
public final class VariableStore implements UNetBuilder.Weights {
  private final Ops tf;
  private final Ops scoped;
  private final Map<String, ParamSpec> specs = new LinkedHashMap<>();
  private final Map<String, Variable<TFloat32>> vars = new LinkedHashMap<>();
  private final Map<String, Placeholder<TFloat32>> feeds = new LinkedHashMap<>();
  private Op assignAll;

  private final String scope;

  public VariableStore(Ops tf, String scope) {
    this.tf = tf;
    this.scope = scope;
    this.scoped = tf.withSubScope(scope);
  }

  @Override
  public Operand<TFloat32> get(ParamSpec spec) {
    Variable<TFloat32> v = vars.get(spec.name());
    if (v != null) {
      if (!Arrays.equals(specs.get(spec.name()).shape(), spec.shape())) {
        throw new IllegalStateException("Parameter " + spec.name() + " requested with two shapes");
      }
      return v;
    }
    v = scoped.withName(spec.name()).variable(Shape.of(spec.shape()), TFloat32.class);
    specs.put(spec.name(), spec);
    vars.put(spec.name(), v);
    return v;
  }

  /** Parameters in creation order. */
  public List<ParamSpec> specs() {
    return Collections.unmodifiableList(new ArrayList<>(specs.values()));
  }

  public Variable<TFloat32> variable(String name) {
    return vars.get(name);
  }

  public List<Variable<TFloat32>> variables() {
    return new ArrayList<>(vars.values());
  }

  /** Builds (once, after the last {@link #get}) the op that assigns every variable from its placeholder. */
  private Op assignAllOp() {
    if (assignAll == null) {
      List<Op> assigns = new ArrayList<>();
      Ops init = tf.withSubScope("set_" + scope);
      for (Map.Entry<String, Variable<TFloat32>> e : vars.entrySet()) {
        Placeholder<TFloat32> p = init.withName(e.getKey())
            .placeholder(TFloat32.class, Placeholder.shape(Shape.of(specs.get(e.getKey()).shape())));
        feeds.put(e.getKey(), p);
        assigns.add(init.assign(e.getValue(), p));
      }
      assignAll = init.withControlDependencies(assigns).noOp();
    }
    return assignAll;
  }

  /** Builds the assign op now, so it exists before a session is created. */
  public void prepareAssign() {
    assignAllOp();
  }

  /** Sets every variable to the given values (one entry per parameter, shape as its spec). */
  public void assignAll(Session session, Map<String, float[]> values) {
    Op op = assignAllOp();
    List<TFloat32> tensors = new ArrayList<>();
    try {
      Session.Runner r = session.runner();
      for (Map.Entry<String, Placeholder<TFloat32>> e : feeds.entrySet()) {
        float[] v = values.get(e.getKey());
        ParamSpec s = specs.get(e.getKey());
        if (v == null || v.length != s.size()) {
          throw new IllegalArgumentException("No or wrong-size value for parameter " + e.getKey());
        }
        TFloat32 t = TFloat32.tensorOf(Shape.of(s.shape()), DataBuffers.of(v, true, false));
        tensors.add(t);
        r.feed(e.getValue(), t);
      }
      r.addTarget(op).run();
    } finally {
      for (TFloat32 t : tensors) t.close();
    }
  }

  /** Reads every variable's current value. */
  public Map<String, float[]> read(Session session) {
    Map<String, float[]> out = new LinkedHashMap<>();
    List<String> names = new ArrayList<>(vars.keySet());
    Session.Runner r = session.runner();
    for (String n : names) r.fetch(vars.get(n));
    try (org.tensorflow.Result res = r.run()) {
      for (int i = 0; i < names.size(); i++) {
        TFloat32 t = (TFloat32) res.get(i);
        float[] a = new float[specs.get(names.get(i)).size()];
        t.copyTo(DataBuffers.of(a, false, false));
        out.put(names.get(i), a);
      }
    }
    return out;
  }
}
