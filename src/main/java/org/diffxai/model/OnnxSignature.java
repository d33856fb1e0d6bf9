package org.diffxai.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.diffxai.core.UserException;

/**
 * The inputs and outputs an ONNX model declares, read with ONNX Runtime's own API. A class of its own: it names ONNX
 * Runtime's classes, so it is loaded only after {@link EngineRuntime#ensureLoaded} found them.
 */
final class OnnxSignature {
  final Map<String, EngineModels.Spec> inputs = new LinkedHashMap<>();
  final Map<String, EngineModels.Spec> outputs = new LinkedHashMap<>();

  /**
   * Reads an ONNX model's declared inputs and outputs with ONNX Runtime (a short-lived session of its own).
   *
   * @throws UserException when ONNX Runtime cannot read the file
   */
  static OnnxSignature read(Path file, String model) {
    EngineRuntime.ensureLoaded(ModelFormat.ONNX);
    return TensorFlowRuntime.withPluginClassLoader(() -> {
      try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
          OrtSession s = OrtEnvironment.getEnvironment().createSession(file.toString(), o)) {
        OnnxSignature sig = new OnnxSignature();
        for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) sig.inputs.put(e.getKey(), spec(e.getValue()));
        for (Map.Entry<String, NodeInfo> e : s.getOutputInfo().entrySet()) {
          sig.outputs.put(e.getKey(), spec(e.getValue()));
        }
        return sig;
      } catch (OrtException | RuntimeException e) {
        throw new UserException("ONNX Runtime could not read " + file + " (" + model + "): "
            + SavedModels.firstLine(SavedModels.deepestMessage(e)) + ". The file must be an ONNX model, e.g. written "
            + "by torch.onnx.export; see " + EngineModels.DOC + ".", e);
      }
    });
  }

  private static EngineModels.Spec spec(NodeInfo n) {
    if (!(n.getInfo() instanceof TensorInfo)) return new EngineModels.Spec(n.getInfo().toString(), new long[0]);
    TensorInfo t = (TensorInfo) n.getInfo();
    String type;
    switch (t.type) {
      case FLOAT:
        type = "float32";
        break;
      case DOUBLE:
        type = "float64";
        break;
      case INT32:
        type = "int32";
        break;
      case INT64:
        type = "int64";
        break;
      default:
        type = t.type.toString().toLowerCase(java.util.Locale.ROOT);
    }
    return new EngineModels.Spec(type, t.getShape());
  }
}
