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
