package org.diffxai.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.Plot;
import ij.measure.ResultsTable;
import java.awt.GraphicsEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.ImagePlusPlanes;
import org.diffxai.io.ImageReaders;
import org.diffxai.io.Planes;
import org.diffxai.run.Env;
import org.diffxai.run.Inputs;
import java.util.ArrayList;
import java.util.List;

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

  /**
   * Shows an image zoomed to a readable size at the first free place, as {@link Present} shows results (in a macro's
   * batch mode it becomes the active image without a window); no-op when headless.
   */
  public static void show(ImagePlus imp) {
    if (!headless() && imp != null) Present.showImage(imp, java.util.Collections.emptyList());
  }

  /** Shows a plot in its window (interactive, with its data) at the first free place; no-op when headless. */
  public static void show(Plot plot) {
    if (!headless() && plot != null) Present.place(plot.show());
  }

  /**
   * The image a key names: an open image with that title (not headless), else an image file (TIFFs opened as virtual
   * stacks, so memory stays flat); an empty value means the active image.
   *
   * @throws UserException if there is no such image or file
   */
  public static ImagePlus openImage(String titleOrPath, String key) {
    String s = titleOrPath == null ? "" : titleOrPath.trim();
    if (s.isEmpty()) {
      ImagePlus current = headless() ? null : WindowManager.getCurrentImage();
      if (current != null) return current;
      throw new UserException("No " + key + " given and no image is open. Set " + key + "= to an open image's title"
          + " or an image file.");
    }
    ImagePlus imp = headless() ? null : WindowManager.getImage(s);
    if (imp != null) return imp;
    Path p = Paths.get(s);
    if (!Files.exists(p)) {
      throw new UserException(key + "=" + s + " is neither an open image nor an existing file. Open the"
          + " image first or give the path of an image file.");
    }
    return ImageReaders.openVirtual(p);
  }

  /** What the run layer needs from Fiji: progress and cancel, and image keys resolved against open windows. */
  public static Env env() {
    return new Env(progress(), Ui::image);
  }

  /**
   * The image {@code key=value} names: an open image with that title (the only one: a title that several open images
   * share is an error naming them), else an image file; an empty value means the active image.
   *
   * @throws UserException when there is no such image, or the title is ambiguous
   */
  static Planes image(String key, String value) {
    String s = value == null ? "" : value.trim();
    if (s.isEmpty()) {
      if (headless()) return Inputs.FILES.image(key, s);
      ImagePlus current = WindowManager.getCurrentImage();
      if (current != null) return new ImagePlusPlanes(current, current.getTitle());
      throw new UserException("No " + key + " given and no image is open. Open an image, or choose an image file for "
          + key + ".");
    }
    if (!headless()) {
      List<ImagePlus> matches = new ArrayList<>();
      int[] ids = WindowManager.getIDList();
      if (ids != null) {
        for (int id : ids) {
          ImagePlus imp = WindowManager.getImage(id);
          if (imp != null && imp.getTitle().equals(s)) matches.add(imp);
        }
      }
      if (matches.size() > 1) {
        throw new UserException(matches.size() + " open images are called \"" + s + "\" (" + key + "=" + s + " would"
            + " be a guess). Rename all but one (Image > Rename...) or close the others, then run again.");
      }
      if (matches.size() == 1) return new ImagePlusPlanes(matches.get(0), s);
    }
    return Inputs.file(key, Paths.get(s));
  }

  /** Shows a results table under the given title, sized to its contents, at the first free place; no-op headless. */
  public static void show(ResultsTable rt, String title) {
    if (!headless() && rt != null) Present.showTable(rt, title);
  }
}
