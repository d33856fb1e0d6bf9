package org.diffxai.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.process.FloatProcessor;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.phantom.Contrast;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Generates procedural brain MRI phantoms of the classes {@code healthy} and {@code lesion} (see
 * {@link PhantomGenerator}) as a 32-bit stack "Phantoms" with slice labels such as {@code healthy_0003}, and
 * optionally as one 32-bit TIFF per slice in {@code output/healthy/phantom_0000.tif}, {@code output/lesion/...}: a
 * folder whose sub-folders are the classes, which the trainers read. Each file is written atomically.
 *
 * <p>Macro: {@code run("Generate Phantoms", "count=8 size=64 seed=1 classes=healthy,lesion contrast=T1 output=/x");}
 */
@Plugin(type = Command.class, label = "Generate Phantoms", headless = true, description = "Makes synthetic brain MRI"
    + " slices with a known ground truth, healthy and with a lesion, to train and test the models on.")
public class GeneratePhantomsCommand implements Command {

  @Parameter(description = "Number of slices per class.", min = "1", persist = false)
  private int count = 8;

  @Parameter(description = "Width and height of each slice in pixels (16 to 1024).", min = "16", max = "1024", persist = false)
  private int size = PhantomGenerator.DEFAULT_SIZE;

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

  @Parameter(type = ItemIO.OUTPUT)
  private ImagePlus phantoms;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    List<Boolean> kinds = parseClasses(classes);
    Contrast c = Contrast.parse(contrast);
    if (c == null) throw new UserException("contrast=" + contrast + " is unknown. Use contrast=T1 or contrast=T2.");
    long total = (long) count * kinds.size();
    PhantomGenerator generator = new PhantomGenerator(size, size, c);
    checkMemory(total, generator.workingMemoryBytes());
    Path dir = output == null || output.trim().isEmpty() ? null : Paths.get(output.trim());
    if (dir != null) {
      for (boolean lesion : kinds) AtomicFiles.ensureDirectory(dir.resolve(className(lesion)));
    }

    Progress progress = Ui.progress();
    ImageStack stack = new ImageStack(size, size);
    int done = 0;
    for (boolean lesion : kinds) {
      for (int i = 0; i < count; i++) {
        progress.checkCancelled();
        progress.report("Generating phantom " + (done + 1) + "/" + total, done / (double) total);
        Phantom p = generator.generate(seed, i, lesion);
        String label = String.format(Locale.ROOT, "%s_%04d", p.className(), i);
        if (dir != null) write(dir.resolve(p.className()).resolve(String.format(Locale.ROOT, "phantom_%04d.tif", i)), p,
            label, i);
        stack.addSlice(label, new FloatProcessor(size, size, p.pixels));
        done++;
      }
    }
    progress.report("Generated " + total + " phantoms", 1);
    ImagePlus imp = new ImagePlus("Phantoms", stack);
    imp.setDisplayRange(0, 1);
    imp.setProperty("Info", describe() + (dir == null ? "" : "\noutput=" + dir.toAbsolutePath()));
    phantoms = imp;
    Ui.show(imp);
  }

  /** The generated stack (after {@link #run()}). */
  public ImagePlus getPhantoms() {
    return phantoms;
  }

  private void write(Path file, Phantom p, String label, int index) {
    StreamingTiffWriter w = new StreamingTiffWriter(file, p.width, p.height, 1, 1, 1);
    boolean ok = false;
    try {
      w.displayRange(0, 1).info(describe() + "\nclass=" + p.className() + "\nindex=" + index)
          .property("phantom.class", p.className()).property("phantom.index", String.valueOf(index))
          .property("phantom.seed", String.valueOf(seed)).property("phantom.contrast", contrast.trim().toUpperCase(
              Locale.ROOT));
      w.writePlane(p.pixels, label);
      w.close();
      ok = true;
    } finally {
      if (!ok) w.abort();
    }
  }

  private String describe() {
    return "Generate Phantoms: count=" + count + " size=" + size + " seed=" + seed + " classes=" + classes.trim()
        + " contrast=" + contrast.trim().toUpperCase(Locale.ROOT);
  }

  private static String className(boolean lesion) {
    return lesion ? "lesion" : "healthy";
  }

  /** "healthy,lesion" | "healthy" | "lesion" (also "lesion,healthy", spaces and case ignored). */
  static List<Boolean> parseClasses(String s) {
    List<Boolean> out = new ArrayList<>();
    if (s != null) {
      for (String part : s.split(",")) {
        String p = part.trim().toLowerCase(Locale.ROOT);
        Boolean lesion = p.equals("healthy") ? Boolean.FALSE : p.equals("lesion") ? Boolean.TRUE : null;
        if (lesion == null || out.contains(lesion)) {
          out.clear();
          break;
        }
        out.add(lesion);
      }
    }
    if (out.isEmpty()) {
      throw new UserException("classes=" + s + " is not valid. Use classes=healthy,lesion or classes=healthy or "
          + "classes=lesion.");
    }
    out.sort(null); // healthy first
    return out;
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
