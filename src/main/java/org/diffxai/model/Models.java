package org.diffxai.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.UserException;

/**
 * The one entry point that opens any model the project accepts, whatever its engine: the engine is chosen from the
 * bundle's files ({@link ModelFormat#detect}: saved_model.pb → TensorFlow, model.onnx → ONNX Runtime, model.pt →
 * PyTorch), and a bioimage.io model package is accepted wherever a bundle is ({@link BioImageIo#isPackage}). Commands
 * call these instead of {@link DjlDenoiser#load} / {@link ClassifierModels#load}.
 */
public final class Models {
  private Models() {}

  /**
   * Opens a denoiser bundle: {@code sample}, {@code sample-<x>}, a bundle directory, or a bioimage.io package
   * (directory with bioimageio.yaml, or its .zip) that declares the diffusion inputs; the package is imported
   * ({@link BioImageIo#importPackage}) and its test tensors checked first.
   */
  public static DenoiserBundle denoiserBundle(String keyOrPath) {
    Path p = BioImageIo.packagePath(keyOrPath);
    return p != null ? DenoiserBundle.open(BioImageIo.importPackage(p, BioImageIo.Role.DENOISER))
        : DenoiserBundle.open(keyOrPath);
  }

  /** Opens a classifier bundle, or imports a bioimage.io package as one (see {@link #denoiserBundle}). */
  public static ClassifierBundle classifierBundle(String keyOrPath) {
    Path p = BioImageIo.packagePath(keyOrPath);
    return p != null ? ClassifierBundle.open(BioImageIo.importPackage(p, BioImageIo.Role.CLASSIFIER))
        : ClassifierBundle.open(keyOrPath);
  }

  /** SavedModels are run in TensorFlow's NHWC order; a bundle declaring NCHW for one is refused. */
  private static void requireNhwc(java.nio.file.Path dir, BundleDirs.Kind kind, String name) {
    if (EngineModels.layout(dir, kind, ModelFormat.TENSORFLOW) != TensorLayout.NHWC) {
      throw new UserException("Model " + name + " is a TensorFlow SavedModel but its model.json declares \"layout\": "
          + "\"NCHW\"; SavedModels take NHWC images here. Remove the layout key (or set it to NHWC); see "
          + EngineModels.DOC + ".");
    }
  }

  /** The format (and so the engine) of a bundle directory's model. */
  public static ModelFormat format(Path bundleDir) {
    return ModelFormat.detect(bundleDir);
  }

  /**
   * Loads a denoiser bundle on a device ({@code auto}, {@code cpu}, {@code gpu}) with the engine its files call for:
   * a {@link DjlDenoiser} for a SavedModel, an {@link EngineDenoiser} for ONNX and TorchScript.
   *
   * @param imageShape {H, W, C} of the caller's image, or null
   */
  public static Denoiser denoiser(DenoiserBundle bundle, String device, int[] imageShape) {
    TensorFlowRuntime.DeviceChoice choice = TensorFlowRuntime.DeviceChoice.parse(device);
    if (ModelFormat.detect(bundle.directory()) != ModelFormat.TENSORFLOW) {
      return EngineDenoiser.load(bundle, choice, imageShape);
    }
    requireNhwc(bundle.directory(), DenoiserBundle.KIND, bundle.name());
    return DjlDenoiser.load(bundle, choice, imageShape);
  }

  /**
   * Loads a classifier bundle with the engine its files call for: {@link ClassifierModels#load} for a SavedModel
   * (prototype networks included), an {@link EngineClassifier} for ONNX, a {@link TorchScriptClassifier} for
   * TorchScript. A bundle imported from bioimage.io with per-image preprocessing is wrapped so that preprocessing runs
   * first ({@link Preprocessing}).
   */
  public static Classifier classifier(ClassifierBundle bundle, String device) {
    TensorFlowRuntime.DeviceChoice choice = TensorFlowRuntime.DeviceChoice.parse(device);
    boolean tf = ModelFormat.detect(bundle.dir()) == ModelFormat.TENSORFLOW;
    if (tf) requireNhwc(bundle.dir(), ClassifierBundle.KIND, bundle.name());
    Classifier c = tf ? ClassifierModels.load(bundle, choice.toString()) : EngineClassifier.load(bundle, choice);
    Path pre = bundle.dir().resolve(EngineModels.PREPROCESSING_JSON);
    if (!Files.isRegularFile(pre)) return c;
    try {
      return Preprocessing.read(pre).wrap(c);
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /**
   * Loads a classifier that gives input gradients (for saliency, integrated gradients, Grad-CAM, guidance).
   *
   * @throws UserException naming the gradient-free methods when the engine has no gradients (ONNX Runtime) or the
   *     bundle's preprocessing depends on each image's statistics
   */
  public static DifferentiableClassifier differentiableClassifier(ClassifierBundle bundle, String device) {
    Classifier c = classifier(bundle, device);
    if (c instanceof DifferentiableClassifier) return (DifferentiableClassifier) c;
    c.close();
    throw noGradients(bundle);
  }

  /** The message for a gradient method asked of a model whose engine gives no gradients. */
  static UserException noGradients(ClassifierBundle bundle) {
    ModelFormat f = ModelFormat.detect(bundle.dir());
    String why = f == ModelFormat.ONNX
        ? "it is an ONNX model, and ONNX Runtime computes no gradients"
        : Files.isRegularFile(bundle.dir().resolve(EngineModels.PREPROCESSING_JSON))
            ? "its bioimage.io preprocessing normalises each image by its own statistics, which the gradient would "
                + "have to pass through"
            : "its engine (" + f.engineName() + ") gives no input gradients in this version of the plugin";
    return new UserException("Model " + bundle.name() + " cannot give gradients: " + why + ". Use a gradient-free "
        + "method with it: occlusion, or the perturbation metrics (Faithfulness Score). For gradient methods "
        + (f == ModelFormat.ONNX ? "export the same network as TorchScript (model.pt)" : "use a TorchScript model")
        + "; see docs/bring-your-model.md.");
  }

  /**
   * Run-record entries of a loaded model: its own provenance ({@code DjlDenoiser}, {@code EngineDenoiser},
   * {@code DjlClassifier}, {@code EngineClassifier}) with {@code model.format} and {@code engine.version} always set.
   */
  public static Map<String, String> provenance(Object model) {
    Object m = model instanceof Preprocessing.Wrapped ? ((Preprocessing.Wrapped) model).inner() : model;
    Map<String, String> out;
    if (m instanceof EngineDenoiser) return ((EngineDenoiser) m).provenance();
    if (m instanceof EngineClassifier) {
      out = ((EngineClassifier) m).provenance();
    } else if (m instanceof DjlDenoiser || m instanceof DjlClassifier) {
      out = new LinkedHashMap<>(m instanceof DjlDenoiser ? ((DjlDenoiser) m).provenance()
          : ((DjlClassifier) m).provenance());
      out.put("model.format", ModelFormat.TENSORFLOW.toString());
      out.put("model.layout", TensorLayout.NHWC.name());
      out.put("engine.version", out.get("tensorflow.version"));
    } else {
      throw new IllegalArgumentException("not a model loaded by Models: " + model);
    }
    if (model instanceof Preprocessing.Wrapped) out.put("model.preprocessing", ((Preprocessing.Wrapped) model).describe());
    return out;
  }
}
