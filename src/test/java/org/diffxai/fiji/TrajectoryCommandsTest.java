package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.IJ;
import ij.ImagePlus;
import ij.io.FileSaver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.io.External;
import org.diffxai.io.ImageReaders;
import org.diffxai.model.TestBundles;
import org.diffxai.run.OutputFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export Trajectory and Trajectory Profile through the command line, on the files a real Synthesize run (a TensorFlow
 * SavedModel through DJL) wrote: results checked with tifffile and ImageJ, and every user error as one message with no
 * file left behind.
 */
class TrajectoryCommandsTest {
  @TempDir static Path dir;
  static Path run;

  @BeforeAll
  static void synthesize() {
    Path bundle = TestBundles.spec().size(16, 16).classes("healthy", "lesion").intensity(0.5, 0.5)
        .write(dir.resolve("bundle"));
    run = dir.resolve("run");
    CliTest.Out r = CliTest.inProcess("Synthesize", "model=[" + bundle + "] device=cpu samples=2 steps=6 seed=3"
        + " keep_every=2 keep_noise output=[" + run + "]");
    assertEquals(0, r.code, r.toString());
  }

  static List<String> listing(Path d) throws IOException {
    if (!Files.isDirectory(d)) return List.of();
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  /** Pixels, channel names, per-plane step metadata and provenance of two OME-TIFFs, compared by tifffile. */
  static final String SAME_OME = String.join("\n",
      "import sys, tifffile, numpy as np, xml.etree.ElementTree as ET",
      "ns = {'o': 'http://www.openmicroscopy.org/Schemas/OME/2016-06'}",
      "def read(f):",
      "    with tifffile.TiffFile(f) as tf:",
      "        a = tf.series[0].asarray()",
      "        root = ET.fromstring(tf.ome_metadata)",
      "        px = root.find('o:Image/o:Pixels', ns)",
      "        maps = {m.get('ID'): tuple((x.get('K'), x.text) for x in m.findall('o:Value/o:M', ns))",
      "                for m in root.findall('o:StructuredAnnotations/o:MapAnnotation', ns)}",
      "        planes = [(p.get('TheC'), p.get('TheZ'), p.get('TheT'), maps[p.find('o:AnnotationRef', ns).get('ID')])",
      "                  for p in px.findall('o:Plane', ns)]",
      "        names = [c.get('Name') for c in px.findall('o:Channel', ns)]",
      "        prov = maps[root.find('o:Image/o:AnnotationRef', ns).get('ID')]",
      "        return a, tf.series[0].axes, names, planes, prov, tf.pages[0].compression.name",
      "a, b = read(sys.argv[1]), read(sys.argv[2])",
      "print(a[1], a[0].shape, ','.join(a[2]), a[5], b[5])",
      "print(np.array_equal(a[0].view('<u4'), b[0].view('<u4')), a[2] == b[2], a[3] == b[3], a[4] == b[4])",
      "print(dict(a[3][-1][3])['timestep'], dict(a[4])['sampler'])");

  @Test
  void exportOfTrajectoryTifEqualsTheOmeTiffSynthesizeWrote() throws Exception {
    External.assumeTifffile();
    Path out = dir.resolve("export").resolve("exported.ome.tif");
    CliTest.Out r = CliTest.inProcess("Export Trajectory", "image=[" + run.resolve("trajectory.tif") + "] output=["
        + out + "] compression=deflate");
    assertEquals(0, r.code, r.toString());
    List<String> lines = External.python(SAME_OME, out.toString(), run.resolve("trajectory.ome.tif").toString());
    // kept steps 0, 2, 4 and the last (5): 4 frames x 2 samples x (x_t, x0_pred, eps_pred)
    assertEquals("TZCYX (4, 2, 3, 16, 16) x_t,x0_pred,eps_pred ADOBE_DEFLATE NONE", lines.get(0));
    assertEquals("True True True True", lines.get(1), "pixels, channels, plane metadata, provenance");
    assertEquals("0 DDIM", lines.get(2));

    ImagePlus imp = IJ.openImage(out.toString()); // ImageJ's own reader: every plane
    ImagePlus source = IJ.openImage(run.resolve("trajectory.tif").toString());
    assertEquals(24, imp.getStackSize());
    for (int p = 1; p <= 24; p++) {
      org.junit.jupiter.api.Assertions.assertArrayEquals((float[]) source.getStack().getPixels(p),
          (float[]) imp.getStack().getPixels(p), 0f);
    }
    ImagePlus virtual = ImageReaders.openVirtual(out); // labels (ImageJ 1.54p drops them in a non-virtual open)
    assertTrue(virtual.getStack().getSliceLabel(24).startsWith("eps_pred sample 2 step 6 t=0"),
        virtual.getStack().getSliceLabel(24));

    Path again = dir.resolve("export").resolve("again.ome.tif"); // an OME-TIFF is a trajectory too
    r = CliTest.inProcess("Export Trajectory", "image=[" + out + "] output=[" + again + "]");
    assertEquals(0, r.code, r.toString());
    assertEquals("True True True True", External.python(SAME_OME, again.toString(), out.toString()).get(1));
  }

  @Test
  void profileOfEitherFileWritesTheSameTableAndAPlot() throws Exception {
    Path a = dir.resolve("profile-tif"), b = dir.resolve("profile-ome");
    CliTest.Out r = CliTest.inProcess("Trajectory Profile", "image=[" + run.resolve("trajectory.tif") + "] output=["
        + a + "]");
    assertEquals(0, r.code, r.toString());
    r = CliTest.inProcess("Trajectory Profile", "image=[" + run.resolve("trajectory.ome.tif") + "] output=[" + b
        + "]");
    assertEquals(0, r.code, r.toString());
    assertEquals(List.of(OutputFolder.MANIFEST, "trajectory_profile.csv", "trajectory_profile.json",
        "trajectory_profile.png"), listing(a));
    List<String> csv = Files.readAllLines(a.resolve("trajectory_profile.csv"));
    assertEquals(csv, Files.readAllLines(b.resolve("trajectory_profile.csv")));
    assertEquals("step,t,alpha_cumprod,sigma,xt_mean,xt_sd,eps_abs_mean,x0_psnr,x0_ssim,x0_change", csv.get(0));
    assertEquals(5, csv.size(), String.join("\n", csv));
    String[] last = csv.get(4).split(",");
    assertEquals("6", last[0]);
    assertEquals("0", last[1]);
    assertEquals("Infinity", last[7]);
    assertEquals("1", last[8]);
    assertTrue(javax.imageio.ImageIO.read(a.resolve("trajectory_profile.png").toFile()).getWidth() > 400);
  }

  static void assertUserError(String command, String options, Path mustStayEmpty, String... parts) throws IOException {
    CliTest.Out r = CliTest.inProcess(command, options);
    assertEquals(1, r.code, r.toString());
    List<String> errors = r.err.lines().filter(l -> l.startsWith("Error: ")).collect(Collectors.toList());
    assertEquals(1, errors.size(), r.toString());
    assertFalse(r.err.contains("\tat "), "no stack trace\n" + r);
    for (String p : parts) assertTrue(errors.get(0).contains(p), "'" + p + "' missing in: " + errors.get(0));
    assertEquals(List.of(), listing(mustStayEmpty), "no partial output");
  }

  @Test
  void badInputGivesOneMessageAndNoFile() throws Exception {
    Path out = dir.resolve("bad");
    String tif = "image=[" + run.resolve("trajectory.tif") + "]";
    assertUserError("Export Trajectory", "image=[" + run.resolve("samples.tif") + "] output=[" + out.resolve(
        "x.ome.tif") + "]", out, "samples.tif\" is not a trajectory");
    assertUserError("Export Trajectory", tif + " output=[" + out.resolve("x.tif") + "]", out, "does not end in "
        + ".ome.tif");
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    assertUserError("Export Trajectory", tif + " output=[" + file.resolve("x.ome.tif") + "]", out, "Cannot write",
        "is a file, not a folder");
    assertUserError("Export Trajectory", tif + " output=[" + out.resolve("x.ome.tif") + "] writer=bioformats", out,
        "writer=bioformats needs Fiji's \"Bio-Formats Exporter\"", "writer=diffxai");
    assertUserError("Export Trajectory", "image=[" + dir.resolve("missing.tif") + "] output=[" + out.resolve(
        "x.ome.tif") + "]", out, "neither an open image nor an existing file");
    assertUserError("Trajectory Profile", tif + " sample=5 output=[" + out + "]", out, "sample=5 is out of range");

    // a trajectory whose dimensions were changed (samples and steps swapped) and saved again
    ImagePlus imp = IJ.openImage(run.resolve("trajectory.tif").toString());
    imp.setDimensions(3, 4, 2);
    Path swapped = dir.resolve("swapped.tif");
    new FileSaver(imp).saveAsTiff(swapped.toString());
    assertUserError("Trajectory Profile", "image=[" + swapped + "] output=[" + out + "]", out,
        "has 3 channels x 4 slices x 2 frames, but its trajectory metadata says 3 channels");
  }

  /** A disk that fills up during the export: a 16 kB tmpfs (needs root; skipped where mounting is not allowed). */
  @Test
  void fullDiskLeavesNoFile() throws Exception {
    Path mnt = dir.resolve("tmpfs");
    try (External.Mount m = External.tmpfs(mnt, "16k")) {
      assertUserError("Export Trajectory", "image=[" + run.resolve("trajectory.tif") + "] output=[" + mnt.resolve(
          "x.ome.tif") + "]", mnt, "no space left on device", "Free some disk space");
    }
  }
}
