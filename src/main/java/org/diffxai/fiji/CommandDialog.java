package org.diffxai.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.GenericDialog;
import ij.io.DirectoryChooser;
import ij.io.OpenDialog;
import ij.io.SaveDialog;
import ij.plugin.frame.Recorder;
import java.awt.Button;
import java.awt.Checkbox;
import java.awt.Choice;
import java.awt.Component;
import java.awt.Container;
import java.awt.FlowLayout;
import java.awt.GridBagConstraints;
import java.awt.GridBagLayout;
import java.awt.Label;
import java.awt.Panel;
import java.awt.TextField;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diffxai.core.UserException;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.run.ParameterSpec;
import org.scijava.plugin.Parameter;

/**
 * The dialog of a command, built from its parameter model alone (never per command). It opens with the command's
 * one-sentence description; each key gets a label whose first word is the macro key, followed by a few words from its
 * description ("samples — number of images to synthesize"), and a widget chosen by kind and {@code style}:
 *
 * <ul>
 *   <li>flags: a checkbox; keys with {@code choices}: a drop-down;
 *   <li>{@code style = "image"}: a drop-down of the open images, newest first, the active image preselected, plus the
 *       values the description quotes (e.g. 'prototypes'), an entry for "empty" (named after what the description
 *       says empty means) and "Choose a file…"; {@code "image,directory"} also offers "Choose a folder…";
 *   <li>{@code style = "model:denoiser"}, {@code "model:prototypes"}, {@code "model:classifier"}: a drop-down of the
 *       bundled samples of that kind plus "Choose a model folder…";
 *   <li>{@code style = "file"}, {@code "save"}, {@code "directory"}: a text field with a Browse… button;
 *   <li>anything else: a text field.
 * </ul>
 *
 * <p>Every input component is named after its key ({@link Component#getName()}). The accepted values are recorded
 * for the macro recorder exactly as {@link MacroOptions#format} writes them ({@code image=<title or path>},
 * {@code model=sample}), not as the dialog's labels or entries read.
 */
final class CommandDialog {

  static final String CHOOSE_FILE = "Choose a file\u2026";
  static final String CHOOSE_FOLDER = "Choose a folder\u2026";
  static final String CHOOSE_MODEL = "Choose a model folder\u2026";
  static final String BROWSE = "Browse\u2026";
  /** Labels longer than this are shortened at a word (the Help lists every description in full). */
  static final int LABEL_CHARS = 50;
  /** The description at the top is wrapped at this many characters. */
  static final int WRAP = 72;

  private CommandDialog() {}

  /** One input of the dialog: its key, its component, and the value text it currently holds. */
  interface Input {
    ParameterSpec parameter();

    /** The value text for MacroOptions/ParameterSpec.parse ("true"/"false" for flags). */
    String text();
  }

  /**
   * Shows the dialog until the values parse, or the user cancels. Invalid values are reported (phrased for a dialog)
   * and the dialog shown again with what the user entered.
   *
   * @param start the values to show first (defaults, or the last accepted ones)
   * @return the typed values by key, or null when cancelled
   */
  static Map<String, Object> show(CommandSpec spec, Map<String, Object> start) {
    Map<String, String> current = new LinkedHashMap<>();
    for (ParameterSpec p : spec.parameters()) current.put(p.name(), p.format(start.get(p.name())));
    while (true) {
      GenericDialog gd = new GenericDialog(spec.label());
      List<Input> inputs = build(gd, spec, current);
      gd.showDialog();
      if (gd.wasCanceled()) return null;
      Map<String, Object> values = new LinkedHashMap<>();
      try {
        for (Input in : inputs) {
          current.put(in.parameter().name(), in.text());
          values.put(in.parameter().name(), in.parameter().parse(in.text()));
        }
        record(spec, values);
        return values;
      } catch (UserException e) {
        for (Input in : inputs) current.put(in.parameter().name(), in.text());
        if (Recorder.record) Recorder.resetCommandOptions();
        IJ.error(spec.label(), DialogText.forDialog(e.getMessage(), spec));
      }
    }
  }

