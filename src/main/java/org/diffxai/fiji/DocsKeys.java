package org.diffxai.fiji;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diffxai.io.AtomicFiles;
import org.diffxai.run.ParameterSpec;

/**
 * The generated parts of the per-command documentation pages ({@code docs/commands/<command>.md}), made from the
 * parameter model so they cannot drift from the code. A page holds a generated head (title, description, the macro
 * line with the defaults), hand-written sections and, between the markers {@link #BEGIN} and {@link #END}, the table
 * of its command's keys (key, default, allowed values, description).
 *
 * <pre>
 * java -cp target/classes:&lt;dependencies&gt; org.diffxai.fiji.DocsKeys docs/commands    # rewrite the tables
 * mvn -q test -Dtest=DocsKeysTest -Ddiffxai.updateDocs=true                          # the same through Maven
 * </pre>
 *
 * A command of plugins.config without a page gets a new page with the table and empty sections to fill in.
 */
public final class DocsKeys {
  public static final String BEGIN = "<!-- keys: generated from the code by org.diffxai.fiji.DocsKeys; edit the"
      + " @Parameter descriptions, not this table -->";
  public static final String END = "<!-- /keys -->";

  private static final Pattern CONFIG_LINE = Pattern.compile(
      "^\\s*Plugins>[^,]*,\\s*\"([^\"]+)\",\\s*org\\.diffxai\\.fiji\\.CommandBridge\\(\"([A-Za-z0-9_.$]+)\"\\)\\s*$");

  private DocsKeys() {}

  /** Rewrites the tables of the pages in the folder given (default docs/commands), creating missing pages. */
  public static void main(String[] args) throws IOException {
    Path dir = Paths.get(args.length > 0 ? args[0] : "docs/commands");
    for (String change : write(dir, DocsKeys.class.getClassLoader())) System.out.println(change);
  }

