package org.diffxai.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.diffxai.core.Classifier;
import org.diffxai.core.UserException;

/**
 * bioimage.io input preprocessing (model description format 0.5) that this plugin honours, applied to each image in
 * NHWC order before the model sees it: {@code scale_linear} (gain, offset), {@code scale_range} (percentiles, eps),
 * {@code zero_mean_unit_variance} (eps), {@code fixed_zero_mean_unit_variance} (mean, std), {@code clip} (min, max),
 * {@code ensure_dtype} (float32 only). Statistics are computed per image over its y and x axes, jointly over channels
 * unless {@code axes} leaves {@code channel} out (then per channel); an image is one sample, as the test tensors are.
 *
 * <p>Formulas from the bioimage.io spec 0.5: scale_linear {@code out = x·gain + offset}; scale_range
 * {@code out = (x − p_lo) / (p_hi − p_lo + eps)} with p the percentiles (linear interpolation, as numpy); zero mean unit
 * variance {@code out = (x − mean) / (std + eps)} with the population standard deviation.
 */
public final class Preprocessing {
  /** One operation. */
  static final class Op {
    final String id;
    final JsonObject kwargs;

    Op(String id, JsonObject kwargs) {
      this.id = id;
      this.kwargs = kwargs == null ? new JsonObject() : kwargs;
    }
  }

  private final List<Op> ops;

  private Preprocessing(List<Op> ops) {
    this.ops = ops;
  }

  /** The ids this plugin runs. */
  static final List<String> SUPPORTED = Arrays.asList("scale_linear", "scale_range", "zero_mean_unit_variance",
      "fixed_zero_mean_unit_variance", "clip", "ensure_dtype");

  /**
   * Parses a bioimage.io {@code preprocessing} list.
   *
   * @throws UserException for an operation or argument this plugin does not run
   */
  static Preprocessing parse(JsonArray list, String where) {
    List<Op> ops = new ArrayList<>();
    for (JsonElement e : list) {
      JsonObject o = e.getAsJsonObject();
      String id = o.get("id").getAsString();
      JsonObject kw = o.has("kwargs") && o.get("kwargs").isJsonObject() ? o.getAsJsonObject("kwargs") : null;
      if (!SUPPORTED.contains(id)) {
        throw new UserException(where + " asks for preprocessing '" + id + "', which this plugin does not run (it runs "
            + String.join(", ", SUPPORTED) + "). Convert the model's input normalisation to one of these.");
      }
      Op op = new Op(id, kw);
      if (id.equals("ensure_dtype") && !"float32".equals(str(op, "dtype", "float32"))) {
        throw new UserException(where + " asks for input dtype " + str(op, "dtype", "") + "; this plugin feeds float32 "
            + "images only.");
      }
      JsonElement axes = op.kwargs.get("axes");
      if (axes != null && axes.isJsonArray()) {
        List<String> a = new ArrayList<>();
        for (JsonElement x : axes.getAsJsonArray()) a.add(x.getAsString());
        if (!a.contains("x") || !a.contains("y")) {
          throw new UserException(where + " normalises over axes " + a + "; this plugin normalises over whole images "
              + "(axes containing x and y, with or without channel).");
        }
      }
      ops.add(op);
    }
    return new Preprocessing(ops);
  }

  /** Reads a bundle's preprocessing.json (the list as bioimage.io writes it). */
  static Preprocessing read(Path file) {
    String text = BundleDirs.readUtf8(file, file.getParent());
    try {
      return parse(JsonParser.parseString(text).getAsJsonArray(), file.toString());
    } catch (IllegalStateException | com.google.gson.JsonParseException | NullPointerException e) {
      throw new UserException(file + " is not a list of bioimage.io preprocessing operations ({\"id\": ..., "
          + "\"kwargs\": {...}}). Import the package again; see docs/bring-your-model.md.", e);
    }
  }

  /** True when every operation is a fixed linear map or a clip (so a gradient can pass through it). */
  boolean isPointwise() {
    for (Op op : ops) {
      if (op.id.equals("scale_range") || op.id.equals("zero_mean_unit_variance")) return false;
    }
    return true;
  }

  /** One line for run records, e.g. {@code zero_mean_unit_variance(eps=1e-6)}. */
  String describe() {
    List<String> s = new ArrayList<>();
    for (Op op : ops) s.add(op.id + op.kwargs);
    return String.join(", ", s);
  }

