package org.diffxai.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.tensorflow.engine.TfSymbolBlock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.diffxai.core.Classifier;
import org.diffxai.core.Confidence;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.UserException;
import org.tensorflow.Output;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.types.TFloat32;

/**
 * A {@link Classifier} running a classifier bundle's SavedModel through DJL's TensorFlow engine. Loading checks
 * {@code serving_default} (one input {@code x} float32 [N,H,W,C]; output {@code logits} float32 [N,K], or the only
 * output) and resolves H, W, C from model.json, else the signature; K from the signature, else one call on a blank
 * image, and model.json's class names must match K.
 *
 * <p>Images come in image intensity and are mapped to model space as the bundle says
 * ({@link ClassifierBundle#toModel}); any n is split
 * into batches of {@link #batchSize()}. Calls are serialised; close to free the model.
 *
 * <p>Gradients ({@link DifferentiableClassifier}): DJL's TensorFlow engine has no gradients and exposes its graph only as
 * a native handle, so the first gradient call loads the same SavedModel a second time through TF Java (same session
 * settings and device) and adds the gradient ops to that graph ({@link GraphGradients}), once per objective kind. The
 * logit and log-probability objectives differentiate {@code serving_default}'s logits, the prototype score the
 * {@code prototypes} signature's {@code scores}; the feature layer of Grad-CAM is the {@code features} signature's
 * output (prototype networks have one; a plain SavedModel may add one). Gradients come back in image intensity units
 * ({@link ClassifierBundle#toImageGradient}).
 */
public class DjlClassifier implements DifferentiableClassifier {
  static final String DOC = "docs/classifiers.md";
  /** Images per TensorFlow call. */
  public static final int DEFAULT_BATCH = 32;

  final ClassifierBundle bundle;
  final Device device;
  private final int height;
  private final int width;
  private final int channels;
  private final List<String> classNames;
  private final String logitsName;
  private final ModelTrust trust;
  private ZooModel<NDList, NDList> model;
  private TfSymbolBlock block;
  private int batch = DEFAULT_BATCH;
  /** The TF Java copy of the SavedModel that gradients run on; null until the first gradient call. */
  private SavedModelBundle gradModel;
  private ClassifierGradients gradients;

