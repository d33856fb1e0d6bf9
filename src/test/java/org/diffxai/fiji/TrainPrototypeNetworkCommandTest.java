package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.CancelledException;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.metrics.PrototypeQuality;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.run.Env;
import org.diffxai.run.OutputFolder;
import org.diffxai.run.TrainPrototypesRun;
import org.diffxai.tf.TinyPrototypeBundles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Train Prototype Network from the command line: a tiny run, its bundle, and every user error. */
class TrainPrototypeNetworkCommandTest {
  static final String LABEL = "Train Prototype Network";
  @TempDir Path tmp;

  @AfterEach
  void resetProgress() {
    Ui.setProgress(null);
  }

  private static String tiny(Path images) {
    return "images=[" + images + "] size=32 base_channels=4 feature_depth=8 epochs=2 batch=8 push_every=1"
        + " last_layer_epochs=1 device=cpu seed=3";
  }

  @Test
  void trainsAndWritesALoadableBundle() {
    Path out = tmp.resolve("models/pool");
    CliTest.Out r = CliTest.inProcess(LABEL, tiny(TinyPrototypeBundles.phantomFolder())
        + " method=ProtoPool pool_size=4 slots_per_class=2 validation=0.25 name=tiny-pool output=[" + out + "]");
    assertEquals(0, r.code, r.toString());
    // progress lines go to stderr on the command line
    assertTrue(r.err.contains("Saved ProtoPool " + out.toAbsolutePath() + ": training accuracy "), r.toString());
    assertTrue(r.err.contains("validation accuracy"), r.toString());
    ClassifierBundle b = ClassifierBundle.open(out);
    assertEquals("tiny-pool", b.name());
    assertEquals("ProtoPool", b.method());
    assertTrue(b.prototypesJson().contains("\"validation_images\": 6"), b.prototypesJson()); // 25 % of 2 x 10
    JsonObject hp = JsonParser.parseString(b.prototypesJson()).getAsJsonObject().getAsJsonObject("hyperparameters");
    int removed = hp.has("unchosen_removed") ? hp.get("unchosen_removed").getAsInt() : 0;
    try (PrototypeClassifier c = ClassifierModels.loadPrototypes(b, "cpu")) {
      // the bundle keeps the pool prototypes some slot chose (2 classes x 2 slots: at most 4), every one with a weight
      assertEquals(4 - removed, c.prototypes());
      assertEquals(c.prototypes(), hp.get("pool_size").getAsInt());
      assertEquals(0, PrototypeQuality.distinctness(c).unused);
      assertEquals(32, c.height());
    }
  }

  @Test
  void theRunReturnsTheEpochTableAndRecordsTheInputInTheBundle() throws IOException {
    TrainPrototypesRun.Request r = new TrainPrototypesRun.Request();
    r.images = TinyPrototypeBundles.phantomFolder().toString();
    r.size = 32;
    r.base_channels = 4;
    r.feature_depth = 8;
    r.prototypes_per_class = 2;
    r.epochs = 2;
    r.batch = 8;
    r.push_every = 1;
    r.last_layer_epochs = 1;
    r.device = "cpu";
    r.fit = "stretch";
    r.output = tmp.resolve("run-ppnet").toString();
    TrainPrototypesRun.Result res = TrainPrototypesRun.run(r, Env.files());
    assertEquals(res.training.epochs.size(), res.table.size());
    assertTrue(res.table.size() >= 2, "epochs " + res.table.size());
    assertEquals(2, res.chart.series().size());
    assertTrue(res.files.contains(res.bundle.resolve("model.json")), res.files.toString());
    assertTrue(Files.exists(res.bundle.resolve(OutputFolder.MANIFEST)));
    ClassifierBundle b = ClassifierBundle.open(res.bundle);
    assertEquals("run-ppnet", b.name());
    String json = new String(Files.readAllBytes(res.bundle.resolve("model.json")), StandardCharsets.UTF_8);
    assertTrue(json.contains("\"input_fit\": \"stretch\""), json);
    assertTrue(json.contains("\"calibration\""), json);
    assertEquals("stretch", res.provenance.get("fit"));
  }

