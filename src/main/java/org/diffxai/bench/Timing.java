package org.diffxai.bench;

import java.util.Arrays;

/** Wall-clock timing helpers: repeats of k back-to-back calls, summarised by their best and median repeat. */
final class Timing {

  /** Seconds per call of each repeat, as measured. */
  final double[] perCall;
  private Timing(double[] perCall) {
    this.perCall = perCall;
  }

  /** CPU time used by this process so far in nanoseconds, or -1 when the JVM cannot tell. */
  static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean) {
      return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
    }
    return -1;
  }

  /** Something timed that may throw. */
  interface Body {
    void run() throws Exception;
  }

  /**
   * Runs {@code body} {@code warmup} times untimed, then {@code repeats} times {@code callsPerRepeat} back-to-back
   * calls, each repeat timed as a whole.
   */
  static Timing measure(int warmup, int repeats, int callsPerRepeat, Body body) throws Exception {
    for (int i = 0; i < warmup; i++) body.run();
    double[] s = new double[repeats];
    for (int r = 0; r < repeats; r++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < callsPerRepeat; i++) body.run();
      s[r] = (System.nanoTime() - t0) / 1e9 / callsPerRepeat;
    }
    return new Timing(s);
  }

  /** One thing to time in {@link #interleaved}: a name, a body, and its calls per repeat (0: calibrate). */
  static final class Case {
    final String name;
    final Body body;
    int calls;

    Case(String name, int calls, Body body) {
      this.name = name;
      this.calls = calls;
      this.body = body;
    }
  }

  /**
   * Times several cases in turn, repeat after repeat (1, 2, 3, then 2, 3, 1, then 3, 1, 2, ...), so that a change of
   * load on the machine during the measurement affects all of them alike. Cases with {@code calls} 0 are first timed
   * once (after the caller's warm-up) and given as many calls per repeat as fit in {@code secondsPerRepeat}.
   */
  static java.util.Map<String, Timing> interleaved(int repeats, double secondsPerRepeat, int maxCalls,
      java.util.List<Case> cases) throws Exception {
    for (Case c : cases) {
      if (c.calls <= 0) c.calls = callsFor(once(c.body), secondsPerRepeat, maxCalls);
    }
    int n = cases.size();
    double[][] s = new double[n][repeats];
    for (int r = 0; r < repeats; r++) {
      for (int j = 0; j < n; j++) {
        int i = (j + r) % n; // rotate the order, so a steady drift in load does not always favour the same case
        Case c = cases.get(i);
        long t0 = System.nanoTime();
        for (int k = 0; k < c.calls; k++) c.body.run();
        s[i][r] = (System.nanoTime() - t0) / 1e9 / c.calls;
      }
    }
    java.util.Map<String, Timing> out = new java.util.LinkedHashMap<>();
    for (int i = 0; i < n; i++) out.put(cases.get(i).name, new Timing(s[i]));
    return out;
  }

  /** Calls per repeat so that one repeat lasts about {@code targetSeconds}, given one call's duration. */
  static int callsFor(double secondsPerCall, double targetSeconds, int max) {
    if (!(secondsPerCall > 0)) return 1;
    return (int) Math.max(1, Math.min(max, Math.round(targetSeconds / secondsPerCall)));
  }

  /** Times one call (seconds). */
  static double once(Body body) throws Exception {
    long t0 = System.nanoTime();
    body.run();
    return (System.nanoTime() - t0) / 1e9;
  }

  /** Fastest repeat's seconds per call: the least disturbed by other load on the machine. */
  double best() {
    return min(perCall);
  }

  double median() {
    return median(perCall);
  }



  static double min(double[] a) {
    double m = Double.POSITIVE_INFINITY;
    for (double v : a) m = Math.min(m, v);
    return m;
  }

  static double median(double[] a) {
    double[] s = a.clone();
    Arrays.sort(s);
    int n = s.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
