package org.diffxai.run;

import java.util.Map;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.UserException;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;

/**
 * The two models of the guided commands (Synthesize Explanation, Counterfactual, Optimise Conditioning): opened, closed
 * and recorded alike.
 */
final class GuidedModels {
  private GuidedModels() {}

  /** What runs with both models open. */
  interface Body<T> {
    T run(LoadedModel<Denoiser> denoiser, LoadedModel<DifferentiableClassifier> classifier);
  }

  /**
   * Opens the classifier {@code model} (it must give input gradients) and the denoiser, runs {@code body}, closes both.
   *
   * @throws UserException when no model is given or it gives no gradients
   */
  static <T> T open(String model, String denoiser, ModelKeys keys, int batch, Env env, Body<T> body) {
    try (LoadedModel<DifferentiableClassifier> c = classifier(model, keys, batch, env);
        LoadedModel<Denoiser> d = Models.denoiser(denoiser, keys.deviceChoice(), null, keys.trust, env.progress)) {
      return body.run(d, c);
    }
  }

  /**
   * Opens the classifier {@code model}; the caller closes it.
   *
   * @throws UserException when no model is given or it gives no gradients
   */
  static LoadedModel<DifferentiableClassifier> classifier(String model, ModelKeys keys, int batch, Env env) {
    if (model == null || model.trim().isEmpty()) {
      throw new UserException("Give the classifier to explain: model=<classifier bundle folder>. It must give input"
          + " gradients (a TensorFlow or TorchScript bundle, e.g. model=sample-ppnet).");
    }
    return Models.differentiableClassifier(model, keys.deviceChoice(), batch, keys.trust, env.progress);
  }

  /**
   * The classifier as one that gives input gradients.
   *
   * @param instead what the user can do instead, e.g. "Leave counterfactual out of methods="
   * @throws UserException when it gives none
   */
  static DifferentiableClassifier differentiable(Classifier c, String name, String instead) {
    if (c instanceof DifferentiableClassifier) return (DifferentiableClassifier) c;
    throw new UserException("Model " + name + " gives no input gradients, so no diffusion guidance can use it. "
        + instead + ", or use a TensorFlow or TorchScript bundle.");
  }

  /** The description of the {@code check} key of the guided commands. */
  static final String CHECK_DESCRIPTION = "A second classifier that did not guide (any classifier bundle; no gradients"
      + " needed) scores the results, so a change that only convinces the guiding model shows; empty = none";

  /**
   * Opens the check model {@code key} (any classifier bundle: it only scores), or returns null for an empty key; the
   * caller closes it.
   *
   * @throws UserException when it takes another image size than the denoiser makes or has other classes than the
   *     guiding classifier
   */
  static LoadedModel<Classifier> check(String key, ModelKeys keys, int batch, Env env, LoadedModel<Denoiser> d,
      LoadedModel<DifferentiableClassifier> c) {
    if (key == null || key.trim().isEmpty()) return null;
    LoadedModel<Classifier> m = Models.classifier(key.trim(), keys.deviceChoice(), batch, keys.trust, env.progress);
    Classifier k = m.get();
    Denoiser den = d.get();
    String problem = !k.classNames().equals(c.classNames()) ? "has the classes " + k.classNames() + " but "
        + c.name() + " has " + c.classNames() + ". Use a check model trained on the same classes."
        : k.width() != den.width() || k.height() != den.height() || k.channels() != den.channels() ? "takes "
            + k.width() + "x" + k.height() + "x" + k.channels() + " images but the denoiser makes " + den.width() + "x"
            + den.height() + "x" + den.channels() + ". Use a check model of the denoiser's image size." : null;
    if (problem != null) {
      m.close();
      throw new UserException("The check model " + m.name() + " " + problem);
    }
    return m;
  }

  /** Adds the check model's facts to the run record, prefixed "check." (nothing without a check model). */
  static void checkProvenance(Map<String, String> prov, LoadedModel<Classifier> check) {
    if (check == null) return;
    prov.put("check", "a second classifier that did not guide scores every result: the columns starting check_ give"
        + " its probability of the target class and whether it calls the result the target class");
    check.provenance().forEach((k, v) -> prov.put("check." + k, v));
  }

  /** The run record's start: the request, the classifier's facts, the denoiser's facts prefixed "denoiser.". */
  static Map<String, String> provenance(String command, Object request, LoadedModel<Denoiser> d,
      LoadedModel<DifferentiableClassifier> c) {
    Map<String, String> prov = Provenance.of(command, request);
    prov.putAll(c.provenance());
    d.provenance().forEach((k, v) -> prov.put("denoiser." + k, v));
    return prov;
  }

  /**
   * The column of class {@code className}'s probability: {@code p_<class>_calibrated} (softmax(logits / T) with the
   * bundle's temperature, docs/confidence.md) or {@code p_<class>_uncalibrated} (softmax of the logits) for a classifier
   * without a temperature.
   */
  static String probabilityColumn(Classifier c, String className) {
    return "p_" + className + (calibrated(c) ? "_calibrated" : "_uncalibrated");
  }

  /** What the probabilities shown are, for the run record. */
  static String probabilityNote(Classifier c) {
    return calibrated(c) ? "calibrated: softmax(logits / T), T = " + c.confidence().temperature()
        + " (docs/confidence.md)" : "uncalibrated: softmax(logits); the model has no calibration temperature";
  }

  private static boolean calibrated(Classifier c) {
    return c.confidence().temperature() != 1;
  }
}
