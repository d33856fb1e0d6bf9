package org.diffxai.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import ij.ImagePlus;
import ij.io.FileSaver;
import ij.measure.ResultsTable;
import ij.process.FloatProcessor;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.diffxai.core.CancelledException;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.fiji.TrainDenoiserCommand;
import org.diffxai.fiji.Ui;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.command.CommandInfo;
import org.scijava.module.ModuleItem;

/** The "Train Denoiser" command: SciJava conventions, a tiny end-to-end run, cancel and input errors. */
class TrainDenoiserCommandTest {

  @TempDir
  Path tmp;

  @AfterEach
  void resetProgress() {
    Ui.setProgress(null);
  }

  @Test
  void followsTheProjectCommandConventions() {
    CommandInfo info = new CommandInfo(TrainDenoiserCommand.class);
    assertEquals("Train Denoiser", info.getLabel());
    assertTrue(info.getMenuPath() == null || info.getMenuPath().isEmpty(), "no menuPath: plugins.config owns menus");
    Set<String> keys = new TreeSet<>();
    for (ModuleItem<?> in : info.inputs()) {
      keys.add(in.getName());
      assertTrue(in.getName().matches("[a-z][a-z0-9_]*"), "snake_case key: " + in.getName());
      assertTrue(in.getDescription() != null && !in.getDescription().isEmpty(), "description for " + in.getName());
    }
    assertTrue(keys.containsAll(Arrays.asList("images", "output", "size", "iterations", "epochs", "batch",
        "learning_rate", "seed", "labels", "base_channels", "ema_decay", "name")), keys.toString());
  }

  @Test
  void trainsTinyClassConditionalBundle() throws Exception {
    Path images = classFolder(tmp.resolve("phantoms"));
    Path out = tmp.resolve("models/tiny");
    TrainDenoiserCommand cmd = command(images, out);
    cmd.run();

    assertEquals(out.toAbsolutePath(), cmd.bundle());
    JsonObject model = JsonParser.parseString(new String(Files.readAllBytes(out.resolve("model.json")),
        StandardCharsets.UTF_8)).getAsJsonObject();
    assertEquals("tiny", model.get("name").getAsString());
    assertEquals(Arrays.asList("healthy", "lesion"), Arrays.asList(
        model.getAsJsonArray("class_names").get(0).getAsString(),
        model.getAsJsonArray("class_names").get(1).getAsString()));
    assertEquals(16, model.getAsJsonArray("sample_size").get(1).getAsInt());
    // Background ≈ 100, shapes ≈ 850 (plus noise): the 0.5/99.5 percentiles map about that range to [-1, 1].
    double scale = model.getAsJsonObject("intensity").get("scale").getAsDouble();
    double offset = model.getAsJsonObject("intensity").get("offset").getAsDouble();
    assertTrue(scale > 330 && scale < 460, "scale " + scale);
    assertTrue(offset > 400 && offset < 560, "offset " + offset);
    assertEquals(4, model.getAsJsonObject("training").get("iterations").getAsInt());
    assertEquals(12, model.getAsJsonObject("training").get("images").getAsInt());
    assertTrue(model.getAsJsonObject("sha256").has("training.csv"));

    ResultsTable rt = cmd.table();
    assertEquals(4, rt.size());
    assertEquals(4, rt.getValue("iteration", 3), 0);
    List<String> csv = Files.readAllLines(out.resolve("training.csv"));
    assertEquals(5, csv.size());
    assertTrue(csv.get(4).startsWith("4," + (float) rt.getValue("loss", 3)), csv.get(4));
  }

