package org.diffxai.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffxai.core.Classifier;
import org.diffxai.core.UserException;

/**
 * A {@link Classifier} running a classifier bundle's ONNX model through DJL's OnnxRuntime engine, under the contract of
 * docs/classifiers.md: one image input ({@code x}; ONNX models may name it otherwise) (NCHW unless model.json declares {@code "layout": "NHWC"}), output
 * {@code logits} [N,K] (or the only output). TorchScript classifiers are {@link TorchScriptClassifier}s, which add input
 * gradients. Images come in image intensity and are mapped to model space as the bundle says
 * ({@link ClassifierBundle#toModel}); any n is split into batches. Calls are serialised; close to free the model.
 */
public class EngineClassifier implements Classifier {
  final ClassifierBundle bundle;
  final ModelFormat format;
  final TensorLayout layout;
  final Device device;
  final int height;
  final int width;
  final int channels;
  private final List<String> classNames;
  ZooModel<NDList, NDList> model;
  private int batch = DjlClassifier.DEFAULT_BATCH;

  EngineClassifier(ClassifierBundle bundle, ModelFormat format, TensorLayout layout, Device device,
      ZooModel<NDList, NDList> model, int[] hwc, List<String> declaredNames) {
    this.bundle = bundle;
    this.format = format;
    this.layout = layout;
    this.device = device;
    this.model = model;
    this.height = hwc[0];
    this.width = hwc[1];
    this.channels = hwc[2];
    float[][] probe = logits(new float[height * width * channels], 1); // checks the output once, on load
    int k = probe[0].length;
    List<String> names = declaredNames;
    if (!names.isEmpty() && names.size() != k) {
      throw new UserException("Model " + bundle.name() + " has " + k + " logits but its bundle names " + names.size()
          + " classes " + names + ". Fix \"class_names\" in model.json.");
    }
    if (names.isEmpty()) {
      names = new ArrayList<>();
      for (int i = 0; i < k; i++) names.add("class " + i);
    }
    this.classNames = Collections.unmodifiableList(new ArrayList<>(names));
  }

  /**
   * Loads an ONNX ({@link EngineClassifier}) or TorchScript ({@link TorchScriptClassifier}) classifier bundle.
   *
   * @throws UserException when the engine is missing, the model cannot be loaded or breaks the contract, or the bundle
   *     is a prototype network (those are TensorFlow SavedModels with several signatures)
   */
  public static EngineClassifier load(ClassifierBundle bundle, TensorFlowRuntime.DeviceChoice choice) {
    ModelFormat format = ModelFormat.detect(bundle.dir());
    if (format == ModelFormat.TENSORFLOW) {
      throw new IllegalArgumentException(bundle + " is a SavedModel: load it with ClassifierModels");
    }
    String name = "Model " + bundle.name();
    if (bundle.isPrototypeNetwork()) {
      throw new UserException(name + " has a prototypes.json but is a " + format.title() + ": prototype networks "
          + "need the 'prototypes' and 'features' signatures of a TensorFlow SavedModel. Remove prototypes.json to use "
          + "it as a plain classifier, or train it with Train Prototype Network; see docs/classifiers.md.");
    }
    EngineRuntime.ensureLoaded(format); // first: a missing engine is one message, not a missing class
    TensorLayout layout = EngineModels.layout(bundle.dir(), ClassifierBundle.KIND, format);
    long[] declared = {bundle.height(), bundle.width(), bundle.channels()};
    long[] signature = {-1, -1, -1};
    if (format == ModelFormat.ONNX) {
      OnnxSignature sig = OnnxSignature.read(bundle.dir().resolve(format.fileName()),
          bundle.name());
      if (sig.inputs.size() != 1) {
        throw new UserException(name + " has inputs " + EngineModels.names(sig.inputs) + ", but a classifier bundle "
            + "takes exactly one input, the images 'x' (float32 " + (layout == TensorLayout.NCHW ? "[N,C,H,W]"
                : "[N,H,W,C]") + "). Re-export the model with one input; see " + EngineModels.DOC + ".");
      }
      Map.Entry<String, EngineModels.Spec> x = sig.inputs.entrySet().iterator().next();
      long[] d = EngineModels.check(x.getValue(), "'" + x.getKey() + "'", 4, layout == TensorLayout.NCHW
          ? "[N,C,H,W]" : "[N,H,W,C]", name, "float32");
      signature = layout == TensorLayout.NHWC ? new long[] {d[1], d[2], d[3]} : new long[] {d[2], d[3], d[1]};
      if (sig.outputs.size() != 1 && !sig.outputs.containsKey(DjlClassifier.LOGITS)) {
        throw new UserException(name + " has outputs " + EngineModels.names(sig.outputs) + " but none is called "
            + "'logits'. Name the float32 [N,K] output 'logits'; see " + EngineModels.DOC + ".");
      }
    } else if (declared[0] <= 0 || declared[2] <= 0) {
      throw new UserException(name + " is a TorchScript model, which does not record its input size, and its "
          + "model.json does not declare it. Add \"sample_size\": [H, W] and \"channels\": C to model.json; see "
          + EngineModels.DOC + ".");
    }
    int[] hwc = new int[3];
    String[] what = {"height", "width", "channels"};
    for (int i = 0; i < 3; i++) {
      long s = signature[i];
      if (declared[i] > 0 && s > 0 && declared[i] != s) {
        throw new UserException("Model input 'x' of " + bundle.name() + " has " + what[i] + " " + s + " but model.json "
            + "declares " + declared[i] + ". Fix \"sample_size\"/\"channels\" in model.json or re-export the model.");
      }
      long r = declared[i] > 0 ? declared[i] : s;
      if (r <= 0) {
        throw new UserException("Cannot tell the input size of model " + bundle.name() + ": its input 'x' has no fixed "
            + "H, W and C and " + (bundle.hasDescriptor() ? "its model.json does not declare them" : "it has no "
                + "model.json") + ". Add \"sample_size\": [H, W] and \"channels\": C to model.json.");
      }
      hwc[i] = (int) r;
    }
    Device device = EngineRuntime.device(format, choice);
    ZooModel<NDList, NDList> m = EngineModels.load(format, bundle.dir(), device, format == ModelFormat.TORCHSCRIPT,
        bundle.name());
    try {
      return format == ModelFormat.TORCHSCRIPT
          ? new TorchScriptClassifier(bundle, layout, device, m, hwc, bundle.classNames())
          : new EngineClassifier(bundle, format, layout, device, m, hwc, bundle.classNames());
    } catch (RuntimeException e) {
      SavedModels.close(m);
      throw e;
    }
  }

