package org.diffxai.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.io.Opener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.CancelledException;
import org.diffxai.core.UserException;
import org.diffxai.io.StreamingTiffWriter.Compression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OME-TIFF written plane by plane, read back by tifffile (OME-XML parsed), ImageJ 1.54p and Debian's ImageJ. */
class OmeTiffWriterTest {
  static final int W = 5, H = 4, Z = 2, T = 4;
  static final List<String> CHANNELS = List.of("x_t", "x0_pred", "eps_pred");
  static final int C = CHANNELS.size(), N = C * Z * T;
  /** Not ASCII: must survive the ASCII description as character references. */
  static final String MODEL = "x\u0302\u2080 model \u00b5m <&>";

  @TempDir
  Path dir;

  static float value(int plane, int i) {
    return plane * 1000 + i * 0.375f - 7.25f + (plane == 3 && i == 1 ? 1e-30f : 0);
  }

  static float[] plane(int p, int w, int h) {
    float[] px = new float[w * h];
    for (int i = 0; i < px.length; i++) px[i] = value(p, i);
    return px;
  }

  static String label(int p) {
    return "plane " + p;
  }

  static int timestep(int t) {
    return 999 - 333 * t;
  }

  /** A C x Z x T OME-TIFF with step annotations, provenance, physical size and info. */
  static OmeTiffWriter configure(OmeTiffWriter w) {
    w.imageName("Trajectory");
    assertTrue(w.physicalSize(0.5, 0.25, "mm"));
    Map<String, String> prov = new LinkedHashMap<>();
    prov.put("seed", "7");
    prov.put("model", MODEL);
    w.imageAnnotation("org.diffxai/provenance", prov);
    for (int t = 0; t < T; t++) w.timeAnnotation(t, "org.diffxai/trajectory/step", Map.of("timestep", "" + timestep(t)));
    w.info("made by a test");
    return w;
  }

  Path write(String name, Compression compression, int w, int h) {
    Path f = dir.resolve(name);
    try (OmeTiffWriter wr = configure(new OmeTiffWriter(f, w, h, CHANNELS, Z, T, compression))) {
      for (int p = 0; p < N; p++) wr.writePlane(plane(p, w, h), label(p));
    }
    return f;
  }