  /** Adds the description, one input per key and the Help to the dialog. */
  static List<Input> build(GenericDialog gd, CommandSpec spec, Map<String, String> current) {
    if (!spec.description().isEmpty()) {
      gd.setInsets(5, 10, 5);
      gd.addMessage(wrap(spec.description(), WRAP));
    }
    List<Input> inputs = new ArrayList<>();
    for (ParameterSpec p : spec.parameters()) inputs.add(add(gd, spec, p, current.get(p.name())));
    gd.addHelp(DialogText.helpHtml(spec));
    return inputs;
  }

  private static Input add(GenericDialog gd, CommandSpec spec, ParameterSpec p, String value) {
    String label = label(p);
    String style = p.style().toLowerCase(Locale.ROOT);
    if (p.kind() == ParameterSpec.Kind.BOOLEAN) {
      gd.addCheckbox(label, Boolean.parseBoolean(value));
      Checkbox cb = (Checkbox) gd.getCheckboxes().lastElement();
      cb.setLabel(label); // GenericDialog shows underscores as spaces; the key must read as typed in a macro
      cb.setName(p.name());
      return input(p, () -> cb.getState() ? "true" : "false");
    }
    if (!p.choices().isEmpty()) {
      String[] items = p.choices().toArray(new String[0]);
      gd.addChoice(label, items, p.choices().contains(value) ? value : items[0]);
      Choice ch = lastChoice(gd, label, p);
      return input(p, ch::getSelectedItem);
    }
    if (style.startsWith("image") || style.startsWith("model:")) {
      PickerChoice pc = style.startsWith("image") ? imageChoice(spec, p, value) : modelChoice(spec, p, value);
      gd.addChoice(label, pc.itemArray(), pc.selectedItem());
      pc.attach(lastChoice(gd, label, p));
      return input(p, pc::value);
    }
    boolean number = p.kind() != ParameterSpec.Kind.STRING;
    boolean path = style.equals("file") || style.equals("save") || style.equals("directory");
    gd.addStringField(label, value == null ? "" : value, number ? 10 : path ? 34 : 30);
    TextField tf = (TextField) gd.getStringFields().lastElement();
    fixLabel(gd, label);
    tf.setName(p.name());
    if (path) {
      Button b = new Button(BROWSE);
      b.setName(p.name() + ".browse");
      b.addActionListener(e -> {
        String chosen = choose(style, p.name(), tf.getText());
        if (chosen != null) tf.setText(chosen);
      });
      besides(gd, tf, b);
    }
    return input(p, tf::getText);
  }

  private static Input input(ParameterSpec p, Supplier<String> text) {
    return new Input() {
      @Override
      public ParameterSpec parameter() {
        return p;
      }

      @Override
      public String text() {
        return text.get();
      }
    };
  }

  private static Choice lastChoice(GenericDialog gd, String label, ParameterSpec p) {
    Choice ch = (Choice) gd.getChoices().lastElement();
    fixLabel(gd, label);
    ch.setName(p.name());
    return ch;
  }

  /** GenericDialog shows underscores in labels as spaces; keys must read as a macro writes them. */
  private static void fixLabel(GenericDialog gd, String label) {
    Label l = gd.getLabel();
    if (l != null) l.setText(label);
  }