  /** Applies the operations in place to n images of h·w·c values (NHWC). */
  float[] apply(float[] x, int n, int h, int w, int c) {
    int px = h * w * c;
    for (int i = 0; i < n; i++) {
      for (Op op : ops) applyOne(op, x, i * px, h * w, c);
    }
    return x;
  }

  private static void applyOne(Op op, float[] x, int off, int hw, int c) {
    switch (op.id) {
      case "scale_linear": {
        double gain = num(op, "gain", 1);
        double offset = num(op, "offset", 0);
        for (int i = off; i < off + hw * c; i++) x[i] = (float) (x[i] * gain + offset);
        return;
      }
      case "fixed_zero_mean_unit_variance": {
        double mean = num(op, "mean", 0);
        double std = num(op, "std", 1);
        for (int i = off; i < off + hw * c; i++) x[i] = (float) ((x[i] - mean) / std);
        return;
      }
      case "clip": {
        double lo = num(op, "min", Double.NEGATIVE_INFINITY);
        double hi = num(op, "max", Double.POSITIVE_INFINITY);
        for (int i = off; i < off + hw * c; i++) x[i] = (float) Math.max(lo, Math.min(hi, x[i]));
        return;
      }
      case "ensure_dtype":
        return;
      default: // statistics per image, jointly over channels or per channel
        boolean perChannel = perChannel(op);
        for (int ch = 0; ch < (perChannel ? c : 1); ch++) {
          double[] v = new double[perChannel ? hw : hw * c];
          for (int p = 0; p < v.length; p++) v[p] = x[off + (perChannel ? p * c + ch : p)];
          double a;
          double b;
          double eps = num(op, "eps", 1e-6);
          if (op.id.equals("zero_mean_unit_variance")) {
            double mean = 0;
            for (double d : v) mean += d;
            mean /= v.length;
            double var = 0;
            for (double d : v) var += (d - mean) * (d - mean);
            a = mean;
            b = Math.sqrt(var / v.length) + eps;
          } else { // scale_range
            double[] s = v.clone();
            Arrays.sort(s);
            a = percentile(s, num(op, "min_percentile", 0));
            b = percentile(s, num(op, "max_percentile", 100)) - a + eps;
          }
          for (int p = 0; p < v.length; p++) {
            int i = off + (perChannel ? p * c + ch : p);
            x[i] = (float) ((x[i] - a) / b);
          }
        }
    }
  }

  private static boolean perChannel(Op op) {
    JsonElement axes = op.kwargs.get("axes");
    if (axes == null || !axes.isJsonArray()) return false;
    for (JsonElement e : axes.getAsJsonArray()) {
      if (e.getAsString().equals("channel")) return false;
    }
    return true;
  }

  /** numpy's default percentile: linear interpolation between the sorted values at rank q/100·(n − 1). */
  static double percentile(double[] sorted, double q) {
    double r = q / 100.0 * (sorted.length - 1);
    int lo = (int) Math.floor(r);
    int hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo] + (r - lo) * (sorted[hi] - sorted[lo]);
  }

  private static double num(Op op, String key, double dflt) {
    JsonElement e = op.kwargs.get(key);
    if (e == null || e.isJsonNull()) return dflt;
    if (e.isJsonArray()) {
      throw new UserException("bioimage.io preprocessing '" + op.id + "' gives " + key + " per channel (" + e + "); "
          + "this plugin takes one value for all channels.");
    }
    return e.getAsDouble();
  }

  private static String str(Op op, String key, String dflt) {
    JsonElement e = op.kwargs.get(key);
    return e == null || e.isJsonNull() ? dflt : e.getAsString().toLowerCase(Locale.ROOT);
  }

  /** The classifier with this preprocessing run on its images first. */
  Classifier wrap(Classifier inner) {
    return new Wrapped(inner, this);
  }

  /** A classifier whose images are preprocessed (the inner bundle's own intensity mapping is the identity). */
  static final class Wrapped implements Classifier {
    private final Classifier inner;
    private final Preprocessing pre;

    Wrapped(Classifier inner, Preprocessing pre) {
      this.inner = inner;
      this.pre = pre;
    }

    Classifier inner() {
      return inner;
    }

    String describe() {
      return pre.describe();
    }

    @Override
    public int height() {
      return inner.height();
    }

    @Override
    public int width() {
      return inner.width();
    }

    @Override
    public int channels() {
      return inner.channels();
    }

    @Override
    public List<String> classNames() {
      return inner.classNames();
    }

    @Override
    public float[][] logits(float[] x, int n) {
      return inner.logits(pre.apply(x.clone(), n, height(), width(), channels()), n);
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