  Path expected(int w, int h) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(N * w * h * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int p = 0; p < N; p++) for (float v : plane(p, w, h)) b.putFloat(v);
    Path e = dir.resolve("expected-" + w + "x" + h + ".f32");
    Files.write(e, b.array());
    return e;
  }

  static final String READ_OME = String.join("\n",
      "import sys, tifffile, numpy as np, xml.etree.ElementTree as ET",
      "ns = {'o': 'http://www.openmicroscopy.org/Schemas/OME/2016-06'}",
      "with tifffile.TiffFile(sys.argv[1]) as tf:",
      "    s = tf.series[0]",
      "    a = s.asarray()",
      "    print(tf.is_ome, tf.is_bigtiff, s.axes, ','.join(map(str, a.shape)), a.dtype, len(tf.pages),",
      "          tf.pages[0].compression.name)",
      "    e = np.fromfile(sys.argv[2], '<f4').reshape(a.shape)",
      "    print(np.array_equal(a.view('<u4'), e.view('<u4')))",
      "    root = ET.fromstring(tf.ome_metadata)",
      "    px = root.find('o:Image/o:Pixels', ns)",
      "    print(root.find('o:Image', ns).get('Name'), px.get('DimensionOrder'), px.get('Type'), px.get('SizeC'),",
      "          px.get('SizeZ'), px.get('SizeT'), px.get('PhysicalSizeX'), px.get('PhysicalSizeY'),",
      "          px.get('PhysicalSizeXUnit'))",
      "    print(','.join(c.get('Name') for c in px.findall('o:Channel', ns)))",
      "    td = px.findall('o:TiffData', ns)",
      "    print(len(td), td[0].get('IFD'), td[0].get('PlaneCount'))",
      "    maps = {m.get('ID'): {x.get('K'): x.text for x in m.findall('o:Value/o:M', ns)}",
      "            for m in root.findall('o:StructuredAnnotations/o:MapAnnotation', ns)}",
      "    planes = px.findall('o:Plane', ns)",
      "    print(len(planes))",
      "    print(';'.join(p.get('TheC') + p.get('TheZ') + p.get('TheT') + '='",
      "                   + maps[p.find('o:AnnotationRef', ns).get('ID')]['timestep'] for p in planes))",
      "    prov = maps[root.find('o:Image/o:AnnotationRef', ns).get('ID')]",
      "    print(prov['seed'], prov['model'].encode('utf-8').hex())");

  /** The Plane list tifffile should see: C fastest, then Z, then T, each with its time point's timestep. */
  static String expectedPlanes() {
    StringBuilder sb = new StringBuilder();
    for (int t = 0; t < T; t++) {
      for (int z = 0; z < Z; z++) {
        for (int c = 0; c < C; c++) sb.append(sb.length() == 0 ? "" : ";").append(c).append(z).append(t).append('=')
            .append(timestep(t));
      }
    }
    return sb.toString();
  }

  void assertTifffileReads(Path f, Path expected, boolean big, String compression) throws Exception {
    List<String> out = External.python(READ_OME, f.toString(), expected.toString());
    assertEquals("True " + (big ? "True" : "False") + " TZCYX " + T + "," + Z + "," + C + "," + H + "," + W
        + " float32 " + N + " " + compression, out.get(0));
    assertEquals("True", out.get(1), "pixel values differ");
    assertEquals("Trajectory XYCZT float 3 2 4 0.5 0.25 mm", out.get(2));
    assertEquals("x_t,x0_pred,eps_pred", out.get(3));
    assertEquals("1 0 " + N, out.get(4));
    assertEquals(String.valueOf(N), out.get(5));
    assertEquals(expectedPlanes(), out.get(6));
    assertEquals("7 " + hex(MODEL), out.get(7));
  }

  static String hex(String s) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) sb.append(String.format("%02x", b));
    return sb.toString();
  }

  @Test
  void tifffileReadsOmeAxesChannelsPlaneTimestepsAndExactValues() throws Exception {
    External.assumeTifffile();
    Path f = write("t.ome.tif", Compression.NONE, W, H);
    assertTifffileReads(f, expected(W, H), false, "NONE");
  }

  /** The OME-XML in the file validates against the OME 2016-06 schema shipped in ome-model's specification jar. */
  @Test
  void omeXmlIsValidAgainstTheOmeSchema() throws Exception {
    Path f = write("v.ome.tif", Compression.NONE, W, H);
    String xml = ImageReaders.openVirtual(f).getOriginalFileInfo().description;
    javax.xml.validation.SchemaFactory sf =
        javax.xml.validation.SchemaFactory.newInstance(javax.xml.XMLConstants.W3C_XML_SCHEMA_NS_URI);
    org.w3c.dom.ls.DOMImplementationLS ls = (org.w3c.dom.ls.DOMImplementationLS)
        org.w3c.dom.bootstrap.DOMImplementationRegistry.newInstance().getDOMImplementation("LS");
    sf.setResourceResolver((type, ns, publicId, systemId, base) -> {
      // ome.xsd imports the XML namespace schema from w3.org but uses none of it: an empty one, offline
      org.w3c.dom.ls.LSInput in = ls.createLSInput();
      in.setStringData("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema' targetNamespace='" + ns + "'/>");
      in.setSystemId(systemId);
      return in;
    });
    java.net.URL xsd = getClass().getClassLoader().getResource("released-schema/2016-06/ome.xsd");
    assertTrue(xsd != null, "ome.xsd of org.openmicroscopy:specification is on the class path");
    sf.newSchema(xsd).newValidator().validate(new javax.xml.transform.stream.StreamSource(
        new java.io.StringReader(xml))); // throws SAXException naming the first violation
  }

  @Test
  void deflateIsLosslessAndSmallerForCompressibleData() throws Exception {
    External.assumeTifffile();
    int w = 64, h = 64;
    Path raw = write("raw.ome.tif", Compression.NONE, w, h);
    Path zip = write("zip.ome.tif", Compression.DEFLATE, w, h);
    assertTrue(Files.size(zip) < Files.size(raw) / 2, Files.size(zip) + " vs " + Files.size(raw));
    List<String> out = External.python(READ_OME, zip.toString(), expected(w, h).toString());
    assertTrue(out.get(0).startsWith("True False TZCYX 4,2,3,64,64 float32 24 ADOBE_DEFLATE"), out.get(0));
    assertEquals("True", out.get(1), "pixel values differ");
    ImagePlus imp = new Opener().openImage(zip.toString());
    for (int p = 0; p < N; p++) assertArrayEquals(plane(p, w, h), (float[]) imp.getStack().getPixels(p + 1), 0f);
  }

  @Test
  void bigTiffBeyondTheClassicLimit() throws Exception {
    External.assumeTifffile();
    Path f = dir.resolve("big.ome.tif");
    // A classic TIFF limit of 200 bytes makes this small file a BigTIFF, exactly as 4 GiB would.
    StreamingTiffWriter tiff = StreamingTiffWriter.plain(f, W, H, N, Compression.NONE, StreamingTiffWriter.FILES, 200);
    try (OmeTiffWriter w = configure(new OmeTiffWriter(tiff, CHANNELS, Z, T))) {
      for (int p = 0; p < N; p++) w.writePlane(plane(p, W, H), label(p));
      w.close();
      assertTrue(w.isBigTiff());
    }
    assertTifffileReads(f, expected(W, H), true, "NONE");
    String info = External.run(Arrays.asList("/usr/bin/tiffinfo", f.toString()));
    assertEquals(N, info.split("TIFF Directory at offset", -1).length - 1);
  }

  @Test
  void imageJ154OpensAllPlanesWithLabelsAndInfo() {
    Path f = write("ij.ome.tif", Compression.NONE, W, H);
    ImagePlus imp = new Opener().openImage(f.toString());
    assertEquals(32, imp.getBitDepth());
    assertEquals(N, imp.getStackSize());
    for (int p = 0; p < N; p++) {
      assertArrayEquals(plane(p, W, H), (float[]) imp.getStack().getPixels(p + 1), 0f);
      assertEquals(label(p), imp.getStack().getSliceLabel(p + 1));
    }
    assertEquals("made by a test", imp.getInfoProperty());
  }

  /** The older ImageJ opens every plane exactly; it applies ImageJ's metadata tags only to ImageJ's own TIFFs. */
  @Test
  void debianImageJOpensTheOmeTiff() throws Exception {
    Path f = write("d.ome.tif", Compression.DEFLATE, W, H);
    Map<String, String> r = External.debianImageJ(f);
    assertEquals("32", r.get("bitDepth"), r.toString());
    assertEquals(W + " " + H + " 1 " + N + " 1", r.get("dims"));
    for (int p = 0; p < N; p++) {
      String[] bits = r.get("bits" + (p + 1)).split(",");
      for (int i = 0; i < bits.length; i++) {
        assertEquals(Float.floatToRawIntBits(value(p, i)), Integer.parseUnsignedInt(bits[i], 16), "plane " + p);
      }
    }
  }

  @Test
  void asciiEscapesNonAsciiAsCharacterReferences() {
    assertEquals("a&#x302;&#xB5;&#x1F600;<b>", OmeTiffWriter.ascii("a\u0302\u00b5\ud83d\ude00<b>"));
  }

  @Test
  void cancelInsideTryWithResourcesLeavesNoFile() throws IOException {
    Path f = dir.resolve("c.ome.tif");
    assertThrows(CancelledException.class, () -> {
      try (OmeTiffWriter w = new OmeTiffWriter(f, W, H, CHANNELS, Z, T, Compression.DEFLATE)) {
        w.writePlane(plane(0, W, H), null);
        throw new CancelledException();
      }
    });
    assertEquals(List.of(), listing(dir));
  }

  @Test
  void metadataAfterTheFirstPlaneIsAProgrammingError() {
    OmeTiffWriter w = new OmeTiffWriter(dir.resolve("m.ome.tif"), W, H, CHANNELS, Z, T, Compression.NONE);
    w.writePlane(plane(0, W, H), null);
    assertThrows(IllegalStateException.class, () -> w.timeAnnotation(0, "ns", Map.of("k", "v")));
    w.abort();
  }

  @Test
  void fullDiskWhileWritingPlanesOrDirectoriesGivesOneMessageAndNoFile() throws IOException {
    long planesEnd = 16 + (long) N * W * H * 4;
    for (long limit : new long[] {1000, planesEnd + 100}) { // in the planes; in the directories written by close()
      Path f = dir.resolve("full-" + limit + ".ome.tif");
      StreamingTiffWriter tiff =
          StreamingTiffWriter.plain(f, W, H, N, Compression.NONE, LimitedChannel.opener(limit), Long.MAX_VALUE);
      OmeTiffWriter w = configure(new OmeTiffWriter(tiff, CHANNELS, Z, T));
      UserException e = assertThrows(UserException.class, () -> {
        for (int p = 0; p < N; p++) w.writePlane(plane(p, W, H), label(p));
        w.close();
      });
      assertTrue(e.getMessage().startsWith("Cannot write to " + f.toAbsolutePath() + ": no space left on device. Free "
          + "some disk space"), e.getMessage());
      assertEquals(List.of(), listing(dir), "limit " + limit);
      w.close(); // nothing left to do after the failure
    }
  }

  /** A real full file system: a 1 MB tmpfs (needs root; skipped where mounting is not allowed). */
  @Test
  void fullTmpfsGivesOneMessageAndNoFile() throws Exception {
    Path mnt = dir.resolve("tmpfs");
    try (External.Mount m = External.tmpfs(mnt, "1m")) {
      Path f = mnt.resolve("out").resolve("t.ome.tif");
      int w = 256, h = 256; // 256 KB per plane: the fifth plane does not fit
      UserException e = assertThrows(UserException.class, () -> {
        try (OmeTiffWriter wr = new OmeTiffWriter(f, w, h, CHANNELS, 2, 1, Compression.NONE)) {
          for (int p = 0; p < 6; p++) wr.writePlane(plane(p, w, h), null);
        }
      });
      assertTrue(e.getMessage().contains("no space left on device"), e.getMessage());
      assertEquals(List.of(), listing(f.getParent()));
    }
  }

  @Test
  void unwritableOutputIsOneClearMessage() throws IOException {
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    UserException e = assertThrows(UserException.class,
        () -> new OmeTiffWriter(file.resolve("t.ome.tif"), W, H, CHANNELS, Z, T, Compression.NONE));
    assertTrue(e.getMessage().contains("is a file, not a folder"), e.getMessage());
    assertFalse(Files.exists(file.resolveSibling("t.ome.tif")));
  }

  static List<String> listing(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("expected")).sorted()
          .collect(Collectors.toList());
    }
  }
}