  /** Puts a button to the right of a component in the dialog's grid (the component keeps its place). */
  private static void besides(GenericDialog gd, Component comp, Button button) {
    Component cell = comp;
    while (cell.getParent() != null && cell.getParent() != gd) cell = cell.getParent();
    GridBagLayout grid = (GridBagLayout) gd.getLayout();
    GridBagConstraints c = grid.getConstraints(cell);
    Panel panel = new Panel(new FlowLayout(FlowLayout.LEFT, 0, 0));
    gd.remove(cell);
    panel.add(cell);
    panel.add(button);
    grid.setConstraints(panel, c);
    gd.add(panel);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Labels

  /**
   * "samples — Number of images to synthesize": the key, then the description's first clause (its case kept: it may
   * start with a name such as Adam or DDIM), shortened to {@link #LABEL_CHARS}.
   */
  static String label(ParameterSpec p) {
    String words = firstClause(p.description());
    String plain = words.toLowerCase(Locale.ROOT).replace('_', ' ');
    if (words.isEmpty() || plain.equals(p.name().replace('_', ' '))) return p.name();
    String label = p.name() + " \u2014 " + words;
    if (label.length() <= LABEL_CHARS) return label;
    String cut = label.substring(0, Math.max(label.lastIndexOf(' ', LABEL_CHARS - 1), p.name().length() + 3));
    // do not end on punctuation or a small word ("Random pixel subsets of…")
    cut = cut.replaceAll("(?:[\\s,;]+(?:of|to|the|a|an|for|by|in|on|and|or|with|per))*[\\s,;]*$", "");
    return cut + "\u2026";
  }

  /** The description up to its first ":", ";", " (", ". ", " = " or ", or" (what it is, not the details). */
  static String firstClause(String description) {
    String s = description == null ? "" : description.trim();
    int end = s.length();
    for (String stop : new String[] {": ", "; ", " (", ". ", " = ", ", or ", ", e.g."}) {
      int i = s.indexOf(stop);
      if (i > 0 && i < end) end = i;
    }
    s = s.substring(0, end).trim();
    while (s.endsWith(".") || s.endsWith(",")) s = s.substring(0, s.length() - 1);
    return s;
  }

  /** Wraps text at spaces into lines of at most {@code width} characters. */
  static String wrap(String text, int width) {
    StringBuilder out = new StringBuilder();
    int line = 0;
    for (String w : text.trim().split("\\s+")) {
      if (line > 0 && line + 1 + w.length() > width) {
        out.append('\n');
        line = 0;
      } else if (line > 0) {
        out.append(' ');
        line++;
      }
      out.append(w);
      line += w.length();
    }
    return out.toString();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Image and model choices

  /**
   * A drop-down whose entries stand for values: open image titles, bundled model keys, chosen paths, quoted special
   * values, and the empty value; its last entries open a chooser and add what was chosen.
   */
  static final class PickerChoice {
    final ParameterSpec parameter;
    /** Entry text → value, in display order. */
    final Map<String, String> entries = new LinkedHashMap<>();
    /** Chooser entries → the style they open ("file", "directory", "model"). */
    final Map<String, String> choosers = new LinkedHashMap<>();
    private String selected;
    private Choice choice;

    PickerChoice(ParameterSpec parameter) {
      this.parameter = parameter;
    }

    void add(String entry, String value) {
      entries.putIfAbsent(entry, value);
    }

    /** Adds a path (or other value) not yet offered, before the chooser entries; returns its entry. */
    String addValue(String value) {
      for (Map.Entry<String, String> e : entries.entrySet()) {
        if (e.getValue().equals(value)) return e.getKey();
      }
      String entry = value;
      while (entries.containsKey(entry) || choosers.containsKey(entry)) entry = entry + " ";
      entries.put(entry, value);
      if (choice != null) choice.insert(entry, entries.size() - 1);
      return entry;
    }

    String[] itemArray() {
      List<String> all = new ArrayList<>(entries.keySet());
      all.addAll(choosers.keySet());
      return all.toArray(new String[0]);
    }

    String selectedItem() {
      return selected;
    }

    void select(String entry) {
      selected = entry;
      if (choice != null) choice.select(entry);
    }

    /** The value of the selected entry ("" for a chooser entry, which is never left selected). */
    String value() {
      String entry = choice != null ? choice.getSelectedItem() : selected;
      String v = entries.get(entry);
      return v == null ? "" : v;
    }

    /** Connects to the dialog's drop-down: choosing a chooser entry opens the chooser, then selects the result. */
    void attach(Choice ch) {
      this.choice = ch;
      ch.addItemListener(e -> {
        String item = ch.getSelectedItem();
        String style = choosers.get(item);
        if (style == null) {
          selected = item;
          return;
        }
        String chosen = choose(style, parameter.name(), entries.getOrDefault(selected, ""));
        select(chosen == null ? selected : addValue(chosen));
      });
    }
  }

  /** Open images newest first (the active one preselected), quoted special values, empty, then "Choose a file…". */
  static PickerChoice imageChoice(CommandSpec spec, ParameterSpec p, String value) {
    PickerChoice pc = new PickerChoice(p);
    List<String> titles = openImageTitles();
    for (String t : titles) pc.add(t, t);
    for (String special : quotedValues(p.description())) pc.add(special, special);
    String empty = "(" + emptyMeaning(p.description()) + ")";
    pc.add(empty, "");
    List<String> style = Arrays.asList(p.style().toLowerCase(Locale.ROOT).split("\\s*,\\s*"));
    pc.choosers.put(CHOOSE_FILE, "file");
    if (style.contains("directory")) pc.choosers.put(CHOOSE_FOLDER, "directory");
    String v = value == null ? "" : value.trim();
    ImagePlus active = WindowManager.getCurrentImage();
    if (!v.isEmpty()) {
      pc.select(pc.addValue(v));
    } else if (active != null && (required(spec, p) || empty.contains("active image"))) {
      pc.select(active.getTitle());
    } else {
      pc.select(empty);
    }
    return pc;
  }

  /** The bundled samples of the kind the style names, the current value, empty for optional keys, "Choose…". */
  static PickerChoice modelChoice(CommandSpec spec, ParameterSpec p, String value) {
    PickerChoice pc = new PickerChoice(p);
    for (String s : bundledSamples(p.style())) pc.add(s, s);
    String empty = "(" + emptyMeaning(p.description()) + ")";
    if (!required(spec, p)) pc.add(empty, "");
    pc.choosers.put(CHOOSE_MODEL, "model");
    String v = value == null ? "" : value.trim();
    if (!v.isEmpty()) pc.select(pc.addValue(v));
    else if (!required(spec, p)) pc.select(empty);
    else if (!pc.entries.isEmpty()) pc.select(pc.entries.keySet().iterator().next());
    else pc.select(pc.addValue(""));
    return pc;
  }

  /** The bundled sample models for a {@code model:<kind>} style (none when the jar has none of that kind). */
  static List<String> bundledSamples(String style) {
    String kind = style.substring(style.indexOf(':') + 1).trim().toLowerCase(Locale.ROOT);
    try {
      return kind.equals("denoiser") ? DenoiserBundle.availableSamples() : ClassifierBundle.availableSamples();
    } catch (RuntimeException | LinkageError e) {
      return new ArrayList<>();
    }
  }

  /** Titles of the open images, the newest first, each once. */
  static List<String> openImageTitles() {
    List<String> titles = new ArrayList<>();
    int[] ids = WindowManager.getIDList();
    if (ids == null) return titles;
    for (int i = ids.length - 1; i >= 0; i--) {
      ImagePlus imp = WindowManager.getImage(ids[i]);
      if (imp != null && !titles.contains(imp.getTitle())) titles.add(imp.getTitle());
    }
    return titles;
  }

  private static final Pattern QUOTED = Pattern.compile("'([A-Za-z0-9_.-]+)'");
  private static final Pattern EMPTY = Pattern.compile("\\bempty (?:=|for|means) ([^;.,)]+)");

  /** Values the description names in single quotes, e.g. 'prototypes'. */
  static List<String> quotedValues(String description) {
    List<String> out = new ArrayList<>();
    Matcher m = QUOTED.matcher(description == null ? "" : description);
    while (m.find()) out.add(m.group(1));
    return out;
  }

  /** What the description says an empty value means ("empty = the active image" → "the active image"), or "none". */
  static String emptyMeaning(String description) {
    Matcher m = EMPTY.matcher(description == null ? "" : description);
    return m.find() ? m.group(1).trim() : "none";
  }

  /** Whether the key's {@code @Parameter} is required (the default); optional keys accept an empty value. */
  static boolean required(CommandSpec spec, ParameterSpec p) {
    for (java.lang.reflect.Field f : org.diffxai.run.RequestKeys.fieldsInOrder(spec.commandClass())) {
      if (f.getName().equals(p.name()) && f.getAnnotation(Parameter.class) != null) {
        return f.getAnnotation(Parameter.class).required();
      }
    }
    return true;
  }

  /**
   * Opens the chooser a style asks for and returns the chosen path, or null when cancelled. Replaceable by tests
   * inside ImageJ (choosers are native modal windows a test cannot press).
   */
  static volatile Chooser chooser = CommandDialog::openChooser;

  /** Asks the user for a path. */
  interface Chooser {
    /**
     * @param style file, save, directory or model
     * @return the chosen path, or null when cancelled
     */
    String choose(String style, String key, String current);
  }

  static String choose(String style, String key, String current) {
    return chooser.choose(style, key, current);
  }

  private static String openChooser(String style, String key, String current) {
    String title = "Choose " + key;
    switch (style) {
      case "directory":
      case "model": {
        String dir = new DirectoryChooser(title).getDirectory();
        if (dir == null) return null;
        return dir.length() > 1 && (dir.endsWith("/") || dir.endsWith("\\")) ? dir.substring(0, dir.length() - 1)
            : dir;
      }
      case "save": {
        String name = current == null || current.trim().isEmpty() ? "" : new java.io.File(current).getName();
        SaveDialog sd = new SaveDialog(title, name, "");
        return sd.getFileName() == null ? null : sd.getDirectory() + sd.getFileName();
      }
      default: {
        OpenDialog od = new OpenDialog(title);
        return od.getFileName() == null ? null : od.getPath();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Recording

  /**
   * Records the accepted values for the macro recorder, replacing what GenericDialog noted while it was read: the
   * line becomes {@code run("<Label>", "key=value ...")} as {@link MacroOptions#format} writes it, keys in
   * {@link #recordOrder} order. ImageJ's Recorder brackets values that contain a space; empty values and values
   * starting with "[" get their brackets here.
   */
  static void record(CommandSpec spec, Map<String, Object> values) {
    if (!Recorder.record) return;
    Recorder.resetCommandOptions();
    for (String key : recordOrder(spec.keys())) {
      ParameterSpec p = spec.parameter(key);
      Object v = values.get(key);
      if (p.kind() == ParameterSpec.Kind.BOOLEAN) {
        if (Boolean.TRUE.equals(v)) Recorder.recordOption(key);
        continue;
      }
      String text = p.format(v);
      Recorder.recordOption(key, text.indexOf(' ') >= 0 ? text : MacroOptions.quote(text));
    }
  }

  /**
   * The keys in declaration order, except that a key which ends another key is recorded before it ({@code size}
   * before {@code pool_size}): ImageJ's Recorder reports a "Duplicate keyword" when {@code key=} already occurs in
   * the options recorded so far. The order of options does not matter to macros.
   */
  static List<String> recordOrder(List<String> keys) {
    List<String> out = new ArrayList<>();
    for (String k : keys) {
      int at = out.size();
      for (int i = 0; i < out.size(); i++) {
        if (out.get(i).endsWith(k)) {
          at = i;
          break;
        }
      }
      out.add(at, k);
    }
    return out;
  }

  /** Container of a component whose name is {@code key} (tests find the dialog's inputs this way). */
  static Component find(Container root, String name) {
    for (Component c : root.getComponents()) {
      if (name.equals(c.getName())) return c;
      if (c instanceof Container) {
        Component inner = find((Container) c, name);
        if (inner != null) return inner;
      }
    }
    return null;
  }
}
