package org.diffxai.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Checksums;
import org.diffxai.io.Planes;
import org.diffxai.model.BioImageIo;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.Models;
import org.scijava.plugin.Parameter;

/**
 * Export bioimage.io: a denoiser or classifier bundle (any engine) as a bioimage.io model package
 * ({@link BioImageIo}, docs/bring-your-model.md): the package folder {@code <output>/package/} with
 * {@code bioimageio.yaml}, weights, test tensors and README, its zip {@code <output>/package.zip} (unless {@code no_zip}), and
 * {@code export_bioimageio.json}. The package's own test (the model reproduces its test tensors) runs before the files
 * appear.
 */
public final class ExportBioImageIoRun {
  public static final String COMMAND = "Export bioimage.io";
  public static final String PACKAGE_DIR = "package";
  public static final String ZIP_FILE = "package.zip";
  public static final String PROVENANCE_FILE = "export_bioimageio.json";

  /** The keys of Export bioimage.io. */
  public static class Request extends ModelKeys {
    @Parameter(persist = false, description = "The model to export: a bundled sample (sample, sample-ppnet, ...) or a"
        + " bundle folder, a denoiser or a classifier")
    public String model = "sample-ppnet";

    @Parameter(style = "image", required = false, persist = false, description = "Classifiers without a gallery: an"
        + " image (open or a file) whose first plane becomes the package's test input; empty = the first gallery"
        + " image of a prototype network")
    public String test_image = "";

    @Parameter(persist = false, description = "Licence of the model (an SPDX identifier such as MIT or CC-BY-4.0);"
        + " empty = the one in model.json")
    public String license = "";

    @Parameter(persist = false, description = "Authors, comma-separated; empty = the ones in model.json")
    public String authors = "";

    @Parameter(persist = false, description = "Seed of the denoiser's test input (noise at timestep 500)")
    public long seed = 1;

    @Parameter(persist = false, description = "Skip package.zip (the zip is what bioimage.io uploads take)")
    public boolean no_zip;
  }

  /** What a run produced. */
  public static final class Result {
    public final Table table;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(Table table, Map<String, String> provenance, List<Path> files) {
      this.table = table;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().table("exported", "Export bioimage.io", table);
    }
  }

  private ExportBioImageIoRun() {}

  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    if (r.outputPath() == null) {
      throw new UserException("No output folder given. Set output= to the folder the package is written to.");
    }
    try (OutputFolder out = OutputFolder.open(r, COMMAND, PACKAGE_DIR + "/*", PACKAGE_DIR + "/*/*", ZIP_FILE,
        PROVENANCE_FILE)) {
      BioImageIo.Extras extras = new BioImageIo.Extras();
      if (!r.license.trim().isEmpty()) extras.license(r.license.trim());
      if (!r.authors.trim().isEmpty()) extras.authors(r.authors.trim());
      Path pkg = out.root().resolve(PACKAGE_DIR);
      env.progress.report("Exporting " + r.model + " and testing the package...", Double.NaN);
      String kind;
      String name;
      if (Models.isDenoiser(r.model)) {
        DenoiserBundle b = Models.denoiserBundle(r.model);
        name = b.name();
        kind = "denoiser";
        BioImageIo.exportDenoiser(b, pkg, r.seed, r.device, extras);
      } else {
        ClassifierBundle b = Models.classifierBundle(r.model);
        name = b.name();
        kind = b.isPrototypeNetwork() ? "prototype network" : "classifier";
        float[] test = null;
        if (!r.test_image.trim().isEmpty()) {
          Planes p = env.inputs.image("test_image", r.test_image);
          test = p.plane(0);
        } else if (!b.isPrototypeNetwork()) {
          throw new UserException("Model " + name + " has no gallery to take a test input from. Set test_image= to"
              + " an image of the size the model takes.");
        }
        BioImageIo.exportClassifier(b, test, pkg, r.device, extras);
      }
      try {
        for (String f : Checksums.relativeFiles(pkg)) out.adopt(PACKAGE_DIR + "/" + f);
      } catch (IOException e) {
        throw AtomicFiles.cannotWrite(pkg, e);
      }
      if (!r.no_zip) BioImageIo.zip(pkg, out.path(ZIP_FILE));
      Map<String, String> prov = Provenance.of(COMMAND, r);
      prov.put("model.name", name);
      prov.put("model.kind", kind);
      prov.put("bioimageio.format_version", BioImageIo.FORMAT_VERSION);
      out.json(PROVENANCE_FILE, prov);
      Table t = new Table().incrementCounter().addValue("model", name).addValue("kind", kind)
          .addValue("package", out.target(PACKAGE_DIR).toString())
          .addValue("format_version", BioImageIo.FORMAT_VERSION);
      return new Result(t, prov, out.commit());
    }
  }
}
