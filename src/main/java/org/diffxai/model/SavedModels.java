package org.diffxai.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.tensorflow.engine.TfSymbolBlock;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.diffxai.io.AtomicFiles;
import org.diffxai.core.UserException;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Loading a bundle's SavedModel and checking its signatures against a bundle contract: what {@link DjlDenoiser} and
 * {@link DjlClassifier} share. Every SavedModel the plugin opens goes through {@link #load} (DJL; call inside
 * {@link TensorFlowRuntime#withPluginClassLoader}) or {@link #loadTensorFlow} (TensorFlow Java), which first parse and
 * check its graph ({@link ModelTrust}) and its variables, and load paths with glob characters through a link.
 */
public final class SavedModels {
  private SavedModels() {}

  /** A loaded model with what its checks found. */
  static final class Loaded {
    final ZooModel<NDList, NDList> model;
    final SavedModelGraph graph;
    final ModelTrust trust;

    Loaded(ZooModel<NDList, NDList> model, SavedModelGraph graph, ModelTrust trust) {
      this.model = model;
      this.graph = graph;
      this.trust = trust;
    }
  }

  /**
   * Checks the SavedModel in {@code dir} ({@link #check}) and loads it through DJL (tag {@code serve}; DJL's block
   * runs {@code serving_default}) on the device.
   *
   * @param doc the document describing the contract, for messages
   * @param trust the caller's explicit trust ({@link ModelTrust})
   */
  static Loaded load(Path dir, String modelName, Device device, String doc, boolean trust) {
    SavedModelGraph graph = SavedModelGraph.read(dir, modelName, doc);
    ModelTrust t = check(graph, dir, modelName, trust);
    Criteria.Builder<NDList, NDList> b = Criteria.builder().setTypes(NDList.class, NDList.class)
        // the model file itself: TfModel then loads this very directory (never a sub-directory named like it)
        .optModelName(DenoiserBundle.SAVED_MODEL)
        .optEngine(TensorFlowRuntime.ENGINE)
        .optDevice(device)
        .optOption("Tags", "serve")
        .optOption("SignatureDefKey", "serving_default");
    String config = TensorFlowRuntime.sessionConfigOption(device);
    if (config != null) b.optOption("ConfigProto", config);
    try {
      ZooModel<NDList, NDList> model = withGlobFreePath(dir, p -> b.optModelPath(p).build().loadModel());
      return new Loaded(model, graph, t);
    } catch (UserException e) {
      throw e;
    } catch (Exception e) {
      // TensorFlow's own errors (e.g. a damaged saved_model.pb) come as EngineException or other runtime exceptions
      throw new UserException("TensorFlow could not load the model in " + dir + ": " + firstLine(deepestMessage(e))
          + ". The bundle must hold a TensorFlow 2 SavedModel with tag 'serve'; see " + doc + ".", e);
    }
  }

  /**
   * Checks the SavedModel in {@code dir}, then loads it with TensorFlow Java (tag {@code serve}) for callers that run
   * its session themselves (e.g. reading trained weights). The caller closes the result.
   *
   * @param trust the caller's explicit trust ({@link ModelTrust})
   * @throws UserException when the graph is refused, variables are missing or TensorFlow cannot load it
   */
  public static SavedModelBundle loadTensorFlow(Path dir, String modelName, boolean trust) {
    SavedModelGraph graph = SavedModelGraph.read(dir, modelName, "docs/security.md");
    check(graph, dir, modelName, trust);
    TensorFlowRuntime.ensureLoaded();
    try {
      return withGlobFreePath(dir, p -> SavedModelBundle.load(p.toString(), SavedModelGraph.SERVE));
    } catch (UserException e) {
      throw e;
    } catch (Exception e) {
      throw new UserException("TensorFlow could not load the model in " + dir + ": " + firstLine(deepestMessage(e))
          + ". Restore the original bundle.", e);
    }
  }

  /**
   * What must hold before TensorFlow sees a SavedModel: only allowed ops (unless trusted), and the variables the
   * graph restores are present.
   */
  private static ModelTrust check(SavedModelGraph graph, Path dir, String modelName, boolean trust) {
    ModelTrust t = ModelTrust.check(graph, dir, modelName, trust);
    List<String> vars = graph.variables();
    if (!vars.isEmpty() && graph.restoresVariables()
        && !Files.isRegularFile(dir.resolve("variables").resolve("variables.index"))) {
      String some = String.join(", ", vars.subList(0, Math.min(5, vars.size())))
          + (vars.size() > 5 ? " and " + (vars.size() - 5) + " more" : "");
      throw new UserException("Model " + modelName + " (" + dir + ") needs " + plural(vars.size(), "variable") + " ("
          + some + "), but its bundle has no variables/variables.index, so all of them are missing. Copy the "
          + "complete bundle, including its variables/ folder.");
    }
    return t;
  }

  /** Something that loads a model from a directory. */
  interface DirLoader<T> {
    T load(Path dir) throws Exception;
  }

  /**
   * Runs {@code loader} on {@code dir}, or, when the path holds a character TensorFlow reads as a glob ({@code [ ] * ?
   * \}: it matches the variables prefix as a file pattern), on a symbolic link to it (a copy where links are not
   * allowed) in a private temporary directory, removed when the loader returns. TensorFlow reads the variables and
   * assets while loading, so the loaded model no longer needs the path.
   */
  static <T> T withGlobFreePath(Path dir, DirLoader<T> loader) throws Exception {
    if (!hasGlobCharacter(dir.toString())) return loader.load(dir);
    Path tmp = Files.createTempDirectory("diffxai-model-");
    if (hasGlobCharacter(tmp.toString())) {
      AtomicFiles.deleteRecursively(tmp);
      throw new UserException("The model path " + dir + " contains one of [ ] * ? \\, which TensorFlow reads as a "
          + "file pattern, and so does the temporary directory " + tmp + " it would be linked from. Rename the "
          + "model's folder, or set -Djava.io.tmpdir to a folder without these characters.");
    }
    Path link = tmp.resolve("bundle");
    try {
      try {
        Files.createSymbolicLink(link, dir);
      } catch (IOException | UnsupportedOperationException | SecurityException noLinks) {
        copyTree(dir, link);
      }
      return loader.load(link);
    } finally {
      if (Files.isSymbolicLink(link)) Files.delete(link);
      AtomicFiles.deleteRecursively(tmp);
    }
  }

  static boolean hasGlobCharacter(String path) {
    for (char c : new char[] {'[', ']', '*', '?', '\\'}) {
      if (path.indexOf(c) >= 0) return true;
    }
    return false;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (java.util.stream.Stream<Path> st = Files.walk(from)) {
      for (Path p : (Iterable<Path>) st::iterator) {
        Path q = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(q);
        else Files.copy(p, q);
      }
    }
  }

  /** The model's signatures by key. */
  static Map<String, SignatureDef> signatures(ZooModel<NDList, NDList> model) {
    return ((TfSymbolBlock) model.getBlock()).getSavedModelBundle().getMetaGraphDef().getSignatureDefMap();
  }

  /**
   * The {@code serving_default} signature.
   *
   * @param role what the signature must compute, for the message, e.g. "its denoiser"
   */
  static SignatureDef servingDefault(ZooModel<NDList, NDList> model, String modelName, String role, String doc) {
    Map<String, SignatureDef> sigs = signatures(model);
    SignatureDef sig = sigs.get("serving_default");
    if (sig == null) {
      throw new UserException("Model " + modelName + " has no 'serving_default' signature (it has: "
          + String.join(", ", new TreeSet<>(sigs.keySet())) + "). Export the model with " + role + " as the "
          + "serving_default signature; see " + doc + ".");
    }
    return sig;
  }

  /**
   * Runs a block on named inputs inside a sub-manager scope of {@code m}.
   *
   * @throws UserException when TensorFlow fails (e.g. out of memory)
   */
  static NDList run(TfSymbolBlock block, NDManager m, NDList in, String modelName, int n) {
    try {
      return block.forward(new ParameterStore(m, false), in, false);
    } catch (RuntimeException e) {
      throw runFailure(modelName, n, e);
    }
  }

  /** The message for a failed call: memory is named only when memory ran out ({@link #outOfMemory}). */
  static UserException runFailure(String modelName, int n, RuntimeException e) {
    return new UserException("TensorFlow failed while running model " + modelName + " on a batch of " + n + ": "
        + firstLine(deepestMessage(e)) + (outOfMemory(e) ? ". Memory ran out: use a smaller batch or device=cpu."
            : ". Check that the model meets its bundle contract (docs/bundles.md, docs/classifiers.md)."), e);
  }

  /** True when TensorFlow ran out of memory: a ResourceExhausted status or an OOM message anywhere in the chain. */
  static boolean outOfMemory(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      String m = c.getMessage() == null ? "" : c.getMessage();
      if (c instanceof OutOfMemoryError || c.getClass().getSimpleName().contains("ResourceExhausted")
          || m.contains("OOM when allocating") || m.contains("ResourceExhausted") || m.contains("Resource exhausted")
          || m.contains("RESOURCE_EXHAUSTED")) {
        return true;
      }
    }
    return false;
  }

  /** Frees a loaded model (with the plugin's class loader, as DJL needs). */
  static void close(ZooModel<NDList, NDList> model) {
    TensorFlowRuntime.withPluginClassLoader(() -> {
      model.close();
      return null;
    });
  }

  /** Run-record entries {@code device}, {@code engine} and the runtime versions. */
  static Map<String, String> runtimeProvenance(Device device) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("device", device.isGpu() ? "gpu" + device.getDeviceId() : "cpu");
    m.put("engine", "DJL TensorFlow");
    m.putAll(TensorFlowRuntime.versions());
    return m;
  }

  static NDArray named(NDArray a, String name) {
    a.setName(name);
    return a;
  }

  static String deepestMessage(Throwable e) {
    String msg = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      if (c.getMessage() != null) msg = c.getMessage();
    }
    return msg;
  }

  static String firstLine(String s) {
    if (s == null) return "unknown error";
    s = s.trim();
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl).trim();
  }

  /** Checks a tensor's dtype; {@code name} is "x" for an input, "output 'logits'" for an output. */
  static void dtype(TensorInfo ti, String name, org.tensorflow.proto.DataType want, String wantText, String model,
      String doc) {
    if (ti.getDtype() != want) {
      throw new UserException(model + ": " + (name.startsWith("output") ? "" : "input ") + name + " has type "
          + ti.getDtype().name().replace("DT_", "").toLowerCase(Locale.ROOT) + " but the bundle contract "
          + "needs " + wantText + ". Re-export the model; see " + doc + ".");
    }
  }

  /** Static dims (-1 for unknown), or null when the rank is unknown; a known rank other than {@code rank} fails. */
  static long[] dims(TensorInfo ti, int rank, String name, String want, String model, String doc) {
    TensorShapeProto sp = ti.getTensorShape();
    if (!ti.hasTensorShape() || sp.getUnknownRank()) return null;
    long[] d = new long[sp.getDimCount()];
    for (int i = 0; i < d.length; i++) d[i] = sp.getDim(i).getSize();
    if (d.length != rank) {
      throw new UserException(model + ": " + (name.startsWith("output") ? "" : "input ") + name + " has shape "
          + shapeText(d) + " but the bundle contract needs " + want + ". Re-export the model; see " + doc + ".");
    }
    return d;
  }

  static String shapeText(long[] d) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < d.length; i++) {
      if (i > 0) sb.append(',');
      sb.append(d[i] < 0 ? "?" : Long.toString(d[i]));
    }
    return sb.append(']').toString();
  }

  static String plural(long n, String word) {
    return n + " " + word + (n == 1 ? "" : "s");
  }
}
