package org.diffxai.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;

/**
 * The one registry through which every use case opens a model: a bundled sample ({@code sample}, {@code sample-<x>}),
 * a bundle directory or a bioimage.io package, checked, loaded on the device with the engine its files call for
 * ({@link ModelFormat#detect}: saved_model.pb → TensorFlow, model.onnx → ONNX Runtime, model.pt → PyTorch), and
 * returned as a {@link LoadedModel} the caller closes. While the runtime loads for the first time (seconds) the
 * progress says so. Every SavedModel's graph is checked against the allow-list of pure compute operations before it
 * loads, unless {@code trust} (docs/security.md).
 */
public final class Models {
  private Models() {}

  /**
   * A denoiser bundle (docs/bundles.md).
   *
   * @param shape {H, W, C} of an image the caller brings (an init image), or null
   */
  public static LoadedModel<Denoiser> denoiser(String key, DeviceChoice device, int[] shape, boolean trust,
      Progress progress) {
    DenoiserBundle b = denoiserBundle(key);
    SchedulerConfig config = SchedulerConfig.fromJson(b.schedulerConfigJson());
    starting(progress, b.name());
    Denoiser d = denoiser(b, device, shape, trust);
    return LoadedModel.<Denoiser>of(d, b.name(), provenance(d)).withClassNames(b.classNames())
        .withIntensity(b.intensity()).withScheduler(config);
  }

  /**
   * A denoiser bundle's description (scheduler, classes, intensity, provenance) around a denoiser given by the caller
   * instead of the bundle's network: benchmarks wrap the network in a stopwatch, tests use stand-ins. Closing the result
   * closes {@code denoiser}.
   */
  public static LoadedModel<Denoiser> wrap(String key, Denoiser denoiser) {
    DenoiserBundle b = DenoiserBundle.open(key);
    return LoadedModel.of(denoiser, b.name(), b.provenance()).withClassNames(b.classNames())
        .withIntensity(b.intensity()).withScheduler(SchedulerConfig.fromJson(b.schedulerConfigJson()));
  }

  /** A classifier bundle (docs/classifiers.md): a prototype network when it has prototypes.json. */
  public static LoadedModel<Classifier> classifier(String key, DeviceChoice device, int batch, boolean trust,
      Progress progress) {
    ClassifierBundle b = classifierBundle(key);
    starting(progress, b.name());
    Classifier c = classifier(b, device, trust);
    Classifier runs = c instanceof Preprocessing.Wrapped ? ((Preprocessing.Wrapped) c).inner() : c;
    if (runs instanceof DjlClassifier) ((DjlClassifier) runs).batchSize(batch);
    if (runs instanceof EngineClassifier) ((EngineClassifier) runs).batchSize(batch);
    return LoadedModel.<Classifier>of(c, b.name(), provenance(c)).withClassNames(c.classNames())
        .withIntensity(b.intensity());
  }

