package org.diffxai.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.core.UserException;

/**
 * A parsed {@code prototypes.json} (docs/classifiers.md): the method, the latent grid, the last layer, the pushed
 * prototype vectors and their provenance. Parsing checks that the sizes agree with each other.
 */
final class PrototypeManifest {
  /** The methods of the bundle contract, as the trainer writes them. */
  static final List<String> METHODS = Collections.unmodifiableList(java.util.Arrays.asList("PPNet", "EPPNet",
      "ProtoPool"));

  final String method;
  final int latentHeight;
  final int latentWidth;
  final int depth;
  final List<String> classNames;
  final float[][] lastLayer;
  final float[][] vectors;
  final List<PrototypeInfo> infos;
  final double trainingAccuracy;
  final double validationAccuracy;
  /** {@code ood.nearest_threshold} and {@code ood.coverage_threshold} (docs/confidence.md), NaN when absent. */
  final double nearestThreshold;
  final double coverageThreshold;
  /** {@code ood.range_threshold}: the largest share of out-of-range pixels; NaN when absent. */
  final double rangeThreshold;

  private PrototypeManifest(String method, int[] latent, List<String> classNames, float[][] lastLayer,
      float[][] vectors, List<PrototypeInfo> infos, double trainingAccuracy, double validationAccuracy,
      double[] thresholds) {
    this.method = method;
    this.latentHeight = latent[0];
    this.latentWidth = latent[1];
    this.depth = latent[2];
    this.classNames = classNames;
    this.lastLayer = lastLayer;
    this.vectors = vectors;
    this.infos = infos;
    this.trainingAccuracy = trainingAccuracy;
    this.validationAccuracy = validationAccuracy;
    this.nearestThreshold = thresholds[0];
    this.coverageThreshold = thresholds[1];
    this.rangeThreshold = thresholds[2];
  }

  int prototypes() {
    return vectors.length;
  }

  static PrototypeManifest parse(String text, Path file) {
    JsonObject o;
    try {
      o = JsonParser.parseString(text).getAsJsonObject();
    } catch (RuntimeException e) {
      throw bad(file, "is not a valid JSON object (" + e.getMessage() + ")");
    }
    try {
      String format = o.has("format") ? o.get("format").getAsString() : null;
      if (format != null && !format.equals(ClassifierBundle.PROTOTYPES_FORMAT)) {
        throw new UserException(file + " has format \"" + format + "\", but this version of the plugin reads \""
            + ClassifierBundle.PROTOTYPES_FORMAT + "\". Update the plugin.");
      }
      String method = o.get("method").getAsString();
      if (!METHODS.contains(method)) {
        throw bad(file, "has \"method\": \"" + method + "\"; it must be one of " + String.join(", ", METHODS));
      }
      int[] latent = ints(o.getAsJsonArray("latent"));
      if (latent.length != 3 || latent[0] < 1 || latent[1] < 1 || latent[2] < 1) {
        throw bad(file, "has \"latent\": " + o.get("latent") + "; it must be [h, w, D] with positive entries");
      }
      List<String> names = new ArrayList<>();
      for (JsonElement e : o.getAsJsonArray("class_names")) names.add(e.getAsString());
      float[][] last = matrix(o.getAsJsonArray("last_layer"));
      JsonArray ps = o.getAsJsonArray("prototypes");
      int np = ps.size();
      if (last.length != names.size()) {
        throw bad(file, "has a last layer with " + last.length + " rows for " + names.size() + " classes");
      }
      float[][] vectors = new float[np][];
      List<PrototypeInfo> infos = new ArrayList<>();
      for (int p = 0; p < np; p++) {
        JsonObject e = ps.get(p).getAsJsonObject();
        if (e.get("index").getAsInt() != p) throw bad(file, "lists prototype " + e.get("index") + " at position " + p);
        vectors[p] = floats(e.getAsJsonArray("vector"));
        if (vectors[p].length != latent[2]) {
          throw bad(file, "has a vector of length " + vectors[p].length + " for prototype " + p + "; the latent depth "
              + "is " + latent[2]);
        }
        int[] patch = ints(e.getAsJsonArray("patch"));
        infos.add(new PrototypeInfo(p, e.get("class").getAsInt(), e.get("source_image").getAsString(),
            e.get("source_index").getAsInt(), patch[0], patch[1], ints(e.getAsJsonArray("receptive_box")),
            ints(e.getAsJsonArray("activation_box")), e.get("gallery_plane").getAsInt()));
      }
      for (float[] row : last) {
        if (row.length != np) throw bad(file, "has a last layer row of " + row.length + " weights for " + np
            + " prototypes");
      }
      JsonObject acc = o.has("accuracy") ? o.getAsJsonObject("accuracy") : new JsonObject();
      JsonObject ood = o.has("ood") && !o.get("ood").isJsonNull() ? o.getAsJsonObject("ood") : new JsonObject();
      String[] keys = {"nearest_threshold", "coverage_threshold", "range_threshold"};
      double[] thresholds = new double[keys.length];
      for (int i = 0; i < keys.length; i++) {
        thresholds[i] = number(ood, keys[i]);
        if (Double.isInfinite(thresholds[i]) || thresholds[i] < 0 || (i == 2 && thresholds[i] > 1)) {
          throw bad(file, "has \"ood\": {\"" + keys[i] + "\": " + thresholds[i] + "}; it must be "
              + (i == 2 ? "a share between 0 and 1" : "a distance >= 0"));
        }
      }
      return new PrototypeManifest(method, latent, Collections.unmodifiableList(names), last, vectors,
          Collections.unmodifiableList(infos), number(acc, "training"), number(acc, "validation"), thresholds);
    } catch (UserException e) {
      throw e;
    } catch (RuntimeException e) {
      throw bad(file, "lacks a field or has one of the wrong type (" + e + ")");
    }
  }

  private static double number(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
  }

  private static UserException bad(Path file, String what) {
    return new UserException(file + " " + what + ". Restore the bundle's original prototypes.json; see "
        + "docs/classifiers.md.");
  }

  private static int[] ints(JsonArray a) {
    int[] v = new int[a.size()];
    for (int i = 0; i < v.length; i++) v[i] = a.get(i).getAsInt();
    return v;
  }

  private static float[] floats(JsonArray a) {
    float[] v = new float[a.size()];
    for (int i = 0; i < v.length; i++) v[i] = a.get(i).getAsFloat();
    return v;
  }

  private static float[][] matrix(JsonArray a) {
    float[][] m = new float[a.size()][];
    for (int i = 0; i < m.length; i++) m[i] = floats(a.get(i).getAsJsonArray());
    return m;
  }
}
