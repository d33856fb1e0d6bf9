package org.diffxai.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.io.Opener;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DICOM input on files written by an independent writer (pydicom; dcmtk for compression): rescale, MONOCHROME1,
 * signed pixels, transfer syntaxes, series order, truncation, compressed files, and no patient-identifying value in
 * anything read.
 */
class DicomInputTest {
  @TempDir
  Path dir;

  private static float[] read(Path f) {
    return ImageInput.read(f, ImageInput.Settings.original(), null).stack().plane(0);
  }

  private static float[] expected(int[] stored, double slope, double intercept) {
    float[] e = new float[stored.length];
    for (int i = 0; i < e.length; i++) e[i] = (float) (slope * stored[i] + intercept);
    return e;
  }

  /** The case ImageJ 1.54p cannot open headless ("Cannot open …/v.dcm: null."): 16-bit MR with RescaleSlope 2. */
  @Test
  void rescaleSlopeAndInterceptAreApplied() throws Exception {
    DicomFixtures.Spec s = new DicomFixtures.Spec();
    s.slope = 2.0;
    s.intercept = -100.0;
    Path f = DicomFixtures.write(dir.resolve("v.dcm"), s);
    InputImages in = ImageInput.read(f, ImageInput.Settings.original(), null);
    assertEquals(9, in.stack().width);
    assertEquals(6, in.stack().height);
    assertArrayEquals(expected(s.stored(), 2, -100), in.stack().plane(0), 0f);
    assertEquals(1, in.summary().rescaled);
    assertTrue(in.notes().get(0).conversions().contains("rescaled: 2 * v + -100"), in.notes().get(0).describe());
  }

  @Test
  void monochrome1IsInvertedBeforeRescale() throws Exception {
    DicomFixtures.Spec s = new DicomFixtures.Spec();
    s.photometric = "MONOCHROME1";
    s.bitsStored = 12;
    s.slope = 0.5;
    Path f = DicomFixtures.write(dir.resolve("m1.dcm"), s);
    int[] v = s.stored();
    int[] inverted = new int[v.length];
    for (int i = 0; i < v.length; i++) inverted[i] = 4095 - v[i];
    InputImages in = ImageInput.read(f, ImageInput.Settings.original(), null);
    assertArrayEquals(expected(inverted, 0.5, 0), in.stack().plane(0), 0f);
    assertEquals(1, in.summary().inverted);

    DicomFixtures.Spec signed = new DicomFixtures.Spec();
    signed.photometric = "MONOCHROME1";
    signed.signed = true;
    Path g = DicomFixtures.write(dir.resolve("m1s.dcm"), signed);
    int[] sv = signed.stored();
    int[] si = new int[sv.length];
    for (int i = 0; i < sv.length; i++) si[i] = -1 - sv[i];
    assertArrayEquals(expected(si, 1, 0), read(g), 0f);
  }

  @Test
  void signedAndUnsignedIn8And16BitsInEveryTransferSyntax() throws Exception {
    for (String syntax : new String[] {"implicit", "explicit", "big"}) {
      for (int bits : new int[] {8, 16}) {
        for (boolean signed : new boolean[] {false, true}) {
          DicomFixtures.Spec s = new DicomFixtures.Spec();
          s.syntax = syntax;
          s.bitsAllocated = bits;
          s.bitsStored = bits;
          s.signed = signed;
          Path f = DicomFixtures.write(dir.resolve(syntax + bits + signed + ".dcm"), s);
          assertArrayEquals(expected(s.stored(), 1, 0), read(f), 0f, syntax + " " + bits + " signed=" + signed);
        }
      }
    }
  }