  /**
   * A prototype network with its gallery (the prototypes' source images).
   *
   * @throws UserException when the bundle is not a prototype network, or its gallery is missing or does not show every
   *     prototype
   */
  public static LoadedModel<PrototypeClassifier> prototypes(String key, DeviceChoice device, int batch, boolean trust,
      Progress progress) {
    ClassifierBundle b = ClassifierBundle.open(key);
    if (!b.isPrototypeNetwork()) {
      throw new UserException("Model " + b.name() + " is not a prototype network: its bundle has no "
          + ClassifierBundle.PROTOTYPES_JSON + ". Give a bundle made by Train Prototype Network, e.g. "
          + "model=sample-ppnet.");
    }
    Path g = b.galleryPath();
    if (g == null) {
      throw new UserException("Model " + b.name() + " has no " + ClassifierBundle.GALLERY + " (the prototypes'"
          + " source images) in " + b.dir() + ". Restore the complete bundle.");
    }
    starting(progress, b.name());
    DjlPrototypeClassifier c = (DjlPrototypeClassifier) ClassifierModels.load(b, device, trust);
    try {
      c.batchSize(batch);
      FloatStack gallery = ImageReaders.readFloatStack(g);
      for (int p = 0; p < c.prototypes(); p++) {
        if (c.prototype(p).galleryPlane >= gallery.planeCount()) {
          throw new UserException("Model " + b.name() + ": prototype " + p + " is shown on plane "
              + c.prototype(p).galleryPlane + " of " + g + ", which has " + gallery.planeCount() + " planes."
              + " Restore the complete bundle.");
        }
      }
      return LoadedModel.<PrototypeClassifier>of(c, b.name(), provenance(c)).withClassNames(c.classNames())
          .withIntensity(b.intensity()).withGallery(gallery);
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private static void starting(Progress progress, String name) {
    // one message: a second report right after the first would replace it before anyone could read it
    progress.report("Opening model " + name + (TensorFlowRuntime.isLoaded() ? "" : " (loading TensorFlow first, a few"
        + " seconds)") + "...", Double.NaN);
  }

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

  /**
   * True when {@code key} names a denoiser (a bundled denoiser sample, or a folder with scheduler_config.json), false
   * for anything else (a classifier bundle, or a key the classifier loader explains).
   */
  public static boolean isDenoiser(String key) {
    String k = key == null ? "" : key.trim();
    if (DenoiserBundle.isSampleKey(k)) return DenoiserBundle.availableSamples().contains(k);
    return Files.isRegularFile(Paths.get(k).resolve(DenoiserBundle.SCHEDULER_CONFIG));
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
    return denoiser(bundle, DeviceChoice.parse(device), imageShape, false);
  }

  /** As {@link #denoiser(DenoiserBundle, String, int[])}; {@code trust} skips the SavedModel op allow-list. */
  public static Denoiser denoiser(DenoiserBundle bundle, DeviceChoice choice, int[] imageShape, boolean trust) {
    if (ModelFormat.detect(bundle.directory()) != ModelFormat.TENSORFLOW) {
      return EngineDenoiser.load(bundle, choice, imageShape);
    }
    requireNhwc(bundle.directory(), DenoiserBundle.KIND, bundle.name());
    return DjlDenoiser.load(bundle, choice, imageShape, trust);
  }

  /**
   * Loads a classifier bundle with the engine its files call for: {@link ClassifierModels#load} for a SavedModel
   * (prototype networks included), an {@link EngineClassifier} for ONNX, a {@link TorchScriptClassifier} for
   * TorchScript. A bundle imported from bioimage.io with per-image preprocessing is wrapped so that preprocessing runs
   * first ({@link Preprocessing}).
   */
  public static Classifier classifier(ClassifierBundle bundle, String device) {
    return classifier(bundle, DeviceChoice.parse(device), false);
  }

  /** As {@link #classifier(ClassifierBundle, String)}; {@code trust} skips the SavedModel op allow-list. */
  public static Classifier classifier(ClassifierBundle bundle, DeviceChoice choice, boolean trust) {
    boolean tf = ModelFormat.detect(bundle.dir()) == ModelFormat.TENSORFLOW;
    if (tf) requireNhwc(bundle.dir(), ClassifierBundle.KIND, bundle.name());
    Classifier c = tf ? ClassifierModels.load(bundle, choice, trust) : EngineClassifier.load(bundle, choice);
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

  /**
   * A classifier bundle that gives input gradients (guidance, counterfactuals), opened with the registry's device,
   * batch and trust handling.
   *
   * @throws UserException naming the gradient-free methods when the engine has no gradients
   */
  public static LoadedModel<DifferentiableClassifier> differentiableClassifier(String key, DeviceChoice device,
      int batch, boolean trust, Progress progress) {
    LoadedModel<Classifier> m = classifier(key, device, batch, trust, progress);
    Classifier c = m.get();
    if (!(c instanceof DifferentiableClassifier)) {
      m.close();
      throw noGradients(classifierBundle(key));
    }
    return LoadedModel.of((DifferentiableClassifier) c, m.name(), m.provenance()).withClassNames(m.classNames())
        .withIntensity(m.intensity());
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
