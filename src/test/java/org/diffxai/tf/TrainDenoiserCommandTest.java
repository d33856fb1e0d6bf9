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
import ij.process.FloatProcessor;
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
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.fiji.TrainDenoiserCommand;
import org.diffxai.run.Env;
import org.diffxai.run.OutputFolder;
import org.diffxai.run.TrainDenoiserRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.command.CommandInfo;
import org.scijava.module.ModuleItem;

/**
 * The "Train Denoiser" command and its run ({@link TrainDenoiserRun}): SciJava conventions, a tiny end-to-end run,
 * cancel, resume and input errors.
 */
class TrainDenoiserCommandTest {

  @TempDir
  Path tmp;

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
    assertTrue(keys.containsAll(Arrays.asList("images", "output", "overwrite", "size", "fit", "iterations", "epochs",
        "batch", "learning_rate", "seed", "labels", "base_channels", "ema_decay", "prediction", "schedule",
        "min_snr_gamma", "label_dropout", "guidance_scale", "checkpoint_every", "resume", "name")), keys.toString());
  }

  @Test
  void trainsTinyClassConditionalBundle() throws Exception {
    Path images = classFolder(tmp.resolve("phantoms"));
    Path out = tmp.resolve("models/tiny");
    TrainDenoiserRun.Result res = TrainDenoiserRun.run(request(images, out), Env.files());

    assertEquals(out.toAbsolutePath(), res.bundle);
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
    // what the input reader did, through the dataset cache: 32x32 images brought to 16x16 with the default fit
    JsonObject input = model.getAsJsonObject("training").getAsJsonObject("input");
    assertEquals(12, input.get("input_images").getAsInt());
    assertEquals("16x16", input.get("input_size").getAsString());
    assertEquals("pad", input.get("input_fit").getAsString());
    assertEquals(12, input.get("input_resized").getAsInt());

    Table rt = res.losses;
    assertEquals(4, rt.size());
    assertEquals(4, rt.getValue("iteration", 3), 0);
    List<String> csv = Files.readAllLines(out.resolve("training.csv"));
    assertEquals(5, csv.size());
    assertTrue(csv.get(4).startsWith("4," + (float) rt.getValue("loss", 3)), csv.get(4));
    assertEquals(4, res.chart.series().get(0).y.length);
    assertEquals(rt.getValue("loss", 3), res.chart.series().get(0).y[3], 0);
    assertEquals(1, res.outputs().tables().size());
    assertEquals(1, res.outputs().charts().size());
    // every bundle file went through the output folder: its manifest lists them, and nothing else is left
    assertTrue(res.files.contains(out.resolve("model.json")) && res.files.contains(out.resolve("saved_model.pb")),
        res.files.toString());
    Set<String> present = new TreeSet<>(org.diffxai.io.Checksums.relativeFiles(out));
    present.remove(OutputFolder.MANIFEST);
    assertEquals(new TreeSet<>(res.files.stream().map(f -> out.relativize(f).toString())
        .collect(Collectors.toList())), present);
    // the bundle opens through the model registry like any other
    assertEquals(Arrays.asList("healthy", "lesion"),
        org.diffxai.model.DenoiserBundle.open(out.toString()).classNames());

    // the same output again: refused without overwrite; with overwrite, the folder holds the new run only
    UserException e = assertThrows(UserException.class, () -> TrainDenoiserRun.run(request(images, out),
        Env.files()));
    assertTrue(e.getMessage().startsWith("The checkpoint folder "), e.getMessage());
    UserException e2 = assertThrows(UserException.class, () -> {
      TrainDenoiserRun.Request noCheckpoints = request(images, out);
      noCheckpoints.checkpoint_every = 0;
      TrainDenoiserRun.run(noCheckpoints, Env.files());
    });
    assertTrue(e2.getMessage().startsWith("The checkpoint folder "), e2.getMessage());
    TrainDenoiserRun.Request elsewhere = request(images, out);
    elsewhere.resume = tmp.resolve("models/tiny.checkpoint").toString();
    elsewhere.iterations = 5;
    e2 = assertThrows(UserException.class, () -> TrainDenoiserRun.run(elsewhere, Env.files()));
    assertTrue(e2.getMessage().contains("already holds the results of a Train Denoiser run"), e2.getMessage());
    TrainDenoiserRun.Request again = request(images, out);
    again.overwrite = true;
    again.iterations = 2;
    again.checkpoint_every = 0;
    TrainDenoiserRun.run(again, Env.files());
    assertEquals(3, Files.readAllLines(out.resolve("training.csv")).size());
    assertFalse(Files.exists(tmp.resolve("models/tiny.checkpoint")), "the replaced run's checkpoint is gone too");
  }

  @Test
  void cancelLeavesACheckpointThatResumeContinues() throws Exception {
    Path images = classFolder(tmp.resolve("phantoms"));
    Path out = tmp.resolve("models/cancelled");
    boolean[] training = {false};
    Progress cancelInTraining = new Progress() {
      @Override
      public void report(String message, double fraction) {
        if (message.startsWith("Training")) training[0] = true;
      }

      @Override
      public boolean isCancelled() {
        return training[0];
      }
    };
    assertThrows(CancelledException.class, () -> TrainDenoiserRun.run(request(images, out),
        Env.files(cancelInTraining)));
    assertFalse(Files.exists(out));
    Path ckpt = tmp.resolve("models/cancelled.checkpoint");
    assertEquals(Arrays.asList(ckpt), Files.list(out.getParent()).collect(Collectors.toList()),
        "only the checkpoint is left, no bundle and no temporary files");
    assertEquals(1, DenoiserCheckpoint.read(ckpt).iteration());

    // The same output again without resume would overwrite the checkpoint: refused with the remedy.
    UserException e = assertThrows(UserException.class, () -> run(request(images, out)));
    assertEquals("The checkpoint folder " + ckpt + " of an earlier run exists. Continue it with resume=" + ckpt
        + ", or add overwrite to replace that run, or choose another output.", e.getMessage());

    TrainDenoiserRun.Request resumed = request(images, out);
    resumed.resume = ckpt.toString();
    run(resumed);
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
    run(request(images, whole));
    Path half = tmp.resolve("half");
    TrainDenoiserRun.Request first = request(images, half);
    first.iterations = 2;
    run(first);
    assertEquals(2, DenoiserCheckpoint.read(half).iteration());

    TrainDenoiserRun.Request bad = request(images, tmp.resolve("bad"));
    bad.resume = half.toString();
    bad.batch = 2;
    bad.prediction = "v_prediction";
    UserException e = assertThrows(UserException.class, () -> run(bad));
    assertEquals("Cannot resume from " + tmp.resolve("half.checkpoint") + ": this run differs from the checkpoint in"
        + " prediction_type \"epsilon\" → \"v_prediction\"; batch 4 → 2. Resume with the settings and images of the"
        + " checkpoint (only iterations may change), or train anew without resume.", e.getMessage());
    assertFalse(Files.exists(tmp.resolve("bad")));

    Path rest = tmp.resolve("rest");
    TrainDenoiserRun.Request second = request(images, rest);
    second.resume = half.toString();
    run(second);
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
    assertThrows(UserException.class, () -> run(request(tmp.resolve("nowhere"), tmp.resolve("out"))));
    assertFalse(Files.exists(tmp.resolve("out")), "a failed run leaves no output folder");
    TrainDenoiserRun.Request r = request(classFolder(tmp.resolve("p")), tmp.resolve("out"));
    r.output = "";
    UserException e = assertThrows(UserException.class, () -> run(r));
    assertEquals("No output given. Set output=... to the bundle folder to create.", e.getMessage());
    r.output = tmp.resolve("out").toString();
    r.fit = "squeeze";
    e = assertThrows(UserException.class, () -> run(r));
    assertTrue(e.getMessage().contains("fit") && e.getMessage().contains("squeeze"), e.getMessage());
    r.fit = "crop";
    r.channel_multipliers = "1,x";
    e = assertThrows(UserException.class, () -> run(r));
    assertTrue(e.getMessage().contains("channel_multipliers"), e.getMessage());
    r.channel_multipliers = "1,2";
    r.size = 17;
    e = assertThrows(UserException.class, () -> run(r));
    assertTrue(e.getMessage().contains("size=17"), e.getMessage());
    r.size = 16;
    r.guidance_scale = 1.0;
    e = assertThrows(UserException.class, () -> run(r));
    assertEquals("guidance_scale=1.0 needs a model trained with label_dropout > 0 (e.g. 0.1). Set label_dropout or"
        + " leave guidance_scale at 0.", e.getMessage());
    r.label_dropout = 0.1;
    r.labels = false;
    e = assertThrows(UserException.class, () -> run(r));
    assertEquals("label_dropout=0.1 must be in [0, 1) and needs labels (class sub-folders), e.g. label_dropout=0.1"
        + " labels.", e.getMessage());
    r.labels = true;
    r.resume = tmp.resolve("nothing").toString();
    e = assertThrows(UserException.class, () -> run(r));
    assertTrue(e.getMessage().startsWith("resume=" + tmp.resolve("nothing") + " does not exist."), e.getMessage());
    r.resume = "";
    // a folder that holds files of another bundle is not mixed with this one
    Files.createDirectories(tmp.resolve("out"));
    Files.write(tmp.resolve("out/model.json"), "{}".getBytes(StandardCharsets.UTF_8));
    e = assertThrows(UserException.class, () -> run(r));
    assertTrue(e.getMessage().contains("already holds result files (model.json)"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("out.checkpoint")));
  }

  /** label_dropout + guidance_scale: the bundle records its guidance and runs through DJL like any other. */
  @Test
  void guidedBundleLoadsAndPredicts() throws Exception {
    Path out = tmp.resolve("guided");
    TrainDenoiserRun.Request r = request(classFolder(tmp.resolve("p")), out);
    r.label_dropout = 0.2;
    r.guidance_scale = 2.0;
    run(r);
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

  private static TrainDenoiserRun.Request request(Path images, Path out) {
    TrainDenoiserRun.Request r = new TrainDenoiserRun.Request();
    r.images = images.toString();
    r.output = out.toString();
    r.size = 16;
    r.iterations = 4;
    r.batch = 4;
    r.labels = true;
    r.base_channels = 8;
    r.channel_multipliers = "1,2";
    r.name = "tiny";
    r.checkpoint_every = 2;
    return r;
  }

  private static TrainDenoiserRun.Result run(TrainDenoiserRun.Request r) {
    return TrainDenoiserRun.run(r, Env.files());
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
