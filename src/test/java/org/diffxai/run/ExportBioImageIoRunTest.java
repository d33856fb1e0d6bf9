package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffxai.core.Classifier;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Export bioimage.io through the run layer on the bundled prototype network, re-imported as a model argument. */
class ExportBioImageIoRunTest {

  static ExportBioImageIoRun.Request request(Path out) {
    ExportBioImageIoRun.Request r = new ExportBioImageIoRun.Request();
    r.model = "sample-ppnet";
    r.license = "MIT";
    r.authors = "Diffusion XAI developers";
    r.device = "cpu";
    r.output = out.toString();
    return r;
  }

  @Test
  void exportsATestedPackageThatOpensAsAModel(@TempDir Path tmp) {
    Path out = tmp.resolve("export");
    ExportBioImageIoRun.Result res = ExportBioImageIoRun.run(request(out), Env.files());
    assertTrue(Files.isRegularFile(out.resolve("package/bioimageio.yaml")));
    assertTrue(Files.isRegularFile(out.resolve(ExportBioImageIoRun.ZIP_FILE)));
    assertTrue(Files.isRegularFile(out.resolve(ExportBioImageIoRun.PROVENANCE_FILE)));
    assertEquals("prototype network", res.table.getString("kind", 0));
    assertEquals("MIT", res.provenance.get("license"));
    try (LoadedModel<Classifier> m = Models.classifier(out.resolve(ExportBioImageIoRun.ZIP_FILE).toString(),
        DeviceChoice.CPU, 4, false, Progress.NONE);
        LoadedModel<Classifier> orig = Models.classifier("sample-ppnet", DeviceChoice.CPU, 4, false,
            Progress.NONE)) {
      assertEquals(orig.classNames(), m.classNames());
    }
  }

  @Test
  void aMissingLicenceIsOneMessageAndWritesNothing(@TempDir Path tmp) {
    Path out = tmp.resolve("export");
    ExportBioImageIoRun.Request r = request(out);
    r.license = "";
    UserException e = assertThrows(UserException.class, () -> ExportBioImageIoRun.run(r,
        Env.files()));
    assertTrue(e.getMessage().contains("license=MIT"), e.getMessage());
    assertFalse(Files.exists(out), "a failed export leaves no folder");
  }
}
