package org.diffxai.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.InfoText;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.diffxai.io.PhantomFiles;
import org.diffxai.phantom.Contrast;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.phantom.PhantomSet;
import org.diffxai.phantom.Shortcut;
import org.diffxai.run.ResultImage.Look;
import org.scijava.plugin.Parameter;

/**
 * Generate Phantoms: procedural brain MRI phantoms of the classes {@code healthy} and {@code lesion}
 * ({@link PhantomGenerator}) as a stack with slice labels such as {@code healthy_0003}, and with an output folder one
 * 32-bit TIFF per slice in {@code <class>/phantom_0000.tif} — a folder whose sub-folders are the classes, which the
 * trainers read — with the ground truth beside each image ({@code phantom_0000_mask.tif},
 * {@code phantom_0000_labels.tif}; see {@link PhantomFiles}) and {@code phantoms.json}. An optional planted shortcut
 * ({@link Shortcut}) marks a share of one class.
 */
public final class GeneratePhantomsRun {
  public static final String COMMAND = "Generate Phantoms";
  public static final String PROVENANCE_FILE = "phantoms.json";

  /** The keys of Generate Phantoms. */
  public static class Request extends OutputKeys {
    @Parameter(min = "1", persist = false, description = "Number of slices per class")
    public int count = 8;

    @Parameter(min = "16", max = "1024", persist = false, description = "Width and height of each slice in pixels")
    public int size = PhantomGenerator.DEFAULT_SIZE;

    @Parameter(persist = false, description = "Random seed: the same seed gives the same slices; slice i of the two"
        + " classes shows the same subject, with and without a lesion")
    public long seed = 1;

    @Parameter(choices = {"healthy,lesion", "healthy", "lesion"}, persist = false, description = "Classes to generate")
    public String classes = "healthy,lesion";

    @Parameter(choices = {"T1", "T2"}, persist = false,
        description = "MR contrast: T1 (white matter bright, CSF dark) or T2 (CSF bright)")
    public String contrast = "T1";

    @Parameter(choices = {"masks", "none"}, persist = false, description = "With an output folder: masks also writes"
        + " each slice's lesion mask, tissue label map and (with a shortcut) shortcut mask beside it")
    public String ground_truth = "masks";

    @Parameter(choices = {"none", "mark", "text"}, persist = false, description = "Plant a shortcut on a share of one"
        + " class: a bright square (mark) or burned-in digits (text) in a corner")
    public String shortcut = "none";

    @Parameter(choices = {"lesion", "healthy"}, persist = false, description = "The class that gets the shortcut")
    public String shortcut_class = "lesion";

    @Parameter(min = "0", max = "1", persist = false,
        description = "Share of that class's slices that get the shortcut (0 to 1)")
    public double shortcut_share = 0.8;

    @Parameter(choices = {"top-left", "top-right", "bottom-left", "bottom-right"}, persist = false,
        description = "The corner the shortcut is placed in")
    public String shortcut_corner = "top-left";
  }

  /** What a run produced. */
  public static final class Result {
    public final FloatStack phantoms;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(FloatStack phantoms, Map<String, String> provenance, List<Path> files) {
      this.phantoms = phantoms;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().image(ResultImage.of("phantoms", "Phantoms", phantoms,
          Map.of("Info", InfoText.of(provenance)), Look.GREY));
    }
  }

  private GeneratePhantomsRun() {}

  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    Contrast c = Contrast.parse(r.contrast);
    if (c == null) throw new UserException("contrast=" + r.contrast + " is unknown. Use contrast=T1 or contrast=T2.");
    PhantomSet set = new PhantomSet(r.count, r.size, r.seed, PhantomSet.parseClasses(r.classes), c,
        Shortcut.parse(r.shortcut, r.shortcut_class, r.shortcut_share, r.shortcut_corner));
    checkMemory(set, r.size);
    boolean groundTruth = !"none".equalsIgnoreCase(r.ground_truth.trim());
    try (OutputFolder out = OutputFolder.open(r, COMMAND, "healthy/*", "lesion/*", PROVENANCE_FILE)) {
      int total = set.total();
      float[][] planes = new float[total][];
      String[] labels = new String[total];
      for (int k = 0; k < total; k++) {
        env.progress.checkCancelled();
        env.progress.report("Generating phantom " + (k + 1) + "/" + total, k / (double) total);
        Phantom p = set.generate(k);
        if (out.active()) {
          for (String f : PhantomFiles.write(out.root(), set, k, p, groundTruth)) out.adopt(f);
        }
        planes[k] = p.pixels;
        labels[k] = set.label(k);
      }
      Map<String, String> prov = Provenance.of(COMMAND, r);
      prov.put("phantoms", set.describe().replace('\n', ';'));
      if (out.active()) out.json(PROVENANCE_FILE, prov);
      List<Path> files = out.commit();
      env.progress.report("Generated " + total + " phantoms", 1);
      return new Result(new FloatStack(r.size, r.size, 1, total, 1, planes, labels), prov, files);
    }
  }

  private static void checkMemory(PhantomSet set, int size) {
    Runtime rt = Runtime.getRuntime();
    long need = (long) set.total() * size * size * 4L + set.workingMemoryBytes();
    long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    if (need > free / 2) {
      throw new UserException(String.format(Locale.ROOT,
          "%d slices of %dx%d need %d MB, but only %d MB of memory are free. Lower count or size, or give ImageJ "
              + "more memory (Edit > Options > Memory & Threads).", set.total(), size, size, need >> 20, free >> 20));
    }
  }
}
