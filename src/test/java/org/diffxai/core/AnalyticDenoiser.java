package org.diffxai.core;

/**
 * A simple analytic model for tests: output_e = 0.1·x_e + 0.01·sin(t + e) (+ 0.05·label when class-conditional,
 * + 0.02·condition_e when it has condition channels), computed in double and rounded to float. Counts its calls.
 */
class AnalyticDenoiser extends FixedShapeDenoiser {
  int calls;
  int samplesSeen;
  Runnable onCall;

  AnalyticDenoiser(int h, int w, int c) {
    this(h, w, c, 0, false);
  }

  AnalyticDenoiser(int h, int w, int c, int k, boolean classConditional) {
    super(h, w, c, k, classConditional);
  }

  /** The model function for one element (shared with the double reference). */
  static double f(double x, double t, int e, int label, double cond) {
    return 0.1 * x + 0.01 * Math.sin(t + e) + 0.05 * label + 0.02 * cond;
  }

  @Override
  public float[] predict(float[] x, float[] t, int[] labels, float[] condition, int n) {
    calls++;
    samplesSeen += n;
    if (onCall != null) onCall.run();
    int d = h * w * c;
    if (x.length != n * d || t.length != n) throw new AssertionError("bad batch");
    if (classConditional != (labels != null)) throw new AssertionError("labels");
    if ((k > 0) != (condition != null)) throw new AssertionError("condition");
    float[] out = new float[n * d];
    for (int s = 0; s < n; s++) {
      for (int e = 0; e < d; e++) {
        int pixel = e / c;
        double cond = condition == null ? 0 : condition[s * h * w * k + pixel * k];
        out[s * d + e] = (float) f(x[s * d + e], t[s], e, labels == null ? 0 : labels[s], cond);
      }
    }
    return out;
  }

}