  /** Sets how many images go into one engine call (results do not depend on it). */
  public EngineClassifier batchSize(int n) {
    if (n < 1) throw new IllegalArgumentException("batch size must be >= 1");
    batch = n;
    return this;
  }

  public int batchSize() {
    return batch;
  }

  public ClassifierBundle bundle() {
    return bundle;
  }

  public ModelFormat format() {
    return format;
  }

  @Override
  public int height() {
    return height;
  }

  @Override
  public int width() {
    return width;
  }

  @Override
  public int channels() {
    return channels;
  }

  @Override
  public List<String> classNames() {
    return classNames;
  }

  @Override
  public float[][] logits(float[] x, int n) {
    float[][] out = new float[n][];
    forEachBatch(x, n, (from, m, xb) -> {
      float[] lg = TensorFlowRuntime.withPluginClassLoader(() -> {
        try (NDManager nm = model.getNDManager().newSubManager()) {
          NDList o = EngineModels.run(model.getBlock(), nm, new NDList(input(nm, xb, m)), false, bundle.name(), m);
          return logitsOf(o, m).toFloatArray();
        }
      });
      int k = lg.length / m;
      for (int i = 0; i < m; i++) out[from + i] = java.util.Arrays.copyOfRange(lg, i * k, (i + 1) * k);
    });
    return out;
  }

  /** Receives one batch of m images (model space, NHWC) starting at image {@code from}. */
  interface Batch {
    void accept(int from, int m, float[] modelSpace);
  }

  /** Splits n images (image intensity) into batches mapped to model space. */
  final synchronized void forEachBatch(float[] x, int n, Batch body) {
    if (model == null) throw new IllegalStateException("Classifier " + bundle.name() + " is closed");
    int px = height * width * channels;
    if (n < 1 || x == null || x.length != (long) n * px) {
      throw new IllegalArgumentException("x must have n*H*W*C = " + n + "*" + px + " values, got "
          + (x == null ? "null" : x.length));
    }
    for (int from = 0; from < n; from += batch) {
      int m = Math.min(batch, n - from);
      float[] xb = java.util.Arrays.copyOfRange(x, from * px, (from + m) * px);
      bundle.toModel(xb);
      body.accept(from, m, xb);
    }
  }

  /** The input array of m images (model space, NHWC) in the model's layout, unnamed: the model's only input. */
  final NDArray input(NDManager nm, float[] xb, int m) {
    return nm.create(layout.fromNhwc(xb, m, height, width, channels), new Shape(layout.shape(m, height, width,
        channels)));
  }

  /** The logits among a call's outputs, checked to be float32 [m,K]. */
  final NDArray logitsOf(NDList outs, int m) {
    NDArray lg = null;
    for (NDArray a : outs) {
      if (DjlClassifier.LOGITS.equals(a.getName())) lg = a;
    }
    if (lg == null && outs.size() == 1) lg = outs.get(0);
    if (lg == null || lg.getDataType() != DataType.FLOAT32 || lg.getShape().dimension() != 2
        || lg.getShape().get(0) != m) {
      throw new UserException("Model " + bundle.name() + " returned " + (lg == null ? outs.size() + " outputs and none "
          + "called 'logits'" : "a " + lg.getDataType() + " array of shape " + lg.getShape()) + " for " + m + " images; "
          + "a classifier bundle needs one float32 [N,K] output 'logits'. Re-export the model; see " + EngineModels.DOC
          + ".");
    }
    return lg;
  }

  /** Bundle provenance plus {@code model.format}, {@code model.layout}, the input shape and the engine's entries. */
  public Map<String, String> provenance() {
    Map<String, String> m = new LinkedHashMap<>(bundle.provenance());
    m.put("model.format", format.toString());
    m.put("model.layout", layout.name());
    m.put("model.input_shape", height + "x" + width + "x" + channels);
    m.putAll(EngineRuntime.provenance(format, device));
    return m;
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
    return getClass().getSimpleName() + "[" + bundle.name() + ", " + format + ", " + height + "x" + width + "x"
        + channels + ", " + classNames.size() + " classes, " + device + "]";
  }
}
