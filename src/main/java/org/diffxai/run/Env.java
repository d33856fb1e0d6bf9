package org.diffxai.run;

import org.diffxai.core.Progress;

/** What a front-end gives a run: progress and cancellation, and how image keys are resolved. */
public final class Env {
  public final Progress progress;
  public final Inputs inputs;

  public Env(Progress progress, Inputs inputs) {
    this.progress = progress == null ? Progress.NONE : progress;
    this.inputs = inputs;
  }

  /** Files only, with this progress (command line, tests, benchmarks). */
  public static Env files(Progress progress) {
    return new Env(progress, Inputs.FILES);
  }

  /** Files only, silent. */
  public static Env files() {
    return files(Progress.NONE);
  }
}
