package org.diffxai.core;

/**
 * Progress and cancellation for long runs. Front-ends supply an implementation (ImageJ status bar and Esc key,
 * console lines and thread interrupts); algorithms only report and poll.
 */
public interface Progress {

  /** Reports a status message and the completed fraction in [0, 1] (NaN when unknown). */
  void report(String message, double fraction);

  /** True once the user asked to stop. */
  boolean isCancelled();

  /** Throws {@link CancelledException} if the user asked to stop; call at least once per step. */
  default void checkCancelled() {
    if (isCancelled() || Thread.currentThread().isInterrupted()) {
      throw new CancelledException();
    }
  }

  /** Progress of a sub-task: its fractions [0, 1] are reported as [from, to] of this one; cancels with it. */
  default Progress sub(double from, double to) {
    return sub(from, to, "");
  }

  /** {@link #sub(double, double)} with {@code prefix} before every message (e.g. "Image 3/16, "). */
  default Progress sub(double from, double to, String prefix) {
    Progress outer = this;
    return new Progress() {
      @Override
      public void report(String message, double fraction) {
        outer.report(prefix + message, Double.isNaN(fraction) ? fraction : from + (to - from) * fraction);
      }

      @Override
      public boolean isCancelled() {
        return outer.isCancelled();
      }
    };
  }

  /** This progress without its messages: cancellation passes through, nothing is reported. */
  default Progress silent() {
    Progress outer = this;
    return new Progress() {
      @Override
      public void report(String message, double fraction) {}

      @Override
      public boolean isCancelled() {
        return outer.isCancelled();
      }
    };
  }

  /** Progress that reports nothing and is cancelled only by interrupting the thread. */
  Progress NONE = new Progress() {
    @Override
    public void report(String message, double fraction) {}

    @Override
    public boolean isCancelled() {
      return false;
    }
  };
}