  DjlClassifier(ClassifierBundle bundle, Device device, SavedModels.Loaded loaded) {
    this.bundle = bundle;
    this.device = device;
    this.trust = loaded.trust;
    this.model = loaded.model;
    this.block = (TfSymbolBlock) model.getBlock();
    String m = "Model " + bundle.name();
    SignatureDef sig = SavedModels.servingDefault(model, bundle.name(), "its classifier (x -> logits)", DOC);
    Map<String, TensorInfo> in = sig.getInputsMap();
    if (in.size() != 1 || !in.containsKey("x")) {
      throw new UserException(m + " has inputs " + new TreeSet<>(in.keySet()) + ", but a classifier bundle takes "
          + "exactly one input 'x' (float32 [N,H,W,C]). Re-export the model; see " + DOC + ".");
    }
    TensorInfo x = in.get("x");
    SavedModels.dtype(x, "x", org.tensorflow.proto.DataType.DT_FLOAT, "float32", m, DOC);
    long[] xs = SavedModels.dims(x, 4, "x", "[N,H,W,C]", m, DOC);
    Map<String, TensorInfo> out = sig.getOutputsMap();
    if (out.containsKey(LOGITS)) {
      logitsName = LOGITS;
    } else if (out.size() == 1) {
      logitsName = out.keySet().iterator().next();
    } else {
      throw new UserException(m + " has outputs " + new TreeSet<>(out.keySet()) + " but none is called 'logits'. "
          + "Name the float32 [N,K] output 'logits'; see " + DOC + ".");
    }
    TensorInfo lo = out.get(logitsName);
    SavedModels.dtype(lo, "output '" + logitsName + "'", org.tensorflow.proto.DataType.DT_FLOAT, "float32", m, DOC);
    long[] ls = SavedModels.dims(lo, 2, "output '" + logitsName + "'", "[N,K]", m, DOC);

    long[] declared = {bundle.height(), bundle.width(), bundle.channels()};
    long[] resolved = new long[3];
    String[] what = {"height", "width", "channels"};
    for (int i = 0; i < 3; i++) {
      long s = xs == null ? -1 : xs[i + 1];
      if (declared[i] > 0 && s > 0 && declared[i] != s) {
        throw new UserException("Model input 'x' of " + bundle.name() + " has " + what[i] + " " + s + " but model.json "
            + "declares " + declared[i] + ". Fix \"sample_size\"/\"channels\" in model.json or re-export the model.");
      }
      resolved[i] = declared[i] > 0 ? declared[i] : s;
      if (resolved[i] <= 0) {
        throw new UserException("Cannot tell the input size of model " + bundle.name() + ": its signature does not "
            + "fix H, W and C of input 'x' and " + (bundle.hasDescriptor() ? "its model.json does not declare them"
                : "it has no model.json") + ". Add \"sample_size\": [H, W] and \"channels\": C to model.json.");
      }
    }
    height = (int) resolved[0];
    width = (int) resolved[1];
    channels = (int) resolved[2];
    List<String> names = bundle.classNames();
    // K from the signature, else from one call on a blank image: never from the names, which are what is checked
    long k = ls != null && ls[1] > 0 ? ls[1] : probeClasses(logitsName);
    if (!names.isEmpty() && names.size() != k) {
      throw new UserException("Model " + bundle.name() + " has " + k + " outputs (logits) but its bundle names "
          + names.size() + " classes " + names + ". Give \"class_names\" in model.json exactly " + k + " names, "
          + "one per output; see " + DOC + ".");
    }
    if (names.isEmpty()) {
      List<String> gen = new ArrayList<>();
      for (int i = 0; i < k; i++) gen.add("class " + i);
      names = gen;
    }
    classNames = Collections.unmodifiableList(new ArrayList<>(names));
  }

  static final String LOGITS = "logits";

  /**
   * Sets how many images go into one TensorFlow call. The same batch size repeats every number exactly; another one may
   * change the last bits (measured on the bundled prototype networks: logits within 1e-5 between batch 4 and 32, within
   * 5e-4 between batch 1 and 32, as TensorFlow computes a single image in another order).
   */
  public DjlClassifier batchSize(int n) {
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
    int k = classNames.size();
    float[][] out = new float[n][k];
    forEachBatch(x, n, (from, m, outputs) -> {
      float[] lg = outputs.get(logitsName).toFloatArray();
      for (int i = 0; i < m; i++) System.arraycopy(lg, i * k, out[from + i], 0, k);
    }, null);
    return out;
  }

  /** The bundle's calibration temperature and OOD threshold ({@link ClassifierBundle#confidence()}). */
  @Override
  public Confidence confidence() {
    return bundle.confidence();
  }

  /** Receives the outputs of one batch of m images starting at image {@code from}. */
  interface BatchConsumer {
    void accept(int from, int m, Map<String, NDArray> outputs);
  }

