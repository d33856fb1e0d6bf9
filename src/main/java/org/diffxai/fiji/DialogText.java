package org.diffxai.fiji;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diffxai.run.ParameterSpec;

/**
 * Texts of the dialogs: error messages rephrased for a person at a dialog, and the Help page. Messages are written
 * for macros and the command line ({@code "Use model=sample"}); in a dialog the same message names fields instead
 * ({@code "Type 'sample' in the model field"}). Only the command's own keys are rewritten, so other text with "=" is
 * left alone.
 */
final class DialogText {

  /** Resource folder of the per-command documentation pages (docs/commands/ in the source tree). */
  static final String DOCS = "org/diffxai/docs/commands/";

  private DialogText() {}

  /**
   * The message as a dialog user should read it: {@code key=value} mentions of the command's keys become field
   * instructions ("type 'value' in the key field", "clear the key field", "tick key").
   */
  static String forDialog(String message, CommandSpec spec) {
    if (message == null) return "";
    String s = message;
    for (ParameterSpec p : spec.parameters()) s = rewrite(s, p);
    return s;
  }

  private static String rewrite(String s, ParameterSpec p) {
    Pattern pattern = Pattern.compile("(?<![\\w./-])(?:((?i:use|set|give|type|write|add|remove))\\s+(e\\.g\\.\\s+)?)?"
        + Pattern.quote(p.name()) + "=(?:\\[([^\\]]*)\\]|([^\\s\\[]*))");
    Matcher m = pattern.matcher(s);
    StringBuffer out = new StringBuffer();
    while (m.find()) {
      String verb = m.group(1);
      String eg = m.group(2) == null ? "" : m.group(2);
      String v = m.group(3);
      String tail = "";
      if (v == null) { // a value without brackets ends before the punctuation that follows it in a sentence
        v = m.group(4);
        int end = v.length();
        while (end > 0 && ".,;:)".indexOf(v.charAt(end - 1)) >= 0) end--;
        tail = v.substring(end);
        v = v.substring(0, end);
      }
      String field = "the " + p.name() + " field";
      String text;
      if (p.kind() == ParameterSpec.Kind.BOOLEAN && !v.isEmpty()) {
        boolean on = v.equalsIgnoreCase("true");
        text = verb == null ? p.name() + (on ? " ticked" : " not ticked")
            : cap(verb, (on ? "tick " : "untick ") + eg + p.name());
      } else if (verb != null && verb.equalsIgnoreCase("remove")) {
        text = cap(verb, "clear " + field);
      } else if (v.isEmpty()) {
        boolean set = verb != null && verb.equalsIgnoreCase("set");
        text = verb == null ? field : cap(verb, (set ? "set " : "fill in ") + field);
      } else {
        String quoted = "'" + v + "'";
        text = verb == null ? quoted + " in " + field : cap(verb, "type " + eg + quoted + " in " + field);
      }
      m.appendReplacement(out, Matcher.quoteReplacement(text + tail));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** {@code replacement} with its first letter capitalised like {@code original}'s. */
  private static String cap(String original, String replacement) {
    return Character.isUpperCase(original.charAt(0))
        ? Character.toUpperCase(replacement.charAt(0)) + replacement.substring(1) : replacement;
  }

  /**
   * The Help page: what the command does (its description and the first paragraph of "What it does" from its
   * documentation page), every key with its description, allowed values and default, and the macro line.
   */
  static String helpHtml(CommandSpec spec) {
    StringBuilder sb = new StringBuilder("<html><h2>").append(escape(spec.label())).append("</h2>");
    if (!spec.description().isEmpty()) sb.append("<p>").append(escape(spec.description())).append("</p>");
    String more = docsParagraph(spec);
    if (!more.isEmpty()) sb.append("<p>").append(markdownToHtml(more)).append("</p>");
    sb.append("<table>");
    for (ParameterSpec p : spec.parameters()) {
      sb.append("<tr><td valign=top><b>").append(p.name()).append("</b></td><td>").append(escape(p.description()));
      sb.append(" <i>(").append(escape(p.expected()));
      if (p.kind() != ParameterSpec.Kind.BOOLEAN) {
        sb.append("; default ").append(escape(MacroOptions.quote(p.format(p.defaultValue()))));
      }
      sb.append(")</i></td></tr>");
    }
    sb.append("</table><p>Macro: <tt>run(\"").append(escape(spec.label())).append("\", \"")
        .append(escape(MacroOptions.format(spec, spec.defaults()))).append("\");</tt></p>");
    sb.append("<p>Full page: docs/commands/").append(DocsKeys.fileName(spec)).append("</p></html>");
    return sb.toString();
  }

  /** The first paragraph under "## What it does" of the command's page, or "" when the jar has no page for it. */
  static String docsParagraph(CommandSpec spec) {
    String page = resource(DOCS + DocsKeys.fileName(spec));
    if (page == null) return "";
    int h = page.indexOf("\n## What it does");
    if (h < 0) return "";
    String rest = page.substring(page.indexOf('\n', h + 1) + 1).replace("\r", "");
    StringBuilder para = new StringBuilder();
    for (String line : rest.split("\n")) {
      if (line.trim().isEmpty()) {
        if (para.length() > 0) break;
        continue;
      }
      if (line.startsWith("#") || line.startsWith("<!--")) break;
      if (para.length() > 0) para.append(' ');
      para.append(line.trim());
    }
    return para.toString();
  }

  private static String resource(String name) {
    try (InputStream in = DialogText.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) return null;
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] b = new byte[8192];
      for (int r; (r = in.read(b)) > 0; ) out.write(b, 0, r);
      return new String(out.toByteArray(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
  }

  /** Enough Markdown for a paragraph: `code`, **bold**, *emphasis*, [text](link) → text. */
  static String markdownToHtml(String md) {
    String s = escape(md);
    s = s.replaceAll("\\[([^\\]]+)\\]\\([^)]*\\)", "$1");
    s = s.replaceAll("`([^`]+)`", "<tt>$1</tt>");
    s = s.replaceAll("\\*\\*([^*]+)\\*\\*", "<b>$1</b>");
    s = s.replaceAll("(?<![\\w*])\\*([^*]+)\\*(?![\\w*])", "<i>$1</i>");
    return s;
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
