package org.diffxai.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.UserException;

/**
 * The trust boundary for models (docs/security.md): before TensorFlow loads a SavedModel, its graph is checked against
 * an allow-list of pure compute ops ({@link AllowedOps}, applied by {@link SavedModelGraph}); a model with any other op
 * is refused with one message naming the bundle and the ops, unless the user trusts it.
 *
 * <p>Trust is given per call ({@code trust = true} on {@link DjlDenoiser#load}, {@link ClassifierModels#load} and the
 * other open/load methods, i.e. the commands' {@code trust} key) or for the whole process by the environment variable
 * {@value #ENV}{@code =1} or the system property {@code -D}{@value #PROPERTY}{@code =true}. A trusted model is still
 * checked: the ops found are recorded in provenance ({@link #provenance()}).
 */
public final class ModelTrust {
  /** Environment variable that trusts every model of the process: {@code 1}, {@code true} or {@code yes}. */
  public static final String ENV = "DIFFXAI_TRUST_MODELS";
  /** System property with the same meaning as {@link #ENV}. */
  public static final String PROPERTY = "diffxai.trust.models";

  private final String trustSource; // null: not trusted
  private final List<String> disallowed;
  private final int nodes;
  private final int functions;

  private ModelTrust(String trustSource, List<String> disallowed, int nodes, int functions) {
    this.trustSource = trustSource;
    this.disallowed = Collections.unmodifiableList(disallowed);
    this.nodes = nodes;
    this.functions = functions;
  }

  /** True when {@value #ENV} or {@value #PROPERTY} trusts every model. */
  public static boolean fromEnvironment() {
    return environmentSource() != null;
  }

  private static String environmentSource() {
    if (yes(System.getProperty(PROPERTY))) return "-D" + PROPERTY + "=" + System.getProperty(PROPERTY).trim();
    if (yes(System.getenv(ENV))) return ENV + "=" + System.getenv(ENV).trim();
    return null;
  }

  private static boolean yes(String v) {
    if (v == null) return false;
    String s = v.trim().toLowerCase(Locale.ROOT);
    return s.equals("1") || s.equals("true") || s.equals("yes");
  }

  /**
   * Checks a parsed graph.
   *
   * @param trust the caller's explicit trust (the {@code trust} key); the environment may trust too
   * @throws UserException naming the bundle and every disallowed op type, unless trusted
   */
  static ModelTrust check(SavedModelGraph g, Path dir, String modelName, boolean trust) {
    List<SavedModelGraph.Finding> found = g.disallowedOps();
    String source = trust ? "trust=true" : environmentSource();
    if (!found.isEmpty() && source == null) {
      StringBuilder ops = new StringBuilder();
      for (SavedModelGraph.Finding f : found) ops.append(ops.length() == 0 ? "" : ", ").append(f);
      throw new UserException("Model " + modelName + " (" + dir + ") contains TensorFlow operations outside the "
          + "allow-list of pure compute operations: " + ops + ". Such operations can read or write files, print, or "
          + "reach beyond the model when it runs, so the model is not loaded; see docs/security.md. If you know "
          + "where this model comes from and trust it, run with trust=true (or set " + ENV + "=1).");
    }
    List<String> ops = new ArrayList<>();
    for (SavedModelGraph.Finding f : found) ops.add(f.op);
    return new ModelTrust(source, ops, g.nodesChecked, g.functionsChecked);
  }

  /**
   * The ops outside the allow-list in the SavedModel in {@code dir}, each with where it was first seen (e.g.
   * {@code WriteFile (node 'w' in the graph)}); empty when the model passes. Loads no TensorFlow.
   *
   * @throws UserException when saved_model.pb cannot be read as a SavedModel
   */
  public static List<String> scan(Path dir) {
    List<String> out = new ArrayList<>();
    for (SavedModelGraph.Finding f : SavedModelGraph.read(dir, BundleDirs.dirName(dir), "docs/security.md")
        .disallowedOps()) {
      out.add(f.toString());
    }
    return out;
  }

  /** True when the model has disallowed ops and runs only because it was trusted. */
  public boolean bypassed() {
    return !disallowed.isEmpty();
  }

  /** The disallowed op types found (empty when the graph passed), sorted. */
  public List<String> disallowedOps() {
    return disallowed;
  }

  /**
   * Run-record entries: {@code model.trust} ({@code no}, or {@code yes (trust=true)} / {@code yes (DIFFXAI_TRUST_
   * MODELS=1)}) and {@code model.graph_check} ({@code passed: ...} or {@code bypassed by trust: found ...}).
   */
  public Map<String, String> provenance() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("model.trust", trustSource == null ? "no" : "yes (" + trustSource + ")");
    m.put("model.graph_check", disallowed.isEmpty()
        ? "passed: " + nodes + " graph nodes and " + functions + " functions use only allowed operations"
        : "bypassed by trust: found operations outside the allow-list: " + String.join(", ", disallowed));
    return m;
  }
}
