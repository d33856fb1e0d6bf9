package org.diffxai.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** SHA-256 helpers for bundles; hex digests are lower case, as printed by {@code sha256sum}. */
public final class Checksums {
  private Checksums() {}

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
    }
  }

  public static String hex(byte[] digest) {
    StringBuilder sb = new StringBuilder(digest.length * 2);
    for (byte b : digest) {
      sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    }
    return sb.toString();
  }

  public static String sha256Hex(byte[] data) {
    return hex(sha256().digest(data));
  }

  public static String sha256Hex(Path file) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int r; (r = in.read(buf)) > 0;) md.update(buf, 0, r);
    }
    return hex(md.digest());
  }

  /**
   * Sorted relative paths ({@code /}-separated) of every regular file below {@code dir}; directories are followed,
   * symbolic links to files count as files.
   */
  public static List<String> relativeFiles(Path dir) throws IOException {
    try (Stream<Path> st = Files.walk(dir)) {
      return st.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/')).sorted()
          .collect(Collectors.toList());
    }
  }

  /** SHA-256 of every regular file below {@code dir}, keyed by sorted relative path. */
  public static Map<String, String> fileHashes(Path dir) throws IOException {
    Map<String, String> m = new TreeMap<>();
    for (String rel : relativeFiles(dir)) m.put(rel, sha256Hex(dir.resolve(rel)));
    return m;
  }

  /**
   * The checksum of a whole bundle: the SHA-256 of the {@code sha256sum} listing of all its files, i.e. of the text
   * made of one line {@code <hex>  <relative path>\n} per regular file (model.json included), sorted by path. The
   * same value comes from
   *
   * <pre>
   * cd BUNDLE &amp;&amp; find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum
   * </pre>
   *
   * (for ASCII file names; Java sorts by UTF-16 code unit, {@code LC_ALL=C sort} by byte).
   */
  public static String bundleChecksum(Map<String, String> fileHashes) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : new TreeMap<>(fileHashes).entrySet()) {
      sb.append(e.getValue()).append("  ").append(e.getKey()).append('\n');
    }
    return sha256Hex(sb.toString().getBytes(StandardCharsets.UTF_8));
  }
}
