package org.diffxai.trajectory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.process.FloatProcessor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffxai.core.CancelledException;
import org.diffxai.core.KeptStep;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.ImageReaders;
import org.diffxai.io.ImagePlusPlanes;
import org.diffxai.io.StreamingTiffWriter.Compression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trajectory's metadata through ImageJ properties, trajectory.tif and the OME-XML of trajectory.ome.tif. */
class TrajectoryTest {
  @TempDir
  Path dir;

  /** 2 model channels, 3 samples, 4 kept steps, with ᾱ values that are not short decimals. */
  static Trajectory sample(List<String> kinds) {
    List<KeptStep> steps = new ArrayList<>();
    int[] step = {0, 3, 6, 9};
    for (int k = 0; k < 4; k++) {
      steps.add(new KeptStep(k, step[k], 900 - 300 * k, (float) Math.pow(0.7, 4 - k) / 3f));
    }
    Map<String, String> prov = new LinkedHashMap<>();
    prov.put("model", "test \u00b5 model");
    prov.put("seed", "7");
    return new Trajectory(6, 5, kinds, 2, 3, steps, prov);
  }

  /** What the Fiji layer does with a trajectory image: its properties and hyperstack dimensions. */
  static ImagePlus describe(Trajectory tr, ImagePlus imp) {
    for (java.util.Map.Entry<String, String> e : tr.imageProperties().entrySet()) {
      if (e.getKey().equals("Info")) imp.setProperty("Info", e.getValue());
      else imp.setProp(e.getKey(), e.getValue());
    }
    imp.setDimensions(tr.channels(), tr.samples(), tr.steps().size());
    imp.setOpenAsHyperStack(true);
    return imp;
  }

  static ImagePlus image(Trajectory tr) {
    ImageStack st = new ImageStack(tr.width(), tr.height());
    for (int p = 0; p < tr.planeCount(); p++) {
      float[] px = new float[tr.width() * tr.height()];
      for (int i = 0; i < px.length; i++) px[i] = p + i / 100f;
      st.addSlice("p" + p, new FloatProcessor(tr.width(), tr.height(), px));
    }
    return new ImagePlus("Trajectory", st);
  }

  static void assertSameMetadata(Trajectory a, Trajectory b) {
    assertEquals(a.kinds(), b.kinds());
    assertEquals(a.modelChannels(), b.modelChannels());
    assertEquals(a.samples(), b.samples());
    assertEquals(a.width(), b.width());
    assertEquals(a.height(), b.height());
    assertEquals(a.steps().size(), b.steps().size());
    for (int k = 0; k < a.steps().size(); k++) {
      KeptStep x = a.steps().get(k), y = b.steps().get(k);
      assertEquals(x.keptIndex, y.keptIndex);
      assertEquals(x.stepIndex, y.stepIndex);
      assertEquals(x.timestep, y.timestep);
      assertEquals(x.alphaCumprod, y.alphaCumprod, 0.0, "alpha_cumprod bit for bit");
    }
    assertEquals(a.provenance(), b.provenance());
  }

  @Test
  void namesLabelsAndLayout() {
    Trajectory tr = sample(List.of(Trajectory.X_T, Trajectory.X0_PRED, Trajectory.EPS_PRED));
    assertEquals(List.of("x_t[1]", "x_t[2]", "x0_pred[1]", "x0_pred[2]", "eps_pred[1]", "eps_pred[2]"),
        tr.channelNames());
    assertEquals(6 * 3 * 4, tr.planeCount());
    assertEquals(3, tr.channel(Trajectory.X0_PRED, 1));
    assertEquals(-1, sample(List.of(Trajectory.X_T, Trajectory.X0_PRED)).channel(Trajectory.EPS_PRED, 0));
    assertEquals(3 + 6 * (2 + 3 * 1), tr.planeIndex(3, 2, 1));
    assertTrue(tr.label(2, 1, 3).startsWith("x0_pred[1] sample 2 step 10 t=0 abar="), tr.label(2, 1, 3));
    assertEquals(Math.sqrt(1 - 0.75), Trajectory.sigma(0.75), 1e-15);
  }

  @Test
  void propertiesOfAnInMemoryImageAndOfTrajectoryTif() throws Exception {
    Trajectory tr = sample(List.of(Trajectory.X_T, Trajectory.X0_PRED));
    ImagePlus imp = describe(tr, image(tr));
    assertEquals(4, imp.getNChannels());
    assertSameMetadata(tr, Trajectory.of(new ImagePlusPlanes(imp, imp.getTitle())));

    Path tif = dir.resolve("trajectory.tif");
    try (org.diffxai.io.StreamingTiffWriter w = tr.imagejWriter(tif)) {
      for (int p = 0; p < tr.planeCount(); p++) w.writePlane((float[]) imp.getStack().getPixels(p + 1), null);
    }
    ImagePlus virtual = ImageReaders.openVirtual(tif);
    assertTrue(virtual.getStack().isVirtual());
    assertSameMetadata(tr, Trajectory.of(new ImagePlusPlanes(virtual, virtual.getTitle())));
  }

