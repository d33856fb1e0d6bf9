package org.diffxai.model;

import java.nio.file.Path;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;

/**
 * The one registry through which every use case opens a model: a bundled sample ({@code sample}, {@code sample-<x>})
 * or a bundle directory, checked, loaded on the device, and returned as a {@link LoadedModel} the caller closes.
 * While the runtime loads for the first time (seconds) the progress says so. Every SavedModel's graph is checked
 * against the allow-list of pure compute operations before it loads, unless {@code trust} (docs/security.md).
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
    DenoiserBundle b = DenoiserBundle.open(key);
    SchedulerConfig config = SchedulerConfig.fromJson(b.schedulerConfigJson());
    starting(progress, b.name());
    DjlDenoiser d = DjlDenoiser.load(b, device, shape, trust);
    return LoadedModel.<Denoiser>of(d, b.name(), d.provenance()).withClassNames(b.classNames())
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
    ClassifierBundle b = ClassifierBundle.open(key);
    starting(progress, b.name());
    DjlClassifier c = ClassifierModels.load(b, device, trust).batchSize(batch);
    return LoadedModel.<Classifier>of(c, b.name(), c.provenance()).withClassNames(c.classNames())
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
      return LoadedModel.<PrototypeClassifier>of(c, b.name(), c.provenance()).withClassNames(c.classNames())
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
}