  /**
   * Runs {@code signature} (null: serving_default) on n images in batches, in model space, and hands each batch's
   * named outputs to {@code consumer} while their native memory is alive.
   */
  final synchronized void forEachBatch(float[] x, int n, BatchConsumer consumer, TfSymbolBlock signature) {
    if (model == null) throw new IllegalStateException("Classifier " + bundle.name() + " is closed");
    int px = height * width * channels;
    if (n < 1) throw new IllegalArgumentException("n must be >= 1, got " + n);
    if (x == null || x.length != (long) n * px) {
      throw new IllegalArgumentException("x must have n*H*W*C = " + n + "*" + px + " values, got "
          + (x == null ? "null" : x.length));
    }
    TfSymbolBlock b = signature == null ? block : signature;
    for (int from = 0; from < n; from += batch) {
      int m = Math.min(batch, n - from);
      float[] xb = new float[m * px];
      System.arraycopy(x, from * px, xb, 0, m * px);
      bundle.toModel(xb);
      final int start = from;
      TensorFlowRuntime.withPluginClassLoader(() -> {
        try (NDManager nm = model.getNDManager().newSubManager()) {
          NDList in = new NDList(SavedModels.named(nm.create(xb, new Shape(m, height, width, channels)), "x"));
          NDList outs = SavedModels.run(b, nm, in, bundle.name(), m);
          Map<String, NDArray> named = new LinkedHashMap<>();
          for (NDArray a : outs) {
            if (a.getDataType() != DataType.FLOAT32 || a.getShape().get(0) != m) {
              throw new UserException("Model " + bundle.name() + " returned output '" + a.getName() + "' of type "
                  + a.getDataType() + " and shape " + a.getShape() + " for a batch of " + m + " images; the bundle "
                  + "contract needs float32 with the batch first. Re-export the model; see " + DOC + ".");
            }
            named.put(a.getName(), a);
          }
          consumer.accept(start, m, named);
        }
        return null;
      });
    }
  }

  // ---------------------------------------------------------------------------------------------- gradients

  @Override
  public synchronized Gradient gradient(float[] x, int n, Objective objective) {
    return gradients().gradient(x, n, objective, batch);
  }

  /**
   * The gradient with respect to the {@code features} signature's output (prototype networks: the latent patches, for
   * EPPNet the L2-normalised ones), with its activations.
   *
   * @throws UserException when the SavedModel has no {@code features} signature [N,h,w,D]
   */
  @Override
  public synchronized LayerGradient featureGradient(float[] x, int n, Objective objective) {
    featureShape();
    return gradients().featureGradient(x, n, objective, batch);
  }

  /** Loads the TF Java copy of the SavedModel and finds its tensors on first use. */
  private ClassifierGradients gradients() {
    if (model == null) throw new IllegalStateException("Classifier " + bundle.name() + " is closed");
    if (gradients != null) return gradients;
    try {
      // the same directory the constructor's load checked (ModelTrust), again through a glob-free path
      gradModel = SavedModels.withGlobFreePath(bundle.dir(), p -> TensorFlowRuntime.withPluginClassLoader(
          () -> SavedModelBundle.loader(p.toString()).withTags("serve")
              .withConfigProto(TensorFlowRuntime.sessionConfig(device)).load()));
    } catch (UserException e) {
      throw e;
    } catch (Exception e) {
      throw new UserException("TensorFlow could not load model " + bundle.name() + " a second time for its gradients: "
          + SavedModels.firstLine(SavedModels.deepestMessage(e)) + ". " + GraphGradients.GRADIENT_FREE, e);
    }
    Map<String, SignatureDef> sigs = gradModel.metaGraphDef().getSignatureDefMap();
    boolean proto = this instanceof PrototypeClassifier;
    long[] fs = sigs.containsKey(DjlPrototypeClassifier.FEATURES) ? featureShapeOrNull() : null;
    gradients = new ClassifierGradients(new GraphGradients(gradModel.graph(), bundle.name()), gradModel.session(),
        bundle, tensor("serving_default", "x"), height, width, channels, tensor("serving_default", logitsName),
        classNames.size(), proto ? tensor(DjlPrototypeClassifier.PROTOTYPES, "scores") : null,
        proto ? ((PrototypeClassifier) this).prototypes() : 0, fs == null ? null : feature(),
        fs == null ? null : new int[] {(int) fs[1], (int) fs[2], (int) fs[3]});
    return gradients;
  }