  @Test
  void cancelLeavesACheckpointThatResumeContinues() throws Exception {
    Path images = classFolder(tmp.resolve("phantoms"));
    Path out = tmp.resolve("models/cancelled");
    boolean[] training = {false};
    Ui.setProgress(new Progress() {
      @Override
      public void report(String message, double fraction) {
        if (message.startsWith("Training")) training[0] = true;
      }

      @Override
      public boolean isCancelled() {
        return training[0];
      }
    });
    TrainDenoiserCommand cmd = command(images, out);
    assertThrows(CancelledException.class, cmd::run);
    Ui.setProgress(null);
    assertFalse(Files.exists(out));
    Path ckpt = tmp.resolve("models/cancelled.checkpoint");
    assertEquals(Arrays.asList(ckpt), Files.list(out.getParent()).collect(Collectors.toList()),
        "only the checkpoint is left, no bundle and no temporary files");
    assertEquals(1, DenoiserCheckpoint.read(ckpt).iteration());

    // The same output again without resume would overwrite the checkpoint: refused with the remedy.
    UserException e = assertThrows(UserException.class, command(images, out)::run);
    assertEquals("The checkpoint folder " + ckpt + " of an earlier run exists. Continue it with resume=" + ckpt
        + ", or delete it, or choose another output.", e.getMessage());

    TrainDenoiserCommand resumed = command(images, out);
    set(resumed, "resume", ckpt.toString());
    resumed.run();
    assertEquals(4, DenoiserCheckpoint.read(ckpt).iteration());
    List<String> csv = Files.readAllLines(out.resolve("training.csv"));
    assertEquals(5, csv.size());
  }

