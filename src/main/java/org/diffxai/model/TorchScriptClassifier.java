package org.diffxai.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.UserException;

/**
 * A TorchScript classifier ({@code model.pt}) with input gradients from PyTorch's autograd through DJL
 * ({@code NDArray.setRequiresGradient}, {@code Engine.newGradientCollector}).
 *
 * <p>The gradient is of the function the classifier computes from image intensity: the chain rule through the
 * bundle's intensity mapping (model = (image − offset) / scale, so d/d image = d/d model ÷ scale) and its
 * {@code input_clip} (zero where the clip is active). DJL runs a module's forward with autograd only in training mode
 * ({@code module.train()}); a traced module ({@code torch.jit.trace} after {@code model.eval()}) computes the same in both
 * modes, a scripted module with dropout or batch norm does not. The first gradient call therefore compares the
 * training-mode outputs with {@link #logits} and refuses a model whose outputs differ.
 */
public final class TorchScriptClassifier extends EngineClassifier implements DifferentiableClassifier {
  /** Largest |logit difference| between training-mode and inference-mode forward passes accepted as the same model. */
  static final double MODE_TOLERANCE = 1e-4;
  private boolean modeChecked;

  TorchScriptClassifier(ClassifierBundle bundle, TensorLayout layout, Device device, ZooModel<NDList, NDList> model,
      int[] hwc, List<String> classNames) {
    super(bundle, ModelFormat.TORCHSCRIPT, layout, device, model, hwc, classNames);
  }

  @Override
  public Gradient gradient(float[] x, int n, Objective objective) {
    if (objective.index.length != n) {
      throw new IllegalArgumentException("objective has " + objective.index.length + " indices for " + n + " images");
    }
    int k = classNames().size();
    if (objective.kind == Kind.PROTOTYPE_SCORE) {
      throw new UserException("Model " + bundle.name() + " is a plain TorchScript classifier, not a prototype network, "
          + "so it has no prototype scores to differentiate. Choose a class (logit or log-probability) instead.");
    }
    for (int idx : objective.index) {
      if (idx < 0 || idx >= k) {
        throw new UserException("Class index " + idx + " is out of range for model " + bundle.name() + " (" + k
            + " classes: " + String.join(", ", classNames()) + ").");
      }
    }
    if (!modeChecked) {
      checkModes(x, n);
      modeChecked = true;
    }
    int px = height * width * channels;
    float[] values = new float[n];
    float[] grad = new float[n * px];
    double scale = bundle.intensity().scale;
    Engine engine = EngineRuntime.ensureLoaded(ModelFormat.TORCHSCRIPT);
    forEachBatch(x, n, (from, m, xb) -> {
      // the clip mask: where input_clip changed the mapped value, the function is flat
      float[] unclipped = java.util.Arrays.copyOfRange(x, from * px, (from + m) * px);
      bundle.intensity().toModel(unclipped);
      float[][] r = EngineRuntime.withoutOneDnn(() -> TensorFlowRuntime.withPluginClassLoader(() -> {
        try (NDManager nm = model.getNDManager().newSubManager();
            GradientCollector gc = engine.newGradientCollector()) {
          NDArray in = input(nm, xb, m);
          in.setRequiresGradient(true);
          NDArray lg = logitsOf(EngineModels.run(model.getBlock(), nm, new NDList(in), true, bundle.name(), m), m);
          NDArray scores = objective.kind == Kind.LOG_PROBABILITY ? lg.logSoftmax(1) : lg;
          float[] onehot = new float[m * k];
          for (int i = 0; i < m; i++) onehot[i * k + objective.index[from + i]] = 1f;
          NDArray picked = scores.mul(nm.create(onehot, new Shape(m, k))).sum(new int[] {1});
          gc.backward(picked.sum());
          return new float[][] {picked.toFloatArray(), in.getGradient().toFloatArray()};
        }
      }));
      System.arraycopy(r[0], 0, values, from, m);
      float[] g = layout.toNhwc(r[1], m, height, width, channels);
      for (int i = 0; i < g.length; i++) {
        grad[from * px + i] = unclipped[i] == xb[i] ? (float) (g[i] / scale) : 0f;
      }
    });
    return new Gradient(values, grad);
  }

  /** Refuses a model whose training-mode forward (needed for autograd in DJL) differs from its inference forward. */
  private void checkModes(float[] x, int n) {
    int m = Math.min(n, batchSize());
    int px = height * width * channels;
    float[] first = java.util.Arrays.copyOf(x, m * px);
    float[][] eval = logits(first, m);
    Engine engine = EngineRuntime.ensureLoaded(ModelFormat.TORCHSCRIPT);
    float[] xb = first.clone();
    bundle.toModel(xb);
    float[] train = EngineRuntime.withoutOneDnn(() -> TensorFlowRuntime.withPluginClassLoader(() -> {
      try (NDManager nm = model.getNDManager().newSubManager(); GradientCollector gc = engine.newGradientCollector()) {
        return logitsOf(EngineModels.run(model.getBlock(), nm, new NDList(input(nm, xb, m)), true, bundle.name(), m),
            m).toFloatArray();
      }
    }));
    int k = eval[0].length;
    double worst = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < k; j++) worst = Math.max(worst, Math.abs(eval[i][j] - train[i * k + j]));
    }
    if (!(worst <= MODE_TOLERANCE)) {
      throw new UserException("TorchScript model " + bundle.name() + " computes different logits in training mode "
          + "(max difference " + (float) worst + "), which DJL needs for gradients: it has dropout or batch-norm layers "
          + "that were scripted, not traced. Export it with model.eval() and torch.jit.trace(...); see "
          + EngineModels.DOC + ".");
    }
  }
}
