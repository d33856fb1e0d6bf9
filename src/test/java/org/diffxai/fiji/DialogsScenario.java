package org.diffxai.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import java.awt.Checkbox;
import java.awt.Choice;
import java.awt.Component;
import java.awt.Label;
import java.awt.TextField;
import java.awt.Window;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.diffxai.run.ParameterSpec;

/**
 * Opens every command's dialog as a menu click does (two images open, the newer one active), prints what it shows
 * ({@code FACT dialog.<Label>.description}, {@code .labels}, {@code .<key>.widget}, {@code .<key>.items},
 * {@code .<key>.selected}, {@code .<key>.button}), saves a screenshot of each and of one Help page under the folder
 * given as argument, and cancels it.
 */
public class DialogsScenario implements PlugIn {

  @Override
  public void run(String arg) {
    GuiDriver.start("dialogs-scenario", () -> scenario(Paths.get(arg)));
  }

  private static void scenario(Path shots) throws Exception {
    ImagePlus older = IJ.createImage("older image", "32-bit ramp", 64, 64, 1);
    older.show();
    ImagePlus newer = IJ.createImage("newer image", "32-bit ramp", 64, 64, 3);
    newer.show();
    WindowManager.setTempCurrentImage(null);
    IJ.selectWindow(newer.getID());
    Thread.sleep(300);
    GuiDriver.fact("active", WindowManager.getCurrentImage().getTitle());
    for (Map.Entry<String, String> e : DocsKeys.menuCommands(DialogsScenario.class.getClassLoader()).entrySet()) {
      String label = e.getKey();
      CommandSpec spec = CommandSpec.of(Class.forName(e.getValue()));
      IJ.doCommand(label); // as a menu click: the bridge runs on its own thread and shows the dialog
      GenericDialog gd = GuiDriver.waitForDialog(spec.label(), 20000);
      String p = "dialog." + spec.label() + ".";
      Component message = gd.getMessage();
      GuiDriver.fact(p + "description", message == null ? "" : GuiDriver.text(message));
      List<String> labels = new ArrayList<>();
      collectLabels(gd, labels);
      GuiDriver.fact(p + "labels", String.join(" ; ", labels));
      for (ParameterSpec ps : spec.parameters()) {
        Component c = CommandDialog.find(gd, ps.name());
        String k = p + ps.name() + ".";
        String widget = c instanceof Choice ? "Choice" : c instanceof TextField ? "TextField"
            : c instanceof Checkbox ? "Checkbox" : c == null ? "none" : c.getClass().getName();
        GuiDriver.fact(k + "widget", widget);
        if (c instanceof Choice) {
          Choice ch = (Choice) c;
          List<String> items = new ArrayList<>();
          for (int i = 0; i < ch.getItemCount(); i++) items.add(ch.getItem(i));
          GuiDriver.fact(k + "items", String.join(" ; ", items));
          GuiDriver.fact(k + "selected", ch.getSelectedItem());
        } else if (c instanceof TextField) {
          GuiDriver.fact(k + "text", ((TextField) c).getText());
        } else if (c instanceof Checkbox) {
          GuiDriver.fact(k + "checked", ((Checkbox) c).getState());
        }
        GuiDriver.fact(k + "button", CommandDialog.find(gd, ps.name() + ".browse") != null);
      }
      GuiDriver.fact(p + "size", gd.getWidth() + "x" + gd.getHeight());
      GuiDriver.screenshot(gd, shots.resolve("dialog-" + DocsKeys.fileName(spec).replace(".md", ".png")));
      if (spec.label().equals("Synthesize")) {
        GuiDriver.press(gd, "Help");
        Window help = GuiDriver.waitFor(Window.class, w -> w != gd && w instanceof java.awt.Dialog
            && ((java.awt.Dialog) w).getTitle().contains("Synthesize") && !(w instanceof GenericDialog), 10000, "Help");
        GuiDriver.screenshot(help, shots.resolve("dialog-synthesize-help.png"));
        help.dispose();
      }
      GuiDriver.press(gd, "Cancel");
      GuiDriver.waitGone(gd, 10000);
    }
  }

  private static void collectLabels(java.awt.Container c, List<String> out) {
    for (Component k : c.getComponents()) {
      if (k instanceof Label && !((Label) k).getText().trim().isEmpty()) out.add(((Label) k).getText().trim());
      else if (k instanceof Checkbox) out.add(((Checkbox) k).getLabel());
      else if (k instanceof java.awt.Container) collectLabels((java.awt.Container) k, out);
    }
  }
}