  /** The page file name of a command: its label in lower case with dashes, e.g. explain-with-prototypes.md. */
  public static String fileName(CommandSpec spec) {
    return spec.label().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "") + ".md";
  }

  /** Menu label → command class name of every plugins.config line, in menu order. */
  public static Map<String, String> menuCommands(ClassLoader loader) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    try (InputStream in = loader.getResourceAsStream("plugins.config")) {
      if (in == null) throw new IOException("plugins.config is not on the class path");
      String text = new String(readAll(in), StandardCharsets.UTF_8);
      for (String line : text.split("\r?\n")) {
        Matcher m = CONFIG_LINE.matcher(line);
        if (m.matches()) out.put(m.group(1), m.group(2));
      }
    }
    return out;
  }

  /** The Markdown table of a command's keys, between the markers. */
  public static String table(CommandSpec spec) {
    StringBuilder sb = new StringBuilder(BEGIN).append("\n\n");
    sb.append("| key | default | allowed values | description |\n|---|---|---|---|\n");
    for (ParameterSpec p : spec.parameters()) {
      boolean flag = p.kind() == ParameterSpec.Kind.BOOLEAN;
      String def = flag ? "off" : "`" + MacroOptions.quote(p.format(p.defaultValue())) + "`";
      String allowed = flag ? "flag: give `" + p.name() + "` to switch it on" : allowed(p);
      sb.append("| `").append(p.name()).append("` | ").append(def).append(" | ").append(cell(allowed)).append(" | ")
          .append(cell(p.description())).append(" |\n");
    }
    return sb.append('\n').append(END).toString();
  }

  /** What a key accepts, in words: its choices or range, or what its style says a text names. */
  static String allowed(ParameterSpec p) {
    String style = p.style().toLowerCase(Locale.ROOT);
    if (p.kind() != ParameterSpec.Kind.STRING || !p.choices().isEmpty() || style.isEmpty()) return p.expected();
    if (style.startsWith("image")) {
      return "an open image's title or an image file" + (style.contains("directory") ? " or folder" : "");
    }
    if (style.startsWith("model:")) {
      List<String> samples = CommandDialog.bundledSamples(style);
      return "a bundle folder" + (samples.isEmpty() ? "" : " or a bundled one: " + String.join(", ", samples));
    }
    if (style.equals("directory")) return "a folder";
    if (style.equals("save")) return "a file to write";
    if (style.equals("file")) return "a file";
    return p.expected();
  }

  private static String cell(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }

  /**
   * The page with its generated parts replaced by the current ones: the head (everything before the first {@code ##}
   * section: title, description, the macro line with the defaults) and the key table.
   */
  public static String update(String page, CommandSpec spec) {
    int b = page.indexOf(BEGIN);
    int e = page.indexOf(END);
    if (b < 0 || e < b) throw new IllegalArgumentException("no key table markers (" + BEGIN + " ... " + END + ")");
    int h = page.indexOf("\n## ");
    if (h < 0 || h > b) throw new IllegalArgumentException("no '## ' section before the key table");
    return head(spec) + page.substring(h + 1, b) + table(spec) + page.substring(e + END.length());
  }

  /** Title, description and the macro line with every default. */
  static String head(CommandSpec spec) {
    return "# " + spec.label() + "\n\n" + spec.description() + "\n\n"
        + "Menu: **Plugins › Diffusion XAI › " + spec.label() + "**. Macro:\n\n```\nrun(\"" + spec.label() + "\", \""
        + MacroOptions.format(spec, spec.defaults()) + "\");\n```\n\n";
  }

  /** A new page: the head, the table and the hand-written sections to fill in. */
  public static String newPage(CommandSpec spec) {
    return head(spec) + "## What it does\n\n\n## Keys\n\n" + table(spec) + "\n\n## Outputs\n\n\n## Examples\n\n";
  }

  /**
   * The pages that differ from the code: missing pages, pages without markers, stale tables.
   *
   * @return one line per problem, empty when every page is current
   */
  public static List<String> check(Path dir, ClassLoader loader) throws IOException {
    List<String> problems = new ArrayList<>();
    for (CommandSpec spec : specs(loader)) {
      Path page = dir.resolve(fileName(spec));
      if (!Files.isRegularFile(page)) {
        problems.add(page + ": missing (the page of " + spec.label() + ")");
        continue;
      }
      String text = new String(Files.readAllBytes(page), StandardCharsets.UTF_8);
      try {
        if (!update(text, spec).equals(text)) problems.add(page + ": the head or key table differs from the code");
      } catch (IllegalArgumentException e) {
        problems.add(page + ": " + e.getMessage());
      }
    }
    return problems;
  }

  /** Rewrites every table (and creates missing pages); returns what changed. */
  public static List<String> write(Path dir, ClassLoader loader) throws IOException {
    Files.createDirectories(dir);
    List<String> changes = new ArrayList<>();
    for (CommandSpec spec : specs(loader)) {
      Path page = dir.resolve(fileName(spec));
      String old = Files.isRegularFile(page) ? new String(Files.readAllBytes(page), StandardCharsets.UTF_8) : null;
      String now = old == null ? newPage(spec) : update(old, spec);
      if (now.equals(old)) continue;
      AtomicFiles.writeFile(page, tmp -> Files.write(tmp, now.getBytes(StandardCharsets.UTF_8)));
      changes.add((old == null ? "created " : "updated ") + page);
    }
    return changes;
  }

  private static List<CommandSpec> specs(ClassLoader loader) throws IOException {
    List<CommandSpec> out = new ArrayList<>();
    for (String cls : menuCommands(loader).values()) out.add(CommandSpec.of(Commands.load(cls, loader)));
    return out;
  }

  private static byte[] readAll(InputStream in) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] b = new byte[8192];
    for (int r; (r = in.read(b)) > 0; ) out.write(b, 0, r);
    return out.toByteArray();
  }
}
