package org.diffxai.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.tensorflow.engine.TfSymbolBlock;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.diffxai.core.UserException;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Loading a bundle's SavedModel through DJL's TensorFlow engine and checking its signatures against a bundle contract:
 * what {@link DjlDenoiser} and {@link DjlClassifier} share. Call inside
 * {@link TensorFlowRuntime#withPluginClassLoader}.
 */
final class SavedModels {
  private SavedModels() {}

  /**
   * Loads the SavedModel in {@code dir} (tag {@code serve}; DJL's block runs {@code serving_default}) on the device.
   *
   * @param doc the document describing the contract, for messages
   */
  static ZooModel<NDList, NDList> load(Path dir, Device device, String doc) {
    Criteria.Builder<NDList, NDList> b = Criteria.builder().setTypes(NDList.class, NDList.class)
        .optModelPath(dir)
        // the model file itself: TfModel then loads this very directory (never a sub-directory named like it)
        .optModelName(DenoiserBundle.SAVED_MODEL)
        .optEngine(TensorFlowRuntime.ENGINE)
        .optDevice(device)
        .optOption("Tags", "serve")
        .optOption("SignatureDefKey", "serving_default");
    String config = TensorFlowRuntime.sessionConfigOption(device);
    if (config != null) b.optOption("ConfigProto", config);
    try {
      return b.build().loadModel();
    } catch (ModelNotFoundException | MalformedModelException | IOException | RuntimeException e) {
      // TensorFlow's own errors (e.g. a damaged saved_model.pb) come as EngineException or other runtime exceptions
      throw new UserException("TensorFlow could not load the model in " + dir + ": " + firstLine(deepestMessage(e))
          + ". The bundle must hold a TensorFlow 2 SavedModel with tag 'serve'; see " + doc + ".", e);
    }
  }

  /** The model's signatures by key. */
  static Map<String, SignatureDef> signatures(ZooModel<NDList, NDList> model) {
    return ((TfSymbolBlock) model.getBlock()).getSavedModelBundle().getMetaGraphDef().getSignatureDefMap();
  }

  /**
   * The {@code serving_default} signature.
   *
   * @param role what the signature must compute, for the message, e.g. "its denoiser"
   */
  static SignatureDef servingDefault(ZooModel<NDList, NDList> model, String modelName, String role, String doc) {
    Map<String, SignatureDef> sigs = signatures(model);
    SignatureDef sig = sigs.get("serving_default");
    if (sig == null) {
      throw new UserException("Model " + modelName + " has no 'serving_default' signature (it has: "
          + String.join(", ", new TreeSet<>(sigs.keySet())) + "). Export the model with " + role + " as the "
          + "serving_default signature; see " + doc + ".");
    }
    return sig;
  }

  /**
   * Runs a block on named inputs inside a sub-manager scope of {@code m}.
   *
   * @throws UserException when TensorFlow fails (e.g. out of memory)
   */
  static NDList run(TfSymbolBlock block, NDManager m, NDList in, String modelName, int n) {
    try {
      return block.forward(new ParameterStore(m, false), in, false);
    } catch (RuntimeException e) {
      throw new UserException("TensorFlow failed while running model " + modelName + " on a batch of " + n
          + ": " + firstLine(deepestMessage(e)) + ". If memory ran out, use a smaller batch or device=cpu.", e);
    }
  }

  /** Frees a loaded model (with the plugin's class loader, as DJL needs). */
  static void close(ZooModel<NDList, NDList> model) {
    TensorFlowRuntime.withPluginClassLoader(() -> {
      model.close();
      return null;
    });
  }

  /** Run-record entries {@code device}, {@code engine} and the runtime versions. */
  static Map<String, String> runtimeProvenance(Device device) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("device", device.isGpu() ? "gpu" + device.getDeviceId() : "cpu");
    m.put("engine", "DJL TensorFlow");
    m.putAll(TensorFlowRuntime.versions());
    return m;
  }

  static NDArray named(NDArray a, String name) {
    a.setName(name);
    return a;
  }

  static String deepestMessage(Throwable e) {
    String msg = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      if (c.getMessage() != null) msg = c.getMessage();
    }
    return msg;
  }

  static String firstLine(String s) {
    if (s == null) return "unknown error";
    s = s.trim();
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl).trim();
  }

  /** Checks a tensor's dtype; {@code name} is "x" for an input, "output 'logits'" for an output. */
  static void dtype(TensorInfo ti, String name, org.tensorflow.proto.DataType want, String wantText, String model,
      String doc) {
    if (ti.getDtype() != want) {
      throw new UserException(model + ": " + (name.startsWith("output") ? "" : "input ") + name + " has type "
          + ti.getDtype().name().replace("DT_", "").toLowerCase(Locale.ROOT) + " but the bundle contract "
          + "needs " + wantText + ". Re-export the model; see " + doc + ".");
    }
  }

  /** Static dims (-1 for unknown), or null when the rank is unknown; a known rank other than {@code rank} fails. */
  static long[] dims(TensorInfo ti, int rank, String name, String want, String model, String doc) {
    TensorShapeProto sp = ti.getTensorShape();
    if (!ti.hasTensorShape() || sp.getUnknownRank()) return null;
    long[] d = new long[sp.getDimCount()];
    for (int i = 0; i < d.length; i++) d[i] = sp.getDim(i).getSize();
    if (d.length != rank) {
      throw new UserException(model + ": " + (name.startsWith("output") ? "" : "input ") + name + " has shape "
          + shapeText(d) + " but the bundle contract needs " + want + ". Re-export the model; see " + doc + ".");
    }
    return d;
  }

  static String shapeText(long[] d) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < d.length; i++) {
      if (i > 0) sb.append(',');
      sb.append(d[i] < 0 ? "?" : Long.toString(d[i]));
    }
    return sb.append(']').toString();
  }

  static String plural(long n, String word) {
    return n + " " + word + (n == 1 ? "" : "s");
  }
}
