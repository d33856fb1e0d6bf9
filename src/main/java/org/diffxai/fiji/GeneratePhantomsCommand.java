package org.diffxai.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.process.FloatProcessor;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import org.diffxai.core.UserException;
import org.diffxai.io.PhantomFiles;
import org.diffxai.phantom.Contrast;
import org.diffxai.phantom.PhantomSet;
import org.diffxai.phantom.Shortcut;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Generates procedural brain MRI phantoms of the classes {@code healthy} and {@code lesion} (see
 * {@link org.diffxai.phantom.PhantomGenerator}) as a 32-bit stack "Phantoms" with slice labels such as
 * {@code healthy_0003}, and optionally as one 32-bit TIFF per slice in {@code output/healthy/phantom_0000.tif},
 * {@code output/lesion/...}: a folder whose sub-folders are the classes, which the trainers read, with the ground truth
 * beside each image ({@code phantom_0000_mask.tif}, {@code phantom_0000_labels.tif}; see {@link PhantomFiles}). An
 * optional planted shortcut ({@link Shortcut}) marks a share of one class. Each file is written atomically.
 *
 * <p>Macro: {@code run("Generate Phantoms", "count=8 size=64 seed=1 classes=healthy,lesion contrast=T1 output=/x");}
 */
@Plugin(type = Command.class, label = "Generate Phantoms", headless = true)
public class GeneratePhantomsCommand implements Command {

  @Parameter(description = "Number of slices per class.", min = "1", persist = false)
  private int count = 8;

  @Parameter(description = "Width and height of each slice in pixels (16 to 1024).", min = "16", max = "1024", persist = false)
  private int size = org.diffxai.phantom.PhantomGenerator.DEFAULT_SIZE;

  @Parameter(description = "Random seed. The same seed gives the same slices; slice i of the two classes shows the "
      + "same subject, with and without a lesion.", persist = false)
  private long seed = 1;

  @Parameter(description = "Classes to generate.", choices = {"healthy,lesion", "healthy", "lesion"}, persist = false)
  private String classes = "healthy,lesion";

  @Parameter(description = "MR contrast: T1 (white matter bright, CSF dark) or T2 (CSF bright).",
      choices = {"T1", "T2"}, persist = false)
  private String contrast = "T1";

  @Parameter(description = "Optional folder: writes healthy/phantom_0000.tif ... and lesion/phantom_0000.tif ... "
      + "as 32-bit TIFFs (one sub-folder per class). Leave empty to only return the stack.", required = false,
      style = "directory", persist = false)
  private String output = "";

  @Parameter(description = "With output: masks writes beside each image its lesion mask (phantom_0000_mask.tif), "
      + "tissue label map (phantom_0000_labels.tif) and, with a shortcut, the shortcut's mask "
      + "(phantom_0000_shortcut.tif); none writes the images only.", choices = {"masks", "none"}, persist = false)
  private String ground_truth = "masks";

  @Parameter(description = "Plant a shortcut on a share of one class: none, mark (a bright square in a corner) or "
      + "text (burned-in digits in a corner).", choices = {"none", "mark", "text"}, persist = false)
  private String shortcut = "none";

  @Parameter(description = "The class that gets the shortcut.", choices = {"lesion", "healthy"}, persist = false)
  private String shortcut_class = "lesion";

  @Parameter(description = "Share of that class's slices that get the shortcut (0 to 1).", min = "0", max = "1",
      persist = false)
  private double shortcut_share = 0.8;

  @Parameter(description = "The corner the shortcut is placed in.",
      choices = {"top-left", "top-right", "bottom-left", "bottom-right"}, persist = false)
  private String shortcut_corner = "top-left";

  @Parameter(type = ItemIO.OUTPUT)
  private ImagePlus phantoms;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    Contrast c = Contrast.parse(contrast);
    if (c == null) throw new UserException("contrast=" + contrast + " is unknown. Use contrast=T1 or contrast=T2.");
    PhantomSet set = new PhantomSet(count, size, seed, PhantomSet.parseClasses(classes), c,
        Shortcut.parse(shortcut, shortcut_class, shortcut_share, shortcut_corner));
    checkMemory(set.total(), set.workingMemoryBytes());
    Path dir = output == null || output.trim().isEmpty() ? null : Paths.get(output.trim());
    ImageStack stack = new ImageStack(size, size);
    PhantomFiles.generate(set, dir, !"none".equalsIgnoreCase(ground_truth.trim()), Ui.progress(),
        (k, p) -> stack.addSlice(set.label(k), new FloatProcessor(size, size, p.pixels)));
    ImagePlus imp = new ImagePlus("Phantoms", stack);
    imp.setDisplayRange(0, 1);
    imp.setProperty("Info", set.describe() + (dir == null ? "" : "\noutput=" + dir.toAbsolutePath()));
    phantoms = imp;
    Ui.show(imp);
  }

  /** The generated stack (after {@link #run()}). */
  public ImagePlus getPhantoms() {
    return phantoms;
  }

  private void checkMemory(long slices, long working) {
    Runtime rt = Runtime.getRuntime();
    long need = slices * size * size * 4L + working;
    long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    if (need > free / 2) {
      throw new UserException(String.format(Locale.ROOT,
          "%d slices of %dx%d need %d MB, but only %d MB of memory are free. Lower count or size, or give ImageJ "
              + "more memory (Edit > Options > Memory & Threads).",
          slices, size, size, need >> 20, free >> 20));
    }
  }
}