  /** ImageJ's own DICOM reader as an independent decoder, where it works headless (slope 1). */
  @Test
  void agreesWithImageJsDicomReaderOnTheImageJPath() throws Exception {
    DicomFixtures.Spec signed = new DicomFixtures.Spec();
    signed.signed = true;
    DicomFixtures.Spec m1 = new DicomFixtures.Spec();
    m1.photometric = "MONOCHROME1";
    m1.bitsStored = 12;
    DicomFixtures.Spec plain = new DicomFixtures.Spec();
    plain.intercept = -1024.0;
    int i = 0;
    for (DicomFixtures.Spec s : new DicomFixtures.Spec[] {signed, m1, plain}) {
      Path f = DicomFixtures.write(dir.resolve("ij" + i++ + ".dcm"), s);
      ImagePlus imp = new Opener().openImage(f.toString());
      float[] viaImageJ = ImageInput.of(imp, "open", ImageInput.Settings.original()).stack().plane(0);
      assertArrayEquals(read(f), viaImageJ, 0f, f.toString());
    }
  }

  @Test
  void multiFrameFilesGiveOnePlanePerFrame() throws Exception {
    DicomFixtures.Spec s = new DicomFixtures.Spec();
    s.frames = 3;
    Path f = DicomFixtures.write(dir.resolve("mf.dcm"), s);
    InputImages in = ImageInput.read(f, ImageInput.Settings.original(), null);
    assertEquals(3, in.stack().planeCount());
    int[] v = s.stored();
    for (int k = 0; k < 3; k++) assertEquals(v[k * 54 + 5], in.stack().plane(k)[5], 0f);
    assertEquals("mf.dcm frame 3", in.stack().label(2));
  }

  @Test
  void seriesFolderIsOrderedByInstanceNumberNotFileName() throws Exception {
    Path series = dir.resolve("series");
    List<Path> files = DicomFixtures.series(series, 5, 42);
    InputImages in = ImageInput.read(series, ImageInput.Settings.original(), null);
    assertEquals(5, in.stack().planeCount());
    for (int k = 0; k < 5; k++) {
      assertEquals(100f * (k + 1), in.stack().plane(k)[0], 0f, "slice " + k + " " + in.stack().label(k));
    }
    assertEquals("IM0919", in.stack().label(0)); // instance 1; sorts last by name
    assertEquals(5, files.size());
    assertEquals(1, in.summary().series.size());
    String uids = DicomFixtures.STUDY_UID + "/" + DicomFixtures.SERIES_UID;
    byte[] d = MessageDigest.getInstance("SHA-256").digest(uids.getBytes(StandardCharsets.US_ASCII));
    StringBuilder hex = new StringBuilder();
    for (byte b : d) hex.append(String.format("%02x", b));
    assertEquals(hex.substring(0, 16), in.summary().series.get(0));
  }

  /** Without instance numbers that differ, the position along the slice normal orders the series. */
  @Test
  void positionAlongTheNormalBreaksTies() throws Exception {
    Path series = Files.createDirectories(dir.resolve("pos"));
    double[] z = {5, -3, 1};
    for (int i = 0; i < 3; i++) {
      DicomFixtures.Spec s = new DicomFixtures.Spec();
      s.instance = 1;
      // Oblique orientation: rows along x, columns along (0, cos, sin); the normal is (0, -sin, cos).
      s.orientation = new double[] {1, 0, 0, 0, 0.8, 0.6};
      s.position = new double[] {0, -0.6 * z[i], 0.8 * z[i]};
      s.pixels = new int[54];
      java.util.Arrays.fill(s.pixels, (int) (z[i] + 10));
      DicomFixtures.write(series.resolve("s" + i + ".dcm"), s);
    }
    InputImages in = ImageInput.read(series, ImageInput.Settings.original(), null);
    assertEquals(7f, in.stack().plane(0)[0], 0f);
    assertEquals(11f, in.stack().plane(1)[0], 0f);
    assertEquals(15f, in.stack().plane(2)[0], 0f);
  }