  /**
   * Train 2 iterations, then resume from the bundle (its checkpoint beside it) up to 4: the same losses and the same
   * saved weights, byte for byte, as one uninterrupted 4-iteration run. Changed settings are one message.
   */
  @Test
  void resumeFromBundleEqualsOneRunAndRefusesOtherSettings() throws Exception {
    Path images = classFolder(tmp.resolve("phantoms"));
    Path whole = tmp.resolve("whole");
    command(images, whole).run();
    Path half = tmp.resolve("half");
    TrainDenoiserCommand first = command(images, half);
    set(first, "iterations", 2);
    first.run();
    assertEquals(2, DenoiserCheckpoint.read(half).iteration());

    TrainDenoiserCommand bad = command(images, tmp.resolve("bad"));
    set(bad, "resume", half.toString());
    set(bad, "batch", 2);
    set(bad, "prediction", "v_prediction");
    UserException e = assertThrows(UserException.class, bad::run);
    assertEquals("Cannot resume from " + tmp.resolve("half.checkpoint") + ": this run differs from the checkpoint in"
        + " prediction_type \"epsilon\" → \"v_prediction\"; batch 4 → 2. Resume with the settings and images of the"
        + " checkpoint (only iterations may change), or train anew without resume.", e.getMessage());
    assertFalse(Files.exists(tmp.resolve("bad")));

    Path rest = tmp.resolve("rest");
    TrainDenoiserCommand second = command(images, rest);
    set(second, "resume", half.toString());
    second.run();
    List<String> a = Files.readAllLines(whole.resolve("training.csv"));
    List<String> b = Files.readAllLines(rest.resolve("training.csv"));
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      assertEquals(a.get(i).replaceAll(",[^,]*$", ""), b.get(i).replaceAll(",[^,]*$", ""), "loss of row " + i);
    }
    String data = "variables/variables.data-00000-of-00001";
    assertArrayEquals(Files.readAllBytes(whole.resolve(data)), Files.readAllBytes(rest.resolve(data)));
    JsonObject runs = JsonParser.parseString(new String(Files.readAllBytes(rest.resolve("model.json")),
        StandardCharsets.UTF_8)).getAsJsonObject().getAsJsonObject("training");
    assertEquals(2, runs.getAsJsonArray("runs").size());
    assertEquals(2, runs.getAsJsonArray("runs").get(1).getAsJsonObject().get("from").getAsInt());
  }

  @Test
  void badInputIsAUserError() throws Exception {
    TrainDenoiserCommand cmd = command(tmp.resolve("nowhere"), tmp.resolve("out"));
    assertThrows(UserException.class, cmd::run);
    TrainDenoiserCommand cmd2 = command(classFolder(tmp.resolve("p")), tmp.resolve("out"));
    set(cmd2, "channel_multipliers", "1,x");
    UserException e = assertThrows(UserException.class, cmd2::run);
    assertTrue(e.getMessage().contains("channel_multipliers"), e.getMessage());
    set(cmd2, "channel_multipliers", "1,2");
    set(cmd2, "size", 17);
    e = assertThrows(UserException.class, cmd2::run);
    assertTrue(e.getMessage().contains("size=17"), e.getMessage());
    set(cmd2, "size", 16);
    set(cmd2, "guidance_scale", 1.0);
    e = assertThrows(UserException.class, cmd2::run);
    assertEquals("guidance_scale=1.0 needs a model trained with label_dropout > 0 (e.g. 0.1). Set label_dropout or"
        + " leave guidance_scale at 0.", e.getMessage());
    set(cmd2, "label_dropout", 0.1);
    set(cmd2, "labels", false);
    e = assertThrows(UserException.class, cmd2::run);
    assertEquals("label_dropout=0.1 must be in [0, 1) and needs labels (class sub-folders), e.g. label_dropout=0.1"
        + " labels.", e.getMessage());
    set(cmd2, "labels", true);
    set(cmd2, "resume", tmp.resolve("nothing").toString());
    e = assertThrows(UserException.class, cmd2::run);
    assertTrue(e.getMessage().startsWith("resume=" + tmp.resolve("nothing") + " does not exist."), e.getMessage());
    set(cmd2, "resume", "");
    Files.createDirectories(tmp.resolve("out"));
    e = assertThrows(UserException.class, cmd2::run);
    assertTrue(e.getMessage().contains("already exists"), e.getMessage());
  }

  /** label_dropout + guidance_scale: the bundle records its guidance and runs through DJL like any other. */
  @Test
  void guidedBundleLoadsAndPredicts() throws Exception {
    Path out = tmp.resolve("guided");
    TrainDenoiserCommand cmd = command(classFolder(tmp.resolve("p")), out);
    set(cmd, "label_dropout", 0.2);
    set(cmd, "guidance_scale", 2.0);
    cmd.run();
    JsonObject model = JsonParser.parseString(new String(Files.readAllBytes(out.resolve("model.json")),
        StandardCharsets.UTF_8)).getAsJsonObject();
    assertEquals(2.0, model.getAsJsonObject("guidance").get("scale").getAsDouble());
    assertEquals(2, model.getAsJsonObject("training").get("unconditional_label").getAsInt());
    try (org.diffxai.model.DjlDenoiser d = org.diffxai.model.DjlDenoiser.open(out.toString(), "cpu")) {
      assertTrue(d.classConditional());
      float[] y = d.predict(new float[3 * 16 * 16], new float[] {5, 500, 995}, new int[] {0, 1, 0}, null, 3);
      assertEquals(3 * 16 * 16, y.length);
      for (float v : y) assertTrue(Float.isFinite(v));
    }
  }

  // --- helpers

  private static TrainDenoiserCommand command(Path images, Path out) throws Exception {
    TrainDenoiserCommand cmd = new TrainDenoiserCommand();
    set(cmd, "images", images.toString());
    set(cmd, "output", out.toString());
    set(cmd, "size", 16);
    set(cmd, "iterations", 4);
    set(cmd, "batch", 4);
    set(cmd, "labels", true);
    set(cmd, "base_channels", 8);
    set(cmd, "channel_multipliers", "1,2");
    set(cmd, "name", "tiny");
    set(cmd, "checkpoint_every", 2);
    return cmd;
  }

  private static void set(Object o, String field, Object value) throws Exception {
    Field f = o.getClass().getDeclaredField(field);
    f.setAccessible(true);
    f.set(o, value);
  }

  /** healthy/ and lesion/ sub-folders with six 32×32 float TIFFs each, values in [0, 1000]. */
  private static Path classFolder(Path root) throws Exception {
    Random rnd = new Random(2);
    for (String cls : new String[] {"healthy", "lesion"}) {
      Path d = Files.createDirectories(root.resolve(cls));
      for (int i = 0; i < 6; i++) {
        float[] a = Synthetic.shape(32, cls.equals("lesion"), rnd);
        FloatProcessor fp = new FloatProcessor(32, 32);
        for (int p = 0; p < a.length; p++) fp.setf(p, (a[p] + 1) * 500);
        assertTrue(new FileSaver(new ImagePlus(cls + i, fp)).saveAsTiff(d.resolve(cls + i + ".tif").toString()));
      }
    }
    return root;
  }
}
