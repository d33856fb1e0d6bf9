package org.diffxai.model;

import ai.djl.Device;
import ai.djl.tensorflow.engine.TfSymbolBlock;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.core.UserException;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * A {@link PrototypeClassifier} from a bundle with prototypes.json: {@code serving_default} for logits, the
 * {@code prototypes} signature for scores, similarity maps and minimum distances, the {@code features} signature for
 * the latent patches (docs/classifiers.md). The last layer, the prototype vectors and their provenance come from
 * prototypes.json, whose sizes are checked against the signatures when loading.
 */
public final class DjlPrototypeClassifier extends DjlClassifier implements PrototypeClassifier {
  /** Signature keys and output names of the bundle contract. */
  static final String PROTOTYPES = "prototypes";
  static final String FEATURES = "features";

  private final PrototypeManifest manifest;
  private final TfSymbolBlock prototypesBlock;
  private final TfSymbolBlock featuresBlock;

  DjlPrototypeClassifier(ClassifierBundle bundle, Device device, SavedModels.Loaded loaded) {
    super(bundle, device, loaded);
    manifest = bundle.manifest();
    prototypesBlock = signatureBlock(PROTOTYPES);
    featuresBlock = signatureBlock(FEATURES);
    int p = manifest.prototypes();
    String m = "Model " + bundle.name();
    SignatureDef ps = signatures().get(PROTOTYPES);
    check(ps, PROTOTYPES, "scores", new long[] {-1, p}, m);
    check(ps, PROTOTYPES, "min_distances", new long[] {-1, p}, m);
    check(ps, PROTOTYPES, "similarity", new long[] {-1, manifest.latentHeight, manifest.latentWidth, p}, m);
    check(signatures().get(FEATURES), FEATURES, FEATURES, new long[] {-1, manifest.latentHeight, manifest.latentWidth,
        manifest.depth}, m);
    if (manifest.lastLayer.length != classNames().size()) {
      throw new UserException(m + " has " + classNames().size() + " logits but prototypes.json has a last layer for "
          + manifest.lastLayer.length + " classes. Restore the original bundle.");
    }
  }

  private static void check(SignatureDef sig, String key, String output, long[] want, String model) {
    TensorInfo ti = sig.getOutputsMap().get(output);
    if (ti == null) {
      throw new UserException(model + ": signature '" + key + "' lacks output '" + output + "'. "
          + "Re-export it with Train Prototype Network; see " + DOC + ".");
    }
    SavedModels.dtype(ti, "output '" + output + "'", org.tensorflow.proto.DataType.DT_FLOAT, "float32", model, DOC);
    long[] d = SavedModels.dims(ti, want.length, "output '" + output + "'", SavedModels.shapeText(want), model, DOC);
    for (int i = 1; d != null && i < want.length; i++) {
      if (d[i] > 0 && d[i] != want[i]) {
        throw new UserException(model + ": output '" + output + "' has shape " + SavedModels.shapeText(d) + " but "
            + "prototypes.json describes " + SavedModels.shapeText(want) + ". Restore the original bundle.");
      }
    }
  }

  @Override
  public String method() {
    return manifest.method;
  }

  @Override
  public int prototypes() {
    return manifest.prototypes();
  }

  @Override
  public int mapHeight() {
    return manifest.latentHeight;
  }

  @Override
  public int mapWidth() {
    return manifest.latentWidth;
  }

  @Override
  public int featureDepth() {
    return manifest.depth;
  }

  @Override
  public float[][] lastLayer() {
    float[][] c = new float[manifest.lastLayer.length][];
    for (int i = 0; i < c.length; i++) c[i] = manifest.lastLayer[i].clone();
    return c;
  }

  @Override
  public float[][] prototypeVectors() {
    float[][] c = new float[manifest.vectors.length][];
    for (int i = 0; i < c.length; i++) c[i] = manifest.vectors[i].clone();
    return c;
  }

  @Override
  public PrototypeInfo prototype(int p) {
    return manifest.infos.get(p);
  }

  @Override
  public PrototypeActivations activations(float[] x, int n) {
    int k = classNames().size();
    int p = prototypes();
    int map = mapHeight() * mapWidth() * p;
    float[][] logits = new float[n][k];
    float[][] scores = new float[n][p];
    float[][] sim = new float[n][map];
    float[][] minD = new float[n][p];
    forEachBatch(x, n, (from, m, o) -> {
      split(o.get(LOGITS).toFloatArray(), logits, from, m);
      split(o.get("scores").toFloatArray(), scores, from, m);
      split(o.get("similarity").toFloatArray(), sim, from, m);
      split(o.get("min_distances").toFloatArray(), minD, from, m);
    }, prototypesBlock);
    return new PrototypeActivations(logits, scores, sim, minD, confidence(), x);
  }

  @Override
  public float[][] features(float[] x, int n) {
    float[][] out = new float[n][mapHeight() * mapWidth() * featureDepth()];
    forEachBatch(x, n, (from, m, o) -> split(o.get(FEATURES).toFloatArray(), out, from, m), featuresBlock);
    return out;
  }

  private static void split(float[] flat, float[][] out, int from, int m) {
    int len = out[0].length;
    for (int i = 0; i < m; i++) System.arraycopy(flat, i * len, out[from + i], 0, len);
  }
}
