package org.diffxai.fiji;

import java.io.PrintStream;
import org.diffxai.core.Progress;

/**
 * Progress for the command line: one line per report on a stream (stderr), e.g. {@code [ 42%] Sampling step 21/50},
 * throttled to at most one line per {@code minIntervalMillis}, or one per {@code minIntervalMillis / 4} when a new
 * phase starts (the message changes in more than its numbers); the first and the final (100%) report are always
 * written. Cancelled by {@link #cancel()} (the command line's shutdown hook) or by interrupting the command's thread.
 */
public final class ConsoleProgress implements Progress {
  private final PrintStream out;
  private final long minIntervalMillis;
  private volatile boolean cancelled;
  private long lastPrint = Long.MIN_VALUE;
  private String lastMessage;
  private int lastPercent = -1;

  public ConsoleProgress(PrintStream out, long minIntervalMillis) {
    this.out = out;
    this.minIntervalMillis = minIntervalMillis;
  }

  @Override
  public synchronized void report(String message, double fraction) {
    long now = System.nanoTime() / 1_000_000L;
    int percent = Double.isNaN(fraction) ? -1 : (int) Math.floor(Math.max(0, Math.min(1, fraction)) * 100);
    String msg = message == null ? "" : message;
    boolean first = lastPrint == Long.MIN_VALUE;
    boolean done = percent == 100 && lastPercent != 100;
    boolean changed = lastMessage == null || !phase(msg).equals(phase(lastMessage));
    long since = first ? Long.MAX_VALUE : now - lastPrint;
    if (!(first || done || since >= minIntervalMillis || (changed && since >= minIntervalMillis / 4))) return;
    out.println((percent < 0 ? "[    ] " : String.format("[%3d%%] ", percent)) + msg);
    out.flush();
    lastPrint = now;
    lastMessage = msg;
    lastPercent = percent;
  }

  /** The message without its numbers: "Sampling step 12/50" and "Sampling step 13/50" are the same phase. */
  private static String phase(String message) {
    return message.replaceAll("[0-9.,/%:]+", "#");
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  /** Asks the command to stop; it notices at its next {@link #checkCancelled()}. */
  public void cancel() {
    cancelled = true;
  }
}