  @Test
  void withoutAValidationSplitTheBundleStillOpens() {
    Path out = tmp.resolve("models/novalidation");
    CliTest.Out r = CliTest.inProcess(LABEL, tiny(TinyPrototypeBundles.phantomFolder())
        + " method=PPNet prototypes_per_class=2 validation=0 output=[" + out + "]");
    assertEquals(0, r.code, r.toString());
    ClassifierBundle b = ClassifierBundle.open(out); // NaN in model.json used to make it unreadable
    assertTrue(Double.isNaN(b.validationAccuracy()), Double.toString(b.validationAccuracy()));
    assertFalse(b.prototypesJson().contains("NaN"), b.prototypesJson());
  }

  static void assertUserError(int code, String options, String... parts) throws IOException {
    CliTest.Out r = CliTest.inProcess(LABEL, options);
    assertEquals(code, r.code, r.toString());
    List<String> errors = r.err.lines().filter(l -> l.startsWith("Error: ")).collect(Collectors.toList());
    assertEquals(1, errors.size(), r.toString());
    assertFalse(r.err.contains("\tat "), "no stack trace\n" + r);
    for (String p : parts) assertTrue(errors.get(0).contains(p), "'" + p + "' missing in: " + errors.get(0));
  }

  @Test
  void badInputIsOneClearLine() throws IOException {
    Path good = TinyPrototypeBundles.phantomFolder();
    Path out = tmp.resolve("out");
    assertUserError(1, tiny(tmp.resolve("nowhere")) + " output=[" + out + "]", "nowhere");
    Path oneClass = Files.createDirectories(tmp.resolve("one/healthy"));
    Files.copy(good.resolve("healthy/phantom_0000.tif"), oneClass.resolve("a.tif"));
    Files.copy(good.resolve("healthy/phantom_0001.tif"), oneClass.resolve("b.tif"));
    assertUserError(1, tiny(tmp.resolve("one")) + " output=[" + out + "]", "class");
    assertUserError(2, tiny(good) + " method=ResNet output=[" + out + "]", "method");
    assertUserError(1, tiny(good) + " validation=1.5 output=[" + out + "]", "validation");
    assertUserError(1, tiny(good).replace("size=32", "size=17") + " output=[" + out + "]", "17");
    assertUserError(1, tiny(good) + " method=ProtoPool pool_size=2 slots_per_class=3 output=[" + out + "]",
        "slots_per_class");
    assertUserError(2, tiny(good) + " background=sky output=[" + out + "]", "background");
    assertUserError(1, tiny(good) + " noise=5 output=[" + out + "]", "noise");
    assertUserError(1, tiny(good) + " background=randomize foreground=labels output=[" + out + "]",
        "no label map phantom_0000_labels.tif", "foreground=estimate");
    assertUserError(1, tiny(good) + " background=mask foreground=[" + tmp.resolve("nomasks") + "] output=[" + out
        + "]", "foreground=", "does not exist");
    assertUserError(2, tiny(good) + " output=", "no output folder is given");
    Files.createDirectories(out);
    Files.write(out.resolve("model.json"), "{}".getBytes(StandardCharsets.UTF_8));
    assertUserError(1, tiny(good) + " output=[" + out + "]", "already holds", "overwrite");
    try (Stream<Path> s = Files.list(out)) {
      assertEquals(1, s.count(), "nothing written into a folder that holds a bundle");
    }
  }

  @Test
  void cancelLeavesNoBundle() throws IOException {
    Path out = tmp.resolve("models/cancelled");
    Ui.setProgress(new Progress() {
      boolean training;

      @Override
      public void report(String message, double fraction) {
        training |= message.startsWith("Training");
      }

      @Override
      public boolean isCancelled() {
        return training;
      }
    });
    CommandSpec spec = CommandSpec.of(TrainPrototypeNetworkCommand.class);
    TrainPrototypeNetworkCommand cmd = (TrainPrototypeNetworkCommand) spec.create(MacroOptions.parse(
        tiny(TinyPrototypeBundles.phantomFolder()) + " output=[" + out + "]", spec));
    org.junit.jupiter.api.Assertions.assertThrows(CancelledException.class, cmd::run);
    assertFalse(Files.exists(out));
    if (Files.exists(out.getParent())) {
      try (Stream<Path> s = Files.list(out.getParent())) {
        assertEquals(0, s.count(), "no temporary folder left");
      }
    }
  }
}
