package org.diffxai.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * How much of the machine's CPU time went to OTHER processes while the benchmark ran: the busy time of all CPUs
 * (Linux {@code /proc/stat}: everything but idle and iowait, in USER_HZ = 1/100 s ticks) minus this JVM's own CPU time
 * (child JVMs are not included, so parts that start one over-count "other" slightly), divided by wall time × cores.
 * Near 0 on a quiet machine; the benchmark's timings are only representative then.
 */
final class MachineLoad {
  private static final double TICK_SECONDS = 0.01;
  private final long busyTicks0;
  private final long cpuNanos0;
  private final long wall0;

  MachineLoad() {
    busyTicks0 = busyTicks();
    cpuNanos0 = Timing.processCpuNanos();
    wall0 = System.nanoTime();
  }

  /** Fraction (0..1) of all cores' time used by other processes since construction; NaN when unknown. */
  double otherFraction() {
    long busy = busyTicks();
    long cpu = Timing.processCpuNanos();
    double wall = (System.nanoTime() - wall0) / 1e9;
    if (busy < 0 || busyTicks0 < 0 || cpu < 0 || cpuNanos0 < 0 || wall <= 0) return Double.NaN;
    double other = (busy - busyTicks0) * TICK_SECONDS - (cpu - cpuNanos0) / 1e9;
    return Math.max(0, other / (wall * Runtime.getRuntime().availableProcessors()));
  }

  /** Busy ticks of all CPUs so far, or -1 when /proc/stat is not there (not Linux). */
  static long busyTicks() {
    Path p = Paths.get("/proc/stat");
    try {
      if (!Files.isReadable(p)) return -1;
      List<String> lines = Files.readAllLines(p, StandardCharsets.US_ASCII);
      for (String l : lines) {
        if (!l.startsWith("cpu ")) continue;
        String[] f = l.trim().split("\\s+");
        // cpu user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
        long busy = 0;
        for (int i = 1; i < Math.min(f.length, 9); i++) {
          if (i == 4 || i == 5) continue; // idle, iowait
          busy += Long.parseLong(f[i]);
        }
        return busy;
      }
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    return -1;
  }
}