  /** A signature's tensor in the gradient graph. */
  @SuppressWarnings("unchecked")
  private Output<TFloat32> tensor(String signature, String name) {
    SignatureDef sig = gradModel.metaGraphDef().getSignatureDefMap().get(signature);
    TensorInfo ti = sig == null ? null : sig.getInputsMap().containsKey(name) ? sig.getInputsMap().get(name)
        : sig.getOutputsMap().get(name);
    if (ti == null) throw new IllegalStateException(signature + " has no tensor " + name);
    return (Output<TFloat32>) gradModel.graph().outputOrThrow(ti.getName());
  }

  /** The feature layer: the tensor the {@code features} signature exports (in front of its Identity). */
  @SuppressWarnings("unchecked")
  private Output<TFloat32> feature() {
    return (Output<TFloat32>) GraphGradients.throughIdentity(tensor(DjlPrototypeClassifier.FEATURES,
        DjlPrototypeClassifier.FEATURES));
  }

  private long[] featureShapeOrNull() {
    try {
      return featureShape();
    } catch (UserException e) {
      return null;
    }
  }

  /**
   * [N, h, w, D] of the {@code features} signature's output.
   *
   * @throws UserException when there is none with a static shape
   */
  private long[] featureShape() {
    SignatureDef sig = signatures().get(DjlPrototypeClassifier.FEATURES);
    TensorInfo ti = sig == null ? null : sig.getOutputsMap().get(DjlPrototypeClassifier.FEATURES);
    long[] d = ti == null ? null : SavedModels.dims(ti, 4, "output 'features'", "[N,h,w,D]", "Model "
        + bundle.name(), DOC);
    if (d == null || d[1] <= 0 || d[2] <= 0 || d[3] <= 0) {
      throw new UserException("No feature layer is known for model " + bundle.name() + ", so Grad-CAM cannot be "
          + "computed: " + (ti == null ? "its SavedModel has no 'features' signature" : "its 'features' output has "
          + "no static shape [N,h,w,D]") + ". Export one (x -> features float32 [N,h,w,D], as prototype networks "
          + "have; see " + DOC + "), or use saliency, integrated_gradients, smoothgrad or occlusion.");
    }
    return d;
  }

  /** K from one call on a blank image, for models whose signature does not tell it. */
  private long probeClasses(String output) {
    long[] k = new long[1];
    forEachBatch(new float[height * width * channels], 1, (from, m, outs) -> k[0] = outs.get(output).getShape()
        .get(1), null);
    return k[0];
  }

  /** The model's block for another signature of the same SavedModel (shares its session). */
  final TfSymbolBlock signatureBlock(String key) {
    Map<String, SignatureDef> sigs = SavedModels.signatures(model);
    if (!sigs.containsKey(key)) {
      throw new UserException("Model " + bundle.name() + " has a prototypes.json but no '" + key + "' signature "
          + "(it has: " + String.join(", ", new TreeSet<>(sigs.keySet())) + "). Re-export it with Train Prototype "
          + "Network; see " + DOC + ".");
    }
    return new TfSymbolBlock(block.getSavedModelBundle(), key);
  }

  final Map<String, SignatureDef> signatures() {
    return SavedModels.signatures(model);
  }

  /**
   * Bundle provenance plus the input shape, {@code model.trust} and {@code model.graph_check}
   * ({@link ModelTrust#provenance()}), device and runtime versions.
   */
  public Map<String, String> provenance() {
    Map<String, String> m = new LinkedHashMap<>(bundle.provenance());
    m.putAll(trust.provenance());
    m.put("model.input_shape", height + "x" + width + "x" + channels);
    m.putAll(SavedModels.runtimeProvenance(device));
    return m;
  }

  @Override
  public synchronized void close() {
    if (model == null) return;
    ZooModel<NDList, NDList> m = model;
    model = null;
    block = null;
    SavedModels.close(m);
    if (gradModel != null) gradModel.close();
    gradModel = null;
    gradients = null;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + bundle.name() + ", " + height + "x" + width + "x" + channels + ", "
        + classNames.size() + " classes, " + device + "]";
  }
}
