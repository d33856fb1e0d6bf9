package org.diffxai.model;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import java.util.LinkedHashMap;
import java.util.Map;
import org.diffxai.core.Denoiser;
import org.diffxai.core.UserException;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * A {@link Denoiser} running a bundle's ONNX model ({@code model.onnx}, DJL's OnnxRuntime engine) or TorchScript model
 * ({@code model.pt}, DJL's PyTorch engine) under the same contract as {@link DjlDenoiser}: inputs {@code x}, {@code t},
 * optional {@code label}, optional {@code condition}, one output shaped like {@code x}; the same model.json,
 * scheduler_config.json and checksums. Image tensors are NCHW unless model.json declares {@code "layout": "NHWC"}; this
 * class transposes from and to the project's NHWC.
 *
 * <p>ONNX models are checked against the contract by the inputs and outputs they declare (names, element types,
 * static sizes). TorchScript archives declare neither: their {@code forward} takes the inputs positionally in the order
 * x, t, label (when model.json has class_names), condition (when it has condition_channels), and model.json must declare
 * sample_size and channels. Both are then run once on a probe batch, so a model that breaks the contract fails on
 * load with a message instead of in the middle of a run.
 */
public final class EngineDenoiser implements Denoiser {
  private final DenoiserBundle bundle;
  private final ModelFormat format;
  private final TensorLayout layout;
  private final Device device;
  private final DjlDenoiser.Contract contract;
  private final String tType;
  private final String labelType;
  private ZooModel<NDList, NDList> model;

  private EngineDenoiser(DenoiserBundle bundle, ModelFormat format, TensorLayout layout, Device device,
      DjlDenoiser.Contract contract, String tType, String labelType, ZooModel<NDList, NDList> model) {
    this.bundle = bundle;
    this.format = format;
    this.layout = layout;
    this.device = device;
    this.contract = contract;
    this.tType = tType;
    this.labelType = labelType;
    this.model = model;
  }

  /**
   * Loads an ONNX or TorchScript denoiser bundle.
   *
   * @param imageShape {H, W, C} of the caller's image, or null (as for {@link DjlDenoiser#load})
   * @throws UserException when the engine is missing, the model cannot be loaded, or it breaks the contract
   */
  public static EngineDenoiser load(DenoiserBundle bundle, TensorFlowRuntime.DeviceChoice choice, int[] imageShape) {
    ModelFormat format = ModelFormat.detect(bundle.directory());
    if (format == ModelFormat.TENSORFLOW) {
      throw new IllegalArgumentException(bundle + " is a SavedModel: load it with DjlDenoiser");
    }
    EngineRuntime.ensureLoaded(format); // first: a missing engine is one message, not a missing class
    TensorLayout layout = EngineModels.layout(bundle.directory(), DenoiserBundle.KIND, format);
    String name = "Model " + bundle.name();
    String tType = "float32";
    String labelType = format == ModelFormat.TORCHSCRIPT ? "int64" : "int32"; // torch.nn.Embedding takes int64
    SignatureDef sig;
    if (format == ModelFormat.ONNX) {
      OnnxSignature onnx = OnnxSignature.read(bundle.directory().resolve(format.fileName()),
          bundle.name());
      SignatureDef.Builder sb = SignatureDef.newBuilder();
      for (Map.Entry<String, EngineModels.Spec> e : onnx.inputs.entrySet()) {
        EngineModels.Spec s = e.getValue();
        switch (e.getKey()) {
          case "x":
          case "condition":
            EngineModels.check(s, e.getKey(), 4, layout == TensorLayout.NCHW ? "[N,C,H,W]" : "[N,H,W,C]", name,
                "float32");
            sb.putInputs(e.getKey(), info(DataType.DT_FLOAT, nhwc(s.dims, layout)));
            break;
          case "t":
            EngineModels.check(s, "t", 1, "[N]", name, "float32", "int64");
            tType = s.type;
            sb.putInputs("t", info(DataType.DT_FLOAT, s.dims));
            break;
          case "label":
            EngineModels.check(s, "label", 1, "[N]", name, "int32", "int64");
            labelType = s.type;
            sb.putInputs("label", info(DataType.DT_INT32, s.dims));
            break;
          default: // the contract check names it
            sb.putInputs(e.getKey(), info(DataType.DT_FLOAT, s.dims));
        }
      }
      for (Map.Entry<String, EngineModels.Spec> e : onnx.outputs.entrySet()) {
        EngineModels.Spec s = e.getValue();
        long[] d = s.dims.length == 4 ? nhwc(s.dims, layout) : s.dims;
        sb.putOutputs(e.getKey(), info(dtype(s.type), d));
      }
      sig = sb.build();
    } else {
      if (bundle.height() <= 0 || bundle.channels() <= 0) {
        throw new UserException(name + " is a TorchScript model, which does not record its input sizes, and its "
            + "model.json does not declare them. Add \"sample_size\": [H, W] and \"channels\": C to model.json; see "
            + EngineModels.DOC + ".");
      }
      // what model.json says the forward takes; the probe batch below checks that the model agrees
      SignatureDef.Builder sb = SignatureDef.newBuilder().putInputs("x", info(DataType.DT_FLOAT, null))
          .putInputs("t", info(DataType.DT_FLOAT, new long[] {-1}))
          .putOutputs("output", info(DataType.DT_FLOAT, null));
      if (!bundle.classNames().isEmpty()) sb.putInputs("label", info(DataType.DT_INT32, new long[] {-1}));
      if (bundle.conditionChannels() > 0) sb.putInputs("condition", info(DataType.DT_FLOAT, null));
      sig = sb.build();
    }
    DjlDenoiser.Contract c = DjlDenoiser.Contract.check(bundle, sig, imageShape, -1);
    Device device = EngineRuntime.device(format, choice);
    ZooModel<NDList, NDList> m = EngineModels.load(format, bundle.directory(), device, false, bundle.name());
    EngineDenoiser d = new EngineDenoiser(bundle, format, layout, device, c, tType, labelType, m);
    try {
      d.probe();
      return d;
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
  }

  private static DataType dtype(String type) {
    switch (type) {
      case "float32":
        return DataType.DT_FLOAT;
      case "float64":
        return DataType.DT_DOUBLE;
      case "int32":
        return DataType.DT_INT32;
      case "int64":
        return DataType.DT_INT64;
      default:
        return DataType.DT_STRING;
    }
  }

  private static TensorInfo info(DataType type, long[] dims) {
    TensorInfo.Builder b = TensorInfo.newBuilder().setDtype(type);
    if (dims != null) {
      TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
      for (long d : dims) s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
      b.setTensorShape(s);
    }
    return b.build();
  }

  /** NCHW dims reordered to NHWC (the contract check's order). */
  private static long[] nhwc(long[] d, TensorLayout layout) {
    return layout == TensorLayout.NHWC ? d : new long[] {d[0], d[2], d[3], d[1]};
  }

  /** One call on a blank batch of one: a model that does not take the declared inputs fails here, on load. */
  private void probe() {
    int hwc = contract.height * contract.width * contract.channels;
    float[] cond = contract.conditionChannels > 0
        ? new float[contract.height * contract.width * contract.conditionChannels] : null;
    try {
      predict(new float[hwc], new float[] {999f}, contract.label ? new int[1] : null, cond, 1);
    } catch (UserException e) {
      if (format != ModelFormat.TORCHSCRIPT) throw e;
      throw new UserException("TorchScript model " + bundle.name() + " does not take the inputs its bundle declares: "
          + "forward(x " + layout + " [N," + (layout == TensorLayout.NCHW ? "C,H,W" : "H,W,C") + "], t [N]"
          + (contract.label ? ", label int64 [N]" : "") + (contract.conditionChannels > 0 ? ", condition" : "")
          + ") failed: " + e.getMessage() + " Export the model with exactly these inputs in this order, and declare "
          + "class_names / condition_channels in model.json only when it takes label / condition; see "
          + EngineModels.DOC + ".", e);
    }
  }

  @Override
  public int height() {
    return contract.height;
  }

  @Override
  public int width() {
    return contract.width;
  }

  @Override
  public int channels() {
    return contract.channels;
  }

  @Override
  public int conditionChannels() {
    return contract.conditionChannels;
  }

  @Override
  public boolean classConditional() {
    return contract.label;
  }

  @Override
  public int unconditionalLabel() {
    return contract.label ? bundle.unconditionalLabel() : -1;
  }

  public DenoiserBundle bundle() {
    return bundle;
  }

  public ModelFormat format() {
    return format;
  }

  public Device device() {
    return device;
  }

  /**
   * {@link DjlDenoiser#provenance()}'s entries, plus {@code model.format} and {@code model.layout}, with the engine's
   * ({@link EngineRuntime#provenance}).
   */
  public Map<String, String> provenance() {
    Map<String, String> m = new LinkedHashMap<>(bundle.provenance());
    m.put("model.format", format.toString());
    m.put("model.layout", layout.name());
    m.put("model.input_shape", contract.height + "x" + contract.width + "x" + contract.channels);
    m.put("model.condition_channels", Integer.toString(contract.conditionChannels));
    m.put("model.class_conditional", Boolean.toString(contract.label));
    m.putAll(EngineRuntime.provenance(format, device));
    return m;
  }

  /**
   * Runs the model on a batch (NHWC in and out, as {@link Denoiser} says).
   *
   * @throws IllegalArgumentException for arrays of the wrong length (as {@link DjlDenoiser#predict})
   * @throws UserException when the engine fails
   */
  @Override
  public synchronized float[] predict(float[] x, float[] t, int[] labels, float[] condition, int n) {
    if (model == null) throw new IllegalStateException("EngineDenoiser is closed");
    final int h = contract.height;
    final int w = contract.width;
    final int c = contract.channels;
    final int k = contract.conditionChannels;
    if (n < 1 || x == null || x.length != (long) n * h * w * c || t == null || t.length != n
        || (contract.label != (labels != null)) || (labels != null && labels.length != n)
        || ((k > 0) != (condition != null)) || (condition != null && condition.length != (long) n * h * w * k)) {
      throw new IllegalArgumentException("batch of " + n + " does not fit model " + bundle.name() + " (" + h + "x" + w
          + "x" + c + ", " + (contract.label ? "labels" : "no labels") + ", K=" + k + ")");
    }
    float[] out = TensorFlowRuntime.withPluginClassLoader(() -> {
      try (NDManager m = model.getNDManager().newSubManager()) {
        NDList in = new NDList(4);
        in.add(SavedModels.named(m.create(layout.fromNhwc(x, n, h, w, c), new Shape(layout.shape(n, h, w, c))), "x"));
        in.add(EngineModels.timesteps(m, t, tType));
        if (contract.label) in.add(EngineModels.intArray(m, labels, labelType, "label"));
        if (k > 0) {
          in.add(SavedModels.named(m.create(layout.fromNhwc(condition, n, h, w, k), new Shape(layout.shape(n, h, w,
              k))), "condition"));
        }
        NDList o = EngineModels.run(model.getBlock(), m, in, false, bundle.name(), n);
        return EngineModels.output(o, layout.shape(n, h, w, c), bundle.name(), EngineModels.DOC);
      }
    });
    return layout.toNhwc(out, n, h, w, c);
  }

  @Override
  public synchronized void close() {
    if (model == null) return;
    ZooModel<NDList, NDList> m = model;
    model = null;
    SavedModels.close(m);
  }

  @Override
  public String toString() {
    return "EngineDenoiser[" + bundle.name() + ", " + format + ", " + contract.height + "x" + contract.width + "x"
        + contract.channels + ", " + device + "]";
  }
}