  @Test
  void omeXmlOfTrajectoryOmeTif() throws Exception {
    Trajectory tr = sample(List.of(Trajectory.X_T, Trajectory.X0_PRED, Trajectory.EPS_PRED));
    ImagePlus imp = image(tr);
    Path ome = dir.resolve("trajectory.ome.tif");
    TrajectoryExport.toOmeTiff(new ImagePlusPlanes(describe(tr, imp), "Trajectory"), ome, Compression.DEFLATE, Progress.NONE);
    ImagePlus back = ImageReaders.openVirtual(ome);
    assertNull(back.getProp("trajectory.kinds"), "read from the OME-XML, not from properties");
    assertEquals(tr.planeCount(), back.getStackSize());
    assertSameMetadata(tr, Trajectory.of(new ImagePlusPlanes(back, back.getTitle())));
    for (int p = 0; p < tr.planeCount(); p++) {
      assertEquals("p" + p, back.getStack().getSliceLabel(p + 1));
      org.junit.jupiter.api.Assertions.assertArrayEquals((float[]) imp.getStack().getPixels(p + 1),
          (float[]) back.getStack().getPixels(p + 1), 0f);
    }
  }

  @Test
  void anImageWithoutTrajectoryMetadataIsRefused() {
    Trajectory tr = sample(List.of(Trajectory.X_T, Trajectory.X0_PRED));
    UserException e = assertThrows(UserException.class, () -> Trajectory.of(new ImagePlusPlanes(image(tr), "Trajectory")));
    assertTrue(e.getMessage().startsWith("\"Trajectory\" is not a trajectory"), e.getMessage());
  }

  @Test
  void wrongDimensionsTypeOrDamagedPropertiesAreRefused() {
    Trajectory tr = sample(List.of(Trajectory.X_T, Trajectory.X0_PRED));
    ImagePlus swapped = describe(tr, image(tr));
    swapped.setDimensions(4, 4, 3); // samples and steps swapped
    UserException e = assertThrows(UserException.class, () -> Trajectory.of(new ImagePlusPlanes(swapped, swapped.getTitle())));
    assertTrue(e.getMessage().contains("has 4 channels x 4 slices x 3 frames, but its trajectory metadata says 4 "
        + "channels (x_t[1], x_t[2], x0_pred[1], x0_pred[2]) x 3 samples x 4 kept steps"), e.getMessage());

    ImagePlus short16 = describe(tr, image(tr));
    short16.getStack().deleteLastSlice();
    short16.setDimensions(1, tr.planeCount() - 1, 1);
    assertThrows(UserException.class, () -> Trajectory.of(new ImagePlusPlanes(short16, short16.getTitle())));

    ImagePlus bits = describe(tr, image(tr));
    new ij.process.StackConverter(bits).convertToGray16();
    e = assertThrows(UserException.class, () -> Trajectory.of(new ImagePlusPlanes(bits, bits.getTitle())));
    assertTrue(e.getMessage().contains("16-bit"), e.getMessage());

    ImagePlus damaged = describe(tr, image(tr));
    damaged.setProp("trajectory.timestep", "900,600");
    e = assertThrows(UserException.class, () -> Trajectory.of(new ImagePlusPlanes(damaged, damaged.getTitle())));
    assertTrue(e.getMessage().contains("damaged trajectory.* properties"), e.getMessage());
  }

  @Test
  void cancelledExportLeavesNoFile() throws Exception {
    Trajectory tr = sample(List.of(Trajectory.X_T, Trajectory.X0_PRED));
    ImagePlus imp = describe(tr, image(tr));
    Progress cancelSoon = new Progress() {
      int reports;

      @Override
      public void report(String message, double fraction) {
        reports++;
      }

      @Override
      public boolean isCancelled() {
        return reports >= 2;
      }
    };
    Path out = dir.resolve("c").resolve("t.ome.tif");
    assertThrows(CancelledException.class, () -> TrajectoryExport.toOmeTiff(new ImagePlusPlanes(imp, "t"), out, Compression.NONE,
        cancelSoon));
    try (java.util.stream.Stream<Path> s = java.nio.file.Files.list(out.getParent())) {
      assertEquals(0, s.count());
    }
  }
}
