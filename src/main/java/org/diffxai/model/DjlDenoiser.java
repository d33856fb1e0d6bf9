package org.diffxai.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.tensorflow.engine.TfSymbolBlock;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.diffxai.core.Denoiser;
import org.diffxai.core.UserException;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * A {@link Denoiser} running a bundle's SavedModel through DJL's TensorFlow engine.
 *
 * <p>Loading checks the model's {@code serving_default} signature against the bundle contract (inputs {@code x},
 * {@code t}, optional {@code label}, optional {@code condition}; one float32 output) and resolves H, W, C from
 * model.json, else the caller's image, else the signature's static shape.
 *
 * <p>Each {@link #predict} call creates its arrays in an {@link NDManager} scope that is closed before it returns, so
 * no native memory outlives a call. Calls are serialised ({@code synchronized}); close the denoiser to free the model.
 */
public final class DjlDenoiser implements Denoiser {
  /** The signature inputs the contract allows. */
  private static final String DOC = "docs/bundles.md";
  static final List<String> CONTRACT_INPUTS = Collections.unmodifiableList(Arrays.asList("x", "t", "label",
      "condition"));

  private final DenoiserBundle bundle;
  private final Device device;
  private final Contract contract;
  private final ModelTrust trust;
  private ZooModel<NDList, NDList> model;
  private TfSymbolBlock block;

  private DjlDenoiser(DenoiserBundle bundle, Device device, Contract contract, SavedModels.Loaded loaded) {
    this.bundle = bundle;
    this.device = device;
    this.contract = contract;
    this.trust = loaded.trust;
    this.model = loaded.model;
    this.block = (TfSymbolBlock) model.getBlock();
  }

  /** Opens the bundle ({@link DenoiserBundle#open(String)}) and loads it on the device ({@code auto/cpu/gpu}). */
  public static DjlDenoiser open(String modelKeyOrDir, String device) {
    return open(modelKeyOrDir, device, false);
  }

  /** {@link #open(String, String)}, trusting the model when {@code trust} ({@link ModelTrust}). */
  public static DjlDenoiser open(String modelKeyOrDir, String device, boolean trust) {
    return load(DenoiserBundle.open(modelKeyOrDir), TensorFlowRuntime.DeviceChoice.parse(device), null, trust);
  }

  /** {@link #load(DenoiserBundle, TensorFlowRuntime.DeviceChoice, int[])} with the device as the user typed it. */
  public static DjlDenoiser load(DenoiserBundle bundle, String device) {
    return load(bundle, TensorFlowRuntime.DeviceChoice.parse(device), null);
  }

  /** {@link #load(DenoiserBundle, TensorFlowRuntime.DeviceChoice, int[])} with the device as the user typed it. */
  public static DjlDenoiser load(DenoiserBundle bundle, String device, int[] imageShape) {
    return load(bundle, TensorFlowRuntime.DeviceChoice.parse(device), imageShape);
  }

  /**
   * Loads a bundle's model through DJL and checks it against the contract.
   *
   * @param imageShape {H, W, C} of the caller's image (e.g. an init image), used when model.json does not declare the
   *     size and checked against it when it does; null, or entries &lt;= 0, when unknown
   * @throws UserException when TensorFlow cannot load the model, the device is unavailable, the signature breaks the
   *     contract, or the sizes disagree
   */
  public static DjlDenoiser load(DenoiserBundle bundle, TensorFlowRuntime.DeviceChoice choice, int[] imageShape) {
    return load(bundle, choice, imageShape, false);
  }

  /**
   * {@link #load(DenoiserBundle, TensorFlowRuntime.DeviceChoice, int[])}, trusting the model when {@code trust}.
   *
   * @param trust run the model even if its graph holds ops outside the allow-list ({@link ModelTrust}); the
   *     environment setting {@value ModelTrust#ENV}=1 trusts too. Provenance records it.
   * @throws UserException also when the graph holds disallowed ops and the model is not trusted
   */
  public static DjlDenoiser load(DenoiserBundle bundle, TensorFlowRuntime.DeviceChoice choice, int[] imageShape,
      boolean trust) {
    final Device device = TensorFlowRuntime.device(choice);
    return TensorFlowRuntime.withPluginClassLoader(() -> {
      SavedModels.Loaded loaded = SavedModels.load(bundle.directory(), bundle.name(), device, DOC, trust);
      try {
        SignatureDef sig = SavedModels.servingDefault(loaded.model, bundle.name(), "its denoiser", DOC);
        Contract c = Contract.check(bundle, sig, imageShape, loaded.graph.embeddingRows("label"));
        return new DjlDenoiser(bundle, device, c, loaded);
      } catch (RuntimeException e) {
        loaded.model.close();
        throw e;
      }
    });
  }


  // ---------------------------------------------------------------------------------------------- contract

  /** The checked signature and the resolved sizes. */
  static final class Contract {
    int height;
    int width;
    int channels;
    int conditionChannels;
    boolean label;
    int numClasses; // 0 when unknown (no model.json)

    /** @param labelRows rows of the label embedding the graph shows, or -1 when it does not show one */
    static Contract check(DenoiserBundle b, SignatureDef sig, int[] imageShape, long labelRows) {
      String model = "Model " + b.name();
      Map<String, TensorInfo> in = sig.getInputsMap();
      for (String k : in.keySet()) {
        if (!CONTRACT_INPUTS.contains(k)) {
          throw new UserException(model + " has an input '" + k + "' that is not part of the bundle contract (x, t, "
              + "optional label, optional condition). Re-export the model with only these inputs; see "
              + "docs/bundles.md.");
        }
      }
      TensorInfo x = required(in, "x", model, "float32 [N,H,W,C] noisy samples");
      TensorInfo t = required(in, "t", model, "float32 [N] timesteps");
      SavedModels.dtype(x, "x", org.tensorflow.proto.DataType.DT_FLOAT, "float32", model, DOC);
      SavedModels.dtype(t, "t", org.tensorflow.proto.DataType.DT_FLOAT, "float32", model, DOC);
      long[] xs = SavedModels.dims(x, 4, "x", "[N,H,W,C]", model, DOC);
      SavedModels.dims(t, 1, "t", "[N]", model, DOC);

      Contract c = new Contract();
      TensorInfo label = in.get("label");
      c.label = label != null;
      if (label != null) {
        SavedModels.dtype(label, "label", org.tensorflow.proto.DataType.DT_INT32, "int32", model, DOC);
        SavedModels.dims(label, 1, "label", "[N]", model, DOC);
      }
      if (b.hasDescriptor()) {
        c.numClasses = b.classNames().size();
        if (c.label && c.numClasses == 0) {
          throw new UserException(model + " takes a 'label' input, but its model.json declares no class_names. Add "
              + "\"class_names\" to model.json (one name per label value); see docs/bundles.md.");
        }
        if (!c.label && c.numClasses > 0) {
          throw new UserException(model + " has no 'label' input, but its model.json declares class_names "
              + b.classNames() + ". Remove class_names from model.json, or export the model with an int32 [N] "
              + "'label' input.");
        }
        int extra = b.unconditionalLabel() >= 0 ? 1 : 0; // the "no class" row
        int rows = c.numClasses + extra;
        if (c.label && labelRows > 0 && labelRows != rows) {
          throw new UserException(model + "'s label embedding has " + labelRows + " rows, one per class"
              + (extra == 1 ? " plus the unconditional row" : "") + ", but its model.json names "
              + c.numClasses + " class" + (c.numClasses == 1 ? "" : "es") + " " + b.classNames() + ". Give \"class_names\""
              + " exactly " + (labelRows - extra) + " names, one per label value; see "
              + "docs/bundles.md.");
        }
      } else if (c.label && labelRows > 0) {
        c.numClasses = (int) labelRows;
      }

      TensorInfo cond = in.get("condition");
      long[] cs = null;
      if (cond != null) {
        SavedModels.dtype(cond, "condition", org.tensorflow.proto.DataType.DT_FLOAT, "float32", model, DOC);
        cs = SavedModels.dims(cond, 4, "condition", "[N,H,W,K]", model, DOC);
      }
      if (b.hasDescriptor()) {
        int k = b.conditionChannels();
        if (cond == null && k > 0) {
          throw new UserException(model + " has no 'condition' input, but its model.json declares condition_channels "
              + k + ". Set condition_channels to 0, or export the model with a float32 [N,H,W," + k + "] 'condition' "
              + "input.");
        }
        if (cond != null && k == 0) {
          throw new UserException(model + " takes a 'condition' input, but its model.json declares no "
              + "condition_channels. Add \"condition_channels\": K to model.json; see docs/bundles.md.");
        }
        if (cs != null && cs[3] > 0 && cs[3] != k) {
          throw new UserException("Model input 'condition' expects " + SavedModels.plural(cs[3], "channel") + " but model.json "
              + "declares condition_channels " + k + " (" + b.name() + "). Fix condition_channels in model.json or "
              + "re-export the model.");
        }
        c.conditionChannels = k;
      } else if (cs != null) {
        if (cs[3] <= 0) {
          throw new UserException("Model input 'condition' of " + b.name() + " has no fixed channel count, and the "
              + "bundle has no model.json to declare it. Add a model.json with \"condition_channels\"; see "
              + "docs/bundles.md.");
        }
        c.conditionChannels = (int) cs[3];
      }

      // H, W, C: model.json, else the caller's image, else the signature; every known source must agree.
      long[] declared = {b.height(), b.width(), b.channels()};
      long[] image = new long[3];
      if (imageShape != null) {
        for (int i = 0; i < Math.min(3, imageShape.length); i++) image[i] = Math.max(0, imageShape[i]);
      }
      long[] signature = xs == null ? new long[3] : new long[] {Math.max(0, xs[1]), Math.max(0, xs[2]),
          Math.max(0, xs[3])};
      String[] what = {"height", "width", "channel"};
      long[] resolved = new long[3];
      for (int i = 0; i < 3; i++) {
        if (declared[i] > 0 && signature[i] > 0 && declared[i] != signature[i]) {
          String decl = i == 2 ? "declares " + SavedModels.plural(declared[i], "channel")
              : "declares sample_size [" + b.height() + ", " + b.width() + "]";
          throw new UserException("Model input 'x' expects " + (i == 2 ? SavedModels.plural(signature[i], "channel")
              : what[i] + " " + signature[i]) + " but model.json " + decl + " (" + b.name() + "). Fix "
              + (i == 2 ? "\"channels\"" : "\"sample_size\"") + " in model.json or re-export the model.");
        }
        resolved[i] = declared[i] > 0 ? declared[i] : image[i] > 0 ? image[i] : signature[i];
      }
      for (int i = 0; i < 3; i++) {
        if (image[i] > 0 && image[i] != resolved[i]) {
          throw new UserException("The image is " + image[0] + "x" + image[1] + " with " + SavedModels.plural(image[2], "channel")
              + ", but model " + b.name() + " works on " + resolved[0] + "x" + resolved[1] + " with "
              + SavedModels.plural(resolved[2], "channel") + ". Give an image of that size, or none.");
        }
      }
      if (resolved[0] <= 0 || resolved[1] <= 0 || resolved[2] <= 0) {
        throw new UserException("Cannot tell the sample size of model " + b.name() + ": its signature does not fix "
            + "H, W and C of input 'x' and " + (b.hasDescriptor() ? "its model.json does not declare them"
                : "it has no model.json") + ". Add \"sample_size\": [H, W] and \"channels\": C to model.json, or give "
            + "an image to start from.");
      }
      c.height = (int) resolved[0];
      c.width = (int) resolved[1];
      c.channels = (int) resolved[2];
      if (cs != null) {
        for (int i = 1; i <= 2; i++) {
          if (cs[i] > 0 && cs[i] != resolved[i - 1]) {
            throw new UserException("Model input 'condition' expects " + what[i - 1] + " " + cs[i] + " but the samples "
                + "are " + resolved[0] + "x" + resolved[1] + " (" + b.name() + "). The condition must have the "
                + "sample's height and width; re-export the model.");
          }
        }
      }

      Map<String, TensorInfo> out = sig.getOutputsMap();
      if (out.size() != 1) {
        throw new UserException(model + " has " + out.size() + " outputs ("
            + String.join(", ", new TreeSet<>(out.keySet())) + "); the bundle contract needs exactly one float32 "
            + "[N,H,W,C] output. Re-export the model.");
      }
      Map.Entry<String, TensorInfo> o = out.entrySet().iterator().next();
      SavedModels.dtype(o.getValue(), "output '" + o.getKey() + "'", org.tensorflow.proto.DataType.DT_FLOAT, "float32", model, DOC);
      long[] os = SavedModels.dims(o.getValue(), 4, "output '" + o.getKey() + "'", "[N,H,W,C]", model, DOC);
      if (os != null) {
        for (int i = 1; i <= 3; i++) {
          if (os[i] > 0 && os[i] != resolved[i - 1]) {
            throw new UserException("Model output '" + o.getKey() + "' has shape " + SavedModels.shapeText(os) + " but the "
                + "samples are [N," + c.height + "," + c.width + "," + c.channels + "] (" + b.name() + "). The output "
                + "must have the shape of input 'x'; re-export the model.");
          }
        }
      }
      return c;
    }

    private static TensorInfo required(Map<String, TensorInfo> in, String name, String model, String what) {
      TensorInfo ti = in.get(name);
      if (ti == null) {
        throw new UserException(model + " has no input '" + name + "' (" + what + "); its inputs are "
            + new TreeSet<>(in.keySet()) + ". The bundle contract needs inputs x and t; see docs/bundles.md.");
      }
      return ti;
    }

  }


  // ---------------------------------------------------------------------------------------------- Denoiser

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

  /** The bundle this denoiser was loaded from. */
  public DenoiserBundle bundle() {
    return bundle;
  }

  /** The device the model runs on. */
  public Device device() {
    return device;
  }

  /**
   * Bundle provenance ({@link DenoiserBundle#provenance()}) plus {@code model.input_shape} (H x W x C as run),
   * {@code model.condition_channels}, {@code model.class_conditional}, {@code model.trust} and
   * {@code model.graph_check} ({@link ModelTrust#provenance()}), {@code device}, and the runtime versions
   * ({@link TensorFlowRuntime#versions()}).
   */
  public Map<String, String> provenance() {
    Map<String, String> m = new LinkedHashMap<>(bundle.provenance());
    m.putAll(trust.provenance());
    m.put("model.input_shape", contract.height + "x" + contract.width + "x" + contract.channels);
    m.put("model.condition_channels", Integer.toString(contract.conditionChannels));
    m.put("model.class_conditional", Boolean.toString(contract.label));
    m.putAll(SavedModels.runtimeProvenance(device));
    return m;
  }

  /**
   * Runs the model on a batch.
   *
   * @throws IllegalArgumentException when n &lt; 1 or an array has the wrong length or presence, or a label is out of
   *     range (programming errors: callers validate user input first, e.g. with {@link org.diffxai.core.ClassNames#index})
   * @throws UserException when TensorFlow fails while running the model
   */
  @Override
  public synchronized float[] predict(float[] x, float[] t, int[] labels, float[] condition, int n) {
    if (model == null) throw new IllegalStateException("DjlDenoiser is closed");
    validate(x, t, labels, condition, n);
    final int h = contract.height;
    final int w = contract.width;
    final int c = contract.channels;
    final int k = contract.conditionChannels;
    return TensorFlowRuntime.withPluginClassLoader(() -> {
      try (NDManager m = model.getNDManager().newSubManager()) {
        NDList in = new NDList(4);
        in.add(SavedModels.named(m.create(x, new Shape(n, h, w, c)), "x"));
        in.add(SavedModels.named(m.create(t, new Shape(n)), "t"));
        if (contract.label) in.add(SavedModels.named(m.create(labels, new Shape(n)), "label"));
        if (k > 0) in.add(SavedModels.named(m.create(condition, new Shape(n, h, w, k)), "condition"));
        NDList out = SavedModels.run(block, m, in, bundle.name(), n);
        NDArray o = out.singletonOrThrow();
        Shape want = new Shape(n, h, w, c);
        if (!o.getShape().equals(want) || o.getDataType() != DataType.FLOAT32) {
          throw new UserException("Model " + bundle.name() + " returned a " + o.getDataType() + " array of shape "
              + o.getShape() + " for a batch of shape " + want + "; the bundle contract needs float32 of the shape of "
              + "input 'x'. Re-export the model; see docs/bundles.md.");
        }
        return o.toFloatArray();
      }
    });
  }

  private void validate(float[] x, float[] t, int[] labels, float[] condition, int n) {
    long hwc = (long) contract.height * contract.width * contract.channels;
    if (n < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + n);
    if (x == null || x.length != n * hwc) {
      throw new IllegalArgumentException("x must have n*H*W*C = " + n + "*" + hwc + " values, got "
          + (x == null ? "null" : x.length));
    }
    if (t == null || t.length != n) {
      throw new IllegalArgumentException("t must have n = " + n + " values, got " + (t == null ? "null" : t.length));
    }
    if (contract.label) {
      if (labels == null || labels.length != n) {
        throw new IllegalArgumentException("model " + bundle.name() + " is class-conditional: labels must have n = "
            + n + " values, got " + (labels == null ? "null" : labels.length));
      }
      for (int l : labels) {
        if (l < 0 || (contract.numClasses > 0 && l >= contract.numClasses && l != unconditionalLabel())) {
          throw new IllegalArgumentException("label " + l + " out of range for model " + bundle.name() + " ("
              + contract.numClasses + " classes)");
        }
      }
    } else if (labels != null) {
      throw new IllegalArgumentException("model " + bundle.name() + " is unconditional: labels must be null");
    }
    int k = contract.conditionChannels;
    if (k > 0) {
      long want = n * (long) contract.height * contract.width * k;
      if (condition == null || condition.length != want) {
        throw new IllegalArgumentException("condition must have n*H*W*K = " + want + " values, got "
            + (condition == null ? "null" : condition.length));
      }
    } else if (condition != null) {
      throw new IllegalArgumentException("model " + bundle.name() + " takes no condition: condition must be null");
    }
  }


  /** Arrays (and sub-managers' arrays) alive in the model's NDManager: constant across calls when nothing leaks. */
  synchronized int liveArrays() {
    return model == null ? 0 : model.getNDManager().getManagedArrays().size();
  }

  /** Frees the model (idempotent). */
  @Override
  public synchronized void close() {
    if (model == null) return;
    ZooModel<NDList, NDList> m = model;
    model = null;
    block = null;
    SavedModels.close(m);
  }

  @Override
  public String toString() {
    return "DjlDenoiser[" + bundle.name() + ", " + contract.height + "x" + contract.width + "x" + contract.channels
        + ", " + device + "]";
  }
}
