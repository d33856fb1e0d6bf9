package org.diffxai.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.measure.ResultsTable;
import java.awt.GraphicsEnvironment;
import org.diffxai.core.Progress;

/**
 * The one place commands use to talk to the user: progress, cancel, showing images and tables. Knows about headless
 * runs (CLI, servers), where nothing opens a window.
 */
public final class Ui {
  private static final ThreadLocal<Progress> OVERRIDE = new ThreadLocal<>();

  private Ui() {}

  /** True when no window may be opened (java.awt.headless or the CLI). */
  public static boolean headless() {
    return GraphicsEnvironment.isHeadless() || Boolean.getBoolean("diffxai.headless");
  }

  /** Lets a front-end install the progress for commands run on this thread; null restores the default. */
  public static void setProgress(Progress p) {
    if (p == null) OVERRIDE.remove();
    else OVERRIDE.set(p);
  }

  /** Progress for the command running on this thread. */
  public static Progress progress() {
    Progress p = OVERRIDE.get();
    if (p != null) return p;
    if (headless()) return Progress.NONE;
    return new Progress() {
      @Override
      public void report(String message, double fraction) {
        IJ.showStatus(message);
        if (!Double.isNaN(fraction)) IJ.showProgress(fraction);
      }

      @Override
      public boolean isCancelled() {
        return IJ.escapePressed();
      }
    };
  }

  /** Shows an image (in a macro's batch mode it becomes the active image without a window); no-op when headless. */
  public static void show(ImagePlus imp) {
    if (!headless() && imp != null) imp.show();
  }

  /** Shows a results table under the given title; no-op when headless. */
  public static void show(ResultsTable rt, String title) {
    if (!headless() && rt != null) rt.show(title);
  }
}
