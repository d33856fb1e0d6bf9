package org.diffxai.model;

import ai.djl.Device;
import org.diffxai.core.Classifier;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.UserException;

/** Loads classifier bundles (docs/classifiers.md) through DJL's TensorFlow engine. */
public final class ClassifierModels {
  private ClassifierModels() {}

  /**
   * Loads a bundle on a device ({@code auto}, {@code cpu}, {@code gpu}): a {@link PrototypeClassifier} when the bundle
   * has prototypes.json, else a plain {@link Classifier}. The result is a {@link DjlClassifier}.
   *
   * @throws UserException when TensorFlow cannot load the model, the device is unavailable or a signature breaks the
   *     contract
   */
  public static DjlClassifier load(ClassifierBundle bundle, String device) {
    return load(bundle, TensorFlowRuntime.DeviceChoice.parse(device), false);
  }

  /** {@link #load(ClassifierBundle, TensorFlowRuntime.DeviceChoice, boolean)} with the device as typed. */
  public static DjlClassifier load(ClassifierBundle bundle, String device, boolean trust) {
    return load(bundle, TensorFlowRuntime.DeviceChoice.parse(device), trust);
  }

  /**
   * Loads the bundle on a parsed device, trusting the model when {@code trust}.
   *
   * @param trust run the model even if its graph holds ops outside the allow-list ({@link ModelTrust}); the
   *     environment setting {@value ModelTrust#ENV}=1 trusts too. Provenance records it.
   * @throws UserException also when the graph holds disallowed ops and the model is not trusted
   */
  public static DjlClassifier load(ClassifierBundle bundle, TensorFlowRuntime.DeviceChoice device, boolean trust) {
    final Device d = TensorFlowRuntime.device(device);
    return TensorFlowRuntime.withPluginClassLoader(() -> {
      SavedModels.Loaded loaded = SavedModels.load(bundle.dir(), bundle.name(), d, DjlClassifier.DOC, trust);
      try {
        return bundle.isPrototypeNetwork() ? new DjlPrototypeClassifier(bundle, d, loaded)
            : new DjlClassifier(bundle, d, loaded);
      } catch (RuntimeException e) {
        loaded.model.close();
        throw e;
      }
    });
  }

  /**
   * Loads a prototype network.
   *
   * @throws UserException naming the model when the bundle is not a prototype network
   */
  public static DjlPrototypeClassifier loadPrototypes(ClassifierBundle bundle, String device) {
    return loadPrototypes(bundle, device, false);
  }

  /** {@link #loadPrototypes(ClassifierBundle, String)}, trusting the model when {@code trust} ({@link ModelTrust}). */
  public static DjlPrototypeClassifier loadPrototypes(ClassifierBundle bundle, String device, boolean trust) {
    if (!bundle.isPrototypeNetwork()) {
      throw new UserException("Model " + bundle.name() + " is not a prototype network: its bundle has no "
          + ClassifierBundle.PROTOTYPES_JSON + ". Give a bundle made by Train Prototype Network, e.g. "
          + "model=sample-ppnet.");
    }
    return (DjlPrototypeClassifier) load(bundle, device, trust);
  }
}
