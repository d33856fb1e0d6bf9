package org.diffxai.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Writes DICOM test files with an independent writer, Debian's python3-pydicom ({@code /usr/bin/python3},
 * src/test/resources/org/diffxai/io/write_dicom.py), and checks that no patient-identifying value leaks. Reusable by
 * any test, e.g. a whole-command check: write {@link #phi} files, run the command, then {@link #assertNoPhi} on every
 * file it wrote.
 *
 * <p>{@link #PHI} holds the identifying attributes of DICOM PS3.15 Annex E (Basic Application Level Confidentiality
 * Profile) that a scanner commonly fills, each set to a distinctive value; {@link #phiValues()} adds the study, series,
 * instance and frame-of-reference UIDs, which are identifying too.
 */
public final class DicomFixtures {
  /** Keyword → distinctive value; PN values use '^' as DICOM does. */
  public static final Map<String, String> PHI;

  static {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("PatientName", "Phiname^Quentinia");
    m.put("PatientID", "PHIPID7731");
    m.put("PatientBirthDate", "19230517");
    m.put("PatientBirthTime", "071122");
    m.put("PatientSex", "O");
    m.put("PatientAge", "097Y");
    m.put("PatientAddress", "PHIADDR 12 Zyxwv Lane");
    m.put("PatientTelephoneNumbers", "PHITEL 5550199");
    m.put("OtherPatientIDs", "PHIOTHERID884");
    m.put("OtherPatientNames", "Phiother^Aurelio");
    m.put("PatientMotherBirthName", "Phimother^Ysolde");
    m.put("EthnicGroup", "PHIETHNIC");
    m.put("Occupation", "PHIOCCUPATION");
    m.put("AdditionalPatientHistory", "PHIHISTORY tumour 2019");
    m.put("PatientComments", "PHICOMMENT allergic");
    m.put("AccessionNumber", "PHIACC99017");
    m.put("InstitutionName", "PHIINSTITUTION General Hospital");
    m.put("InstitutionAddress", "PHIINSTADDR 3 Qwerty Road");
    m.put("InstitutionalDepartmentName", "PHIDEPARTMENT Neuroradiology");
    m.put("ReferringPhysicianName", "Phireferrer^Bartholomea");
    m.put("ReferringPhysicianAddress", "PHIREFADDR 7 Vbnm Street");
    m.put("PerformingPhysicianName", "Phiperformer^Casimiro");
    m.put("NameOfPhysiciansReadingStudy", "Phireader^Dorotea");
    m.put("OperatorsName", "Phioperator^Evandro");
    m.put("PhysiciansOfRecord", "Phirecord^Filomena");
    m.put("RequestingPhysician", "Phirequester^Gaspare");
    m.put("StationName", "PHISTATION01");
    m.put("StudyID", "PHISTUDY42");
    m.put("StudyDescription", "PHISTUDYDESC brain tumour follow-up");
    m.put("SeriesDescription", "PHISERIESDESC t1 post");
    m.put("DeviceSerialNumber", "PHISERIAL5521");
    m.put("StudyDate", "20190311");
    m.put("SeriesDate", "20190312");
    m.put("AcquisitionDate", "20190313");
    m.put("ContentDate", "20190314");
    m.put("StudyTime", "101112");
    m.put("ImageComments", "PHIIMAGECOMMENT left frontal");
    PHI = Collections.unmodifiableMap(m);
  }

  static final String STUDY_UID = "1.2.826.0.1.3680043.99.7731.1";
  static final String SERIES_UID = "1.2.826.0.1.3680043.99.7731.2";
  static final String FRAME_OF_REFERENCE_UID = "1.2.826.0.1.3680043.99.7731.3";
  static final String SOP_UID_PREFIX = "1.2.826.0.1.3680043.99.7731.4.";

  private DicomFixtures() {}

  /** What to write; fields follow the DICOM attributes. */
  public static final class Spec {
    public int rows = 6;
    public int columns = 9;
    public int frames = 1;
    /** MONOCHROME1, MONOCHROME2 or RGB. */
    public String photometric = "MONOCHROME2";
    public int bitsAllocated = 16;
    public int bitsStored = 16;
    public boolean signed;
    public Double slope;
    public Double intercept;
    public int instance = 1;
    public double[] position = {0, 0, 0};
    public double[] orientation = {1, 0, 0, 0, 1, 0};
    /** implicit, explicit (little endian) or big (explicit big endian). */
    public String syntax = "explicit";
    public boolean phi;
    public String series = SERIES_UID;
    /** Stored values, frames × rows × columns (× 3 for RGB, interleaved); null = a ramp. */
    public int[] pixels;

    /** The stored values this spec writes (the given ones, or the ramp). */
    public int[] stored() {
      if (pixels != null) return pixels;
      int n = frames * rows * columns * (photometric.equals("RGB") ? 3 : 1);
      int[] v = new int[n];
      int max = signed ? (1 << (bitsStored - 1)) - 1 : (1 << bitsStored) - 1;
      int min = signed ? -(1 << (bitsStored - 1)) : 0;
      for (int i = 0; i < n; i++) v[i] = (int) (min + (long) (max - min) * i / Math.max(1, n - 1));
      return v;
    }
  }

  /**
   * Writes {@code spec} to {@code file} with pydicom.
   *
   * @throws IllegalStateException when /usr/bin/python3 with pydicom is missing (the test fails, it is not skipped)
   */
  public static Path write(Path file, Spec spec) throws IOException {
    Path dir = Files.createTempDirectory(file.getParent(), ".dicomspec");
    try {
      Path script = dir.resolve("write_dicom.py");
      try (InputStream in = DicomFixtures.class.getResourceAsStream("write_dicom.py")) {
        Files.copy(in, script);
      }
      int[] px = spec.stored();
      ByteBuffer b = ByteBuffer.allocate(px.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int v : px) b.putInt(v);
      Path raw = dir.resolve("pixels.raw");
      Files.write(raw, b.array());
      StringBuilder js = new StringBuilder("{");
      field(js, "rows", spec.rows).append(',');
      field(js, "columns", spec.columns).append(',');
      field(js, "frames", spec.frames).append(',');
      field(js, "photometric", spec.photometric).append(',');
      field(js, "bits_allocated", spec.bitsAllocated).append(',');
      field(js, "bits_stored", spec.bitsStored).append(',');
      js.append("\"signed\":").append(spec.signed).append(',');
      js.append("\"slope\":").append(spec.slope == null ? "null" : num(spec.slope)).append(',');
      js.append("\"intercept\":").append(spec.intercept == null ? "null" : num(spec.intercept)).append(',');
      field(js, "instance", spec.instance).append(',');
      js.append("\"position\":").append(array(spec.position)).append(',');
      js.append("\"orientation\":").append(array(spec.orientation)).append(',');
      field(js, "syntax", spec.syntax).append(',');
      field(js, "study", STUDY_UID).append(',');
      field(js, "series", spec.series).append(',');
      field(js, "frame_of_reference", FRAME_OF_REFERENCE_UID).append(',');
      field(js, "sop", SOP_UID_PREFIX + spec.instance).append(',');
      field(js, "pixels", raw.toString());
      if (spec.phi) {
        js.append(",\"phi\":{");
        boolean first = true;
        for (Map.Entry<String, String> e : PHI.entrySet()) {
          if (!first) js.append(',');
          first = false;
          field(js, e.getKey(), e.getValue());
        }
        js.append('}');
      }
      js.append('}');
      Path json = dir.resolve("spec.json");
      Files.write(json, js.toString().getBytes(StandardCharsets.UTF_8));
      run("/usr/bin/python3", script.toString(), json.toString(), file.toString());
      return file;
    } finally {
      AtomicFiles.deleteRecursively(dir);
    }
  }

  /** A series of {@code slices} files (instance k at z = 2.5·k mm), written in shuffled order under shuffled names. */
  public static List<Path> series(Path dir, int slices, long seed) throws IOException {
    Files.createDirectories(dir);
    List<Integer> order = new ArrayList<>();
    for (int k = 1; k <= slices; k++) order.add(k);
    Collections.shuffle(order, new Random(seed));
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < slices; i++) {
      int k = order.get(i);
      Spec s = new Spec();
      s.instance = k;
      s.position = new double[] {-10, 20, 2.5 * k};
      s.pixels = new int[s.rows * s.columns];
      java.util.Arrays.fill(s.pixels, 100 * k);
      // File names sort differently from the instance order.
      files.add(write(dir.resolve(String.format(Locale.ROOT, "IM%04d", (k * 7919) % 1000)), s));
    }
    return files;
  }

  /** All identifying strings a leak would show: the {@link #PHI} values, their PN parts, and the UIDs. */
  public static List<String> phiValues() {
    List<String> out = new ArrayList<>();
    for (String v : PHI.values()) {
      if (v.length() < 4) continue; // PatientSex "O" is too short to search for
      out.add(v);
      if (v.contains("^")) {
        for (String part : v.split("\\^")) out.add(part);
      }
    }
    out.add(STUDY_UID);
    out.add(SERIES_UID);
    out.add(FRAME_OF_REFERENCE_UID);
    out.add(SOP_UID_PREFIX);
    return out;
  }

  /** Fails when {@code text} holds any identifying value (case-insensitive), naming it and where. */
  public static void assertNoPhi(String text, String where) {
    if (text == null) return;
    String t = text.toLowerCase(Locale.ROOT);
    for (String v : phiValues()) {
      assertFalse(t.contains(v.toLowerCase(Locale.ROOT)), "identifying value '" + v + "' appears in " + where);
    }
  }

  /** Fails when any file below {@code dir} holds an identifying value (read as ISO-8859-1 text). */
  public static void assertNoPhiInFiles(Path dir) throws IOException {
    try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
      for (Path f : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
        assertNoPhi(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1), f.toString());
      }
    }
  }

  private static StringBuilder field(StringBuilder sb, String k, Object v) {
    sb.append('"').append(k).append("\":");
    if (v instanceof Number) sb.append(v);
    else sb.append('"').append(v.toString().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
    return sb;
  }

  private static String num(double d) {
    return Double.toString(d);
  }

  private static String array(double[] v) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ",").append(v[i]);
    return sb.append(']').toString();
  }

  static void run(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + String.join(" ", cmd));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    assertEquals(0, p.exitValue(), "command failed (is python3-pydicom installed? .ci/run installs it): "
        + String.join(" ", cmd) + "\n" + out);
  }
}
