package org.diffxai.model;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.ZooModel;
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
    return load(bundle, TensorFlowRuntime.DeviceChoice.parse(device));
  }

  /** {@link #load(ClassifierBundle, String)} for a parsed device choice. */
  public static DjlClassifier load(ClassifierBundle bundle, TensorFlowRuntime.DeviceChoice device) {
    final Device d = TensorFlowRuntime.device(device);
    return TensorFlowRuntime.withPluginClassLoader(() -> {
      ZooModel<NDList, NDList> model = SavedModels.load(bundle.dir(), d, DjlClassifier.DOC);
      try {
        return bundle.isPrototypeNetwork() ? new DjlPrototypeClassifier(bundle, d, model)
            : new DjlClassifier(bundle, d, model);
      } catch (RuntimeException e) {
        model.close();
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
    if (!bundle.isPrototypeNetwork()) {
      throw new UserException("Model " + bundle.name() + " is not a prototype network: its bundle has no "
          + ClassifierBundle.PROTOTYPES_JSON + ". Give a bundle made by Train Prototype Network, e.g. "
          + "model=sample-ppnet.");
    }
    return (DjlPrototypeClassifier) load(bundle, device);
  }
}
