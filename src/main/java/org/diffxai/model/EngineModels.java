package org.diffxai.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import org.diffxai.core.UserException;

/**
 * What the ONNX and TorchScript models of {@link EngineDenoiser} and {@link EngineClassifier} share: loading through
 * DJL, the ONNX model's declared inputs and outputs, running a block, the layout declared in model.json.
 */
final class EngineModels {
  /** Per-image preprocessing of a model imported from bioimage.io (see {@link BioImageIo}). */
  static final String PREPROCESSING_JSON = "preprocessing.json";
  static final String DOC = "docs/bring-your-model.md";

  private EngineModels() {}

  /** A declared tensor: element type ({@code float32}, {@code int64}, ...) and dims (-1 = dynamic). */
  static final class Spec {
    final String type;
    final long[] dims;

    Spec(String type, long[] dims) {
      this.type = type;
      this.dims = dims;
    }

    @Override
    public String toString() {
      return type + " " + SavedModels.shapeText(dims);
    }
  }

  /**
   * Checks an ONNX input's element type and rank.
   *
   * @param types the element types the contract accepts, e.g. {@code float32}
   * @return the input's static dims (-1 for dynamic)
   */
  static long[] check(Spec s, String name, int rank, String want, String model, String... types) {
    boolean ok = false;
    for (String t : types) ok |= t.equals(s.type);
    if (!ok || s.dims.length != rank) {
      throw new UserException(model + ": " + (name.startsWith("output") ? "" : "input ") + name + " is " + s
          + " but the bundle contract needs " + String.join(" or ", types) + " " + want + ". Re-export the model; see "
          + DOC + ".");
    }
    return s.dims;
  }

  /**
   * Loads {@code model.onnx} or {@code model.pt} of a bundle directory through DJL on a device.
   *
   * @param gradients TorchScript only: load the weights as autograd-capable tensors (DJL's {@code trainParam}), which
   *     {@link TorchScriptClassifier#gradient} needs
   */
  static ZooModel<NDList, NDList> load(ModelFormat format, Path dir, Device device, boolean gradients, String model) {
    EngineRuntime.ensureLoaded(format);
    return TensorFlowRuntime.withPluginClassLoader(() -> {
      Criteria.Builder<NDList, NDList> b = Criteria.builder().setTypes(NDList.class, NDList.class)
          .optModelPath(dir).optModelName("model").optEngine(format.engineName()).optDevice(device);
      if (format == ModelFormat.TORCHSCRIPT) {
        b.optOption("mapLocation", "true");
        if (gradients) b.optOption("trainParam", "true");
      }
      try {
        return b.build().loadModel();
      } catch (ModelNotFoundException | MalformedModelException | IOException | RuntimeException e) {
        throw loadFailure(format, dir.resolve(format.fileName()), model, e);
      }
    });
  }

  private static UserException loadFailure(ModelFormat format, Path file, String model, Exception e) {
    String msg = SavedModels.firstLine(SavedModels.deepestMessage(e));
    if (format == ModelFormat.TORCHSCRIPT && msg.contains("version") && msg.contains("maximum supported")) {
      // e.g. "Attempted to read a PyTorch file with version 99, but the maximum supported version for reading is 10."
      return new UserException("TorchScript model " + model + " (" + file + ") was saved by a newer PyTorch than this "
          + "plugin's PyTorch engine (libtorch 2.7.1) can read: " + msg + " Re-save it with PyTorch 2.7 or older "
          + "(torch.jit.save), or export it to ONNX instead; see " + DOC + ".", e);
    }
    return new UserException(format.title() + " " + model + " (" + file + ") could not be loaded by " + format.engineName()
        + ": " + msg + ". " + (format == ModelFormat.TORCHSCRIPT
            ? "The file must be a TorchScript archive written by torch.jit.save (not a state_dict written by torch.save)"
            : "The file must be an ONNX model, e.g. written by torch.onnx.export") + "; see " + DOC + ".", e);
  }

  /**
   * Runs a block on inputs inside the scope of {@code m}.
   *
   * @throws UserException naming the model when the engine fails
   */
  static NDList run(Block block, NDManager m, NDList in, boolean training, String model, int n) {
    try {
      return block.forward(new ParameterStore(m, false), in, training);
    } catch (RuntimeException e) {
      throw new UserException("The engine failed while running model " + model + " on a batch of " + n + ": "
          + SavedModels.firstLine(SavedModels.deepestMessage(e)) + ". If memory ran out, use a smaller batch; if the "
          + "inputs do not fit, check the model's inputs against " + DOC + ".", e);
    }
  }

  /** An input array of the given element type ({@code int32}/{@code int64} for labels, else float32). */
  static NDArray intArray(NDManager m, int[] v, String type, String name) {
    NDArray a;
    if (type.equals("int64")) {
      long[] l = new long[v.length];
      for (int i = 0; i < v.length; i++) l[i] = v[i];
      a = m.create(l, new Shape(v.length));
    } else {
      a = m.create(v, new Shape(v.length));
    }
    a.setName(name);
    return a;
  }

  /** A float input for {@code t}, or int64 when the ONNX model declares its timesteps as integers. */
  static NDArray timesteps(NDManager m, float[] t, String type) {
    NDArray a;
    if (type.equals("int64")) {
      long[] l = new long[t.length];
      for (int i = 0; i < t.length; i++) l[i] = Math.round(t[i]);
      a = m.create(l, new Shape(t.length));
    } else {
      a = m.create(t, new Shape(t.length));
    }
    a.setName("t");
    return a;
  }

  /** The single float32 output, checked against the expected shape. */
  static float[] output(NDList out, long[] want, String model, String doc) {
    if (out.size() != 1) {
      throw new UserException("Model " + model + " returned " + out.size() + " outputs; the bundle contract needs "
          + "exactly one. Re-export the model with one output; see " + doc + ".");
    }
    NDArray o = out.get(0);
    if (o.getDataType() != DataType.FLOAT32 || !o.getShape().equals(new Shape(want))) {
      throw new UserException("Model " + model + " returned a " + o.getDataType() + " array of shape " + o.getShape()
          + " where the bundle contract needs float32 " + new Shape(want) + ". Re-export the model; see " + doc + ".");
    }
    return o.toFloatArray();
  }

  /** The layout of a bundle's model: model.json's {@code layout}, else the format's default. */
  static TensorLayout layout(Path dir, BundleDirs.Kind kind, ModelFormat format) {
    ModelJson d = BundleDirs.readModelJson(dir, kind);
    return d != null && d.layout != null ? d.layout : format.defaultLayout();
  }

  /** "its inputs are [a, b]" for messages. */
  static String names(Map<String, ?> m) {
    return new TreeSet<>(m.keySet()).toString();
  }
}
