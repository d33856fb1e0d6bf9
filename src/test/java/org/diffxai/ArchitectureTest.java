package org.diffxai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layers of docs/architecture.md hold by construction: every import of src/main is checked against what its
 * package may use. Engine-free compute (core, metrics, explain, attribution, trajectory, phantom, guidance) never sees
 * TensorFlow, DJL or ImageJ; only io and the Fiji layer touch ImageJ types; engine code (DJL, TensorFlow) lives in
 * model and tf; the engine layer imports no use case; nothing below the Fiji layer imports it.
 */
class ArchitectureTest {
  private static final Pattern IMPORT = Pattern.compile("^import (?:static )?([\\w.]+)(?:\\.\\*)?;", Pattern.MULTILINE);
  private static final String ROOT = "org.diffxai.";

  /** Forbidden import prefixes per package (first segment after org.diffxai). */
  private static final Map<String, List<String>> FORBIDDEN = new LinkedHashMap<>();

  static {
    List<String> engines = List.of("ai.djl.", "org.tensorflow.", "org.bytedeco.");
    List<String> imagej = List.of("ij.");
    List<String> upper = List.of(ROOT + "run.", ROOT + "fiji.", ROOT + "bench.");
    List<String> compute = concat(engines, imagej, upper, List.of(ROOT + "model.", ROOT + "tf."));
    FORBIDDEN.put("core", concat(compute, List.of(ROOT + "io.", ROOT + "metrics.", ROOT + "explain.",
        ROOT + "trajectory.", ROOT + "phantom.", "org.scijava.")));
    for (String p : List.of("metrics", "explain", "attribution", "trajectory", "phantom", "guidance")) {
      FORBIDDEN.put(p, compute);
    }
    FORBIDDEN.put("io", concat(engines, upper, List.of(ROOT + "model.", ROOT + "tf.", ROOT + "metrics.",
        ROOT + "explain.", ROOT + "trajectory.")));
    FORBIDDEN.put("model", concat(imagej, upper, List.of(ROOT + "tf.", ROOT + "metrics.", ROOT + "explain.",
        ROOT + "trajectory.")));
    FORBIDDEN.put("tf", concat(imagej, upper, List.of(ROOT + "metrics.", ROOT + "explain.", ROOT + "trajectory.")));
    FORBIDDEN.put("run", concat(engines, imagej, List.of(ROOT + "fiji.", ROOT + "bench.")));
    FORBIDDEN.put("bench", concat(imagej, List.of(ROOT + "fiji.")));
  }

  @SafeVarargs
  private static List<String> concat(List<String>... lists) {
    List<String> out = new ArrayList<>();
    for (List<String> l : lists) out.addAll(l);
    return out;
  }

  @Test
  void everyImportRespectsItsLayer() throws IOException {
    Path src = Paths.get("src/main/java/org/diffxai");
    List<String> violations = new ArrayList<>();
    int files = 0;
    try (Stream<Path> s = Files.walk(src)) {
      for (Path f : s.filter(p -> p.toString().endsWith(".java")).collect(Collectors.toList())) {
        files++;
        Path rel = src.relativize(f);
        String pkg = rel.getNameCount() > 1 ? rel.getName(0).toString() : "";
        List<String> forbidden = FORBIDDEN.get(pkg);
        if (pkg.equals("fiji") || pkg.isEmpty()) continue;
        assertTrue(forbidden != null, "package " + pkg + " has no layer in ArchitectureTest; add it there and to"
            + " docs/architecture.md");
        String text = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
        Matcher m = IMPORT.matcher(text);
        while (m.find()) {
          String imp = m.group(1) + ".";
          for (String bad : forbidden) if (imp.startsWith(bad)) violations.add(rel + " imports " + m.group(1));
        }
        // fully qualified use without an import
        for (String bad : forbidden) {
          if (bad.startsWith(ROOT) && text.contains(" " + bad) || bad.equals("ij.") && text.matches("(?s).*[ (]ij\\.[A-Z].*")) {
            violations.add(rel + " uses " + bad + " by its full name");
          }
        }
      }
    }
    assertTrue(files > 100, "found only " + files + " source files; run the test from the project folder");
    assertEquals(List.of(), violations);
  }
}
