package org.diffxai.run;

import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import org.diffxai.Version;

/**
 * The one provenance record every output carries (JSON file, TIFF Info, image properties): what made it and how.
 * It is generated the same way for every command: software, command, date and Java runtime, then every key of the
 * request with its value ({@link RequestKeys}), then what the use case adds — the model's own facts (name, checksum,
 * engine, device, runtime versions; {@link org.diffxai.model.LoadedModel#provenance}) and derived settings.
 */
public final class Provenance {
  private Provenance() {}

  /** The record's head: software, command, date, runtime, and the request's keys as given. */
  public static Map<String, String> of(String command, Object request) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("software", "Diffusion XAI for Fiji " + Version.get());
    m.put("command", command);
    m.put("date", OffsetDateTime.now().toString());
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + " ("
        + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ")");
    RequestKeys keys = RequestKeys.of(request.getClass());
    for (ParameterSpec p : keys.parameters()) m.put(p.name(), p.format(p.get(request)));
    return m;
  }


}
