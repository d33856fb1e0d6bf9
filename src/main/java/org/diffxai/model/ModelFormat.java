package org.diffxai.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.diffxai.core.UserException;

/**
 * The kinds of model a bundle may hold, each in one file or directory at the bundle's top level and run by one DJL
 * engine. A bundle holds exactly one of them: {@link #detect} chooses the engine from the bundle's files.
 */
public enum ModelFormat {
  /** {@code saved_model.pb} + {@code variables/}: DJL's TensorFlow engine (docs/bundles.md). */
  TENSORFLOW("saved_model.pb", "TensorFlow", "TensorFlow SavedModel", "tensorflow_saved_model_bundle",
      TensorLayout.NHWC),
  /** {@code model.onnx}: DJL's OnnxRuntime engine (docs/bring-your-model.md). */
  ONNX("model.onnx", "OnnxRuntime", "ONNX model", "onnx", TensorLayout.NCHW),
  /** {@code model.pt}: a TorchScript archive ({@code torch.jit.save}), DJL's PyTorch engine. */
  TORCHSCRIPT("model.pt", "PyTorch", "TorchScript model", "torchscript", TensorLayout.NCHW);

  private final String file;
  private final String engine;
  private final String title;
  private final String bioimageio;
  private final TensorLayout defaultLayout;

  ModelFormat(String file, String engine, String title, String bioimageio, TensorLayout defaultLayout) {
    this.file = file;
    this.engine = engine;
    this.title = title;
    this.bioimageio = bioimageio;
    this.defaultLayout = defaultLayout;
  }

  /** The model file at the bundle's top level, e.g. {@code model.onnx}. */
  public String fileName() {
    return file;
  }

  /** DJL's engine name, e.g. {@code OnnxRuntime}. */
  public String engineName() {
    return engine;
  }

  /** What users call it, e.g. "ONNX model". */
  public String title() {
    return title;
  }

  /** The key of this format under {@code weights} in a bioimage.io model description. */
  public String bioimageioKey() {
    return bioimageio;
  }

  /**
   * The layout of image inputs when model.json declares none: NHWC for TensorFlow, NCHW for ONNX and TorchScript
   * (what PyTorch exports).
   */
  public TensorLayout defaultLayout() {
    return defaultLayout;
  }

  /** Lower-case name, e.g. {@code onnx}, as run records write it. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** True for a bundle-relative path that is one of the model files (or inside a SavedModel's directories). */
  static boolean isModelFile(String rel) {
    for (ModelFormat f : values()) {
      if (rel.equals(f.file)) return true;
    }
    return rel.startsWith("variables/") || rel.startsWith("assets/");
  }

  /** The formats whose model file is present in {@code dir}. */
  static List<ModelFormat> present(Path dir) {
    List<ModelFormat> out = new ArrayList<>();
    for (ModelFormat f : values()) {
      if (Files.isRegularFile(dir.resolve(f.file))) out.add(f);
    }
    return out;
  }

  /**
   * The format of the model in a bundle directory.
   *
   * @throws UserException when the directory holds none of the model files, or more than one (naming them)
   */
  public static ModelFormat detect(Path dir) {
    List<ModelFormat> found = present(dir);
    if (found.size() == 1) return found.get(0);
    if (found.isEmpty()) {
      throw new UserException("Model directory " + dir + " holds no model: none of saved_model.pb (TensorFlow), "
          + "model.onnx (ONNX) or model.pt (TorchScript). Put exactly one of them in the bundle; see "
          + "docs/bring-your-model.md.");
    }
    List<String> names = new ArrayList<>();
    for (ModelFormat f : found) names.add(f.file + " (" + f.title + ")");
    throw new UserException("Model directory " + dir + " holds " + found.size() + " models: "
        + String.join(" and ", names) + ". A bundle holds exactly one model, so the engine to run is unambiguous: "
        + "keep one of these files and move the other into a bundle of its own.");
  }
}