  @Test
  void noIdentifyingValueReachesAnythingRead() throws Exception {
    DicomFixtures.Spec s = new DicomFixtures.Spec();
    s.phi = true;
    Path f = DicomFixtures.write(dir.resolve("phi.dcm"), s);
    // The fixture really carries them (else the test could not fail).
    String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
    for (String v : new String[] {"Phiname^Quentinia", "PHIPID7731", "PHIACC99017", DicomFixtures.STUDY_UID}) {
      assertTrue(bytes.contains(v), v);
    }
    InputImages in = ImageInput.read(f, ImageInput.Settings.size(4, 4), null);
    assertNoPhi(in, "file");
    // A series folder of such files, and a class folder.
    Path cls = Files.createDirectories(dir.resolve("classes/tumour"));
    Files.copy(f, cls.resolve("a.dcm"));
    assertNoPhi(ImageInput.readClasses(dir.resolve("classes"), ImageInput.Settings.size(4, 4), null), "folder");
    // ImageJ's own DICOM reader puts the whole header into the Info property and the slice label.
    ImagePlus imp = new Opener().openImage(f.toString());
    assertTrue(imp.getInfoProperty().contains("Phiname^Quentinia"), "ImageJ keeps the header");
    assertTrue(imp.getStack().getSliceLabel(1).contains("PHIPID7731"), "ImageJ keeps the header in the label");
    InputImages fromImageJ = ImageInput.of(imp, "phi.dcm", ImageInput.Settings.original());
    assertNoPhi(fromImageJ, "an image opened by ImageJ");
    assertEquals("phi.dcm", fromImageJ.stack().label(0));
    DicomFixtures.assertNoPhi(String.join("|", labels(ImageReaders.toFloatStack(imp))), "toFloatStack labels");
    // What the Fiji layer opens from a file carries no Info at all.
    ImagePlus opened = ImageReaders.open(f);
    assertNull(opened.getInfoProperty());
    DicomFixtures.assertNoPhi(opened.getStack().getSliceLabel(1), "slice label");
    DicomFixtures.assertNoPhi(String.valueOf(opened.getProperties()), "properties");
  }

  private static List<String> labels(FloatStack s) {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < s.planeCount(); i++) out.add(String.valueOf(s.label(i)));
    return out;
  }

  private static void assertNoPhi(InputImages in, String where) {
    DicomFixtures.assertNoPhi(String.join("|", labels(in.stack())), where + ": labels");
    for (InputImages.Note n : in.notes()) DicomFixtures.assertNoPhi(n.describe() + n.series(), where + ": note");
    DicomFixtures.assertNoPhi(in.summary().describe(), where + ": summary");
    for (Map.Entry<String, Object> e : in.summary().toMap().entrySet()) {
      DicomFixtures.assertNoPhi(e.getKey() + "=" + e.getValue(), where + ": provenance");
    }
  }

  @Test
  void truncatedDicomIsRefusedNamingTheFile() throws Exception {
    DicomFixtures.Spec s = new DicomFixtures.Spec();
    s.rows = 40;
    s.columns = 60;
    Path f = DicomFixtures.write(dir.resolve("full.dcm"), s);
    byte[] all = Files.readAllBytes(f);
    Path cut = dir.resolve("cut.dcm");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length * 2 / 3));
    UserException e = assertThrows(UserException.class, () -> read(cut));
    assertTrue(e.getMessage().startsWith("Cannot open " + cut + ": the DICOM file is truncated"), e.getMessage());
    Path header = dir.resolve("header.dcm");
    Files.write(header, java.util.Arrays.copyOf(all, 200));
    e = assertThrows(UserException.class, () -> read(header));
    assertTrue(e.getMessage().contains(header + ": the DICOM file is truncated"), e.getMessage());
  }

  /** dcmtk's RLE compression as a second independent writer: refused with the command that decompresses it. */
  @Test
  void compressedDicomIsRefusedWithTheFix() throws Exception {
    Path f = DicomFixtures.write(dir.resolve("plain.dcm"), new DicomFixtures.Spec());
    Path rle = dir.resolve("rle.dcm");
    DicomFixtures.run("dcmcrle", f.toString(), rle.toString());
    UserException e = assertThrows(UserException.class, () -> read(rle));
    assertTrue(e.getMessage().contains("RLE compressed") && e.getMessage().contains("dcmdrle"), e.getMessage());
    Path back = dir.resolve("back.dcm");
    DicomFixtures.run("dcmdrle", rle.toString(), back.toString());
    assertArrayEquals(read(f), read(back), 0f);
  }
}
