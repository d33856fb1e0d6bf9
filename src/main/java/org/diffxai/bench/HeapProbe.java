package org.diffxai.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Java heap use during a piece of work, three ways:
 *
 * <ul>
 *   <li>{@link #peakBytes}: the sum over the heap memory pools (eden, survivor, old) of each pool's peak usage since
 *       {@link #start()} ({@link MemoryPoolMXBean#resetPeakUsage()}). The pools may peak at different moments, so this
 *       is an upper bound of the heap's peak occupancy — garbage not yet collected included;
 *   <li>{@link #sampledPeakBytes}: the largest total heap use seen by a thread sampling every millisecond;
 *   <li>{@link #maxAfterGcBytes}: the largest heap use right after a garbage collection (from the collectors'
 *       notifications): close to the data the work really kept alive. 0 when no collection happened.
 * </ul>
 *
 * {@link #start()} runs {@link System#gc()} first, so the peaks start from the live heap ({@link #baselineBytes}).
 */
final class HeapProbe {
  private final List<MemoryPoolMXBean> pools = new ArrayList<>();
  private final Set<String> heapPoolNames = new HashSet<>();
  private final AtomicLong sampled = new AtomicLong();
  private final AtomicLong afterGc = new AtomicLong();
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener listener = this::gcNotification;
  private volatile boolean running;
  private Thread sampler;

  long baselineBytes;
  long peakBytes;
  long sampledPeakBytes;
  long maxAfterGcBytes;
  int collections;

  HeapProbe() {
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.isValid()) {
        pools.add(p);
        heapPoolNames.add(p.getName());
      }
    }
  }

  /** Largest heap the JVM may use (-Xmx), in bytes. */
  static long maxHeapBytes() {
    return Runtime.getRuntime().maxMemory();
  }

  void start() {
    System.gc();
    System.gc();
    baselineBytes = heapUsed();
    for (MemoryPoolMXBean p : pools) p.resetPeakUsage();
    sampled.set(baselineBytes);
    afterGc.set(0);
    collections = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter) {
        NotificationEmitter e = (NotificationEmitter) gc;
        e.addNotificationListener(listener, null, null);
        emitters.add(e);
      }
    }
    running = true;
    sampler = new Thread(() -> {
      while (running) {
        long u = heapUsed();
        sampled.accumulateAndGet(u, Math::max);
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "heap-sampler");
    sampler.setDaemon(true);
    sampler.start();
  }

  void stop() throws InterruptedException {
    running = false;
    sampler.join();
    long sum = 0;
    for (MemoryPoolMXBean p : pools) {
      MemoryUsage u = p.getPeakUsage();
      if (u != null) sum += u.getUsed();
    }
    peakBytes = sum;
    sampledPeakBytes = sampled.get();
    for (NotificationEmitter e : emitters) {
      try {
        e.removeNotificationListener(listener);
      } catch (javax.management.ListenerNotFoundException ignored) {
        // already gone
      }
    }
    emitters.clear();
    maxAfterGcBytes = afterGc.get();
  }

  private long heapUsed() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private void gcNotification(Notification n, Object handback) {
    if (!"com.sun.management.gc.notification".equals(n.getType())) return;
    try {
      com.sun.management.GarbageCollectionNotificationInfo info =
          com.sun.management.GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
      long sum = 0;
      for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
        if (heapPoolNames.contains(e.getKey())) sum += e.getValue().getUsed();
      }
      afterGc.accumulateAndGet(sum, Math::max);
      synchronized (this) {
        collections++;
      }
    } catch (RuntimeException | LinkageError e) {
      // not a HotSpot JVM: the after-GC figure stays 0
    }
  }
}
