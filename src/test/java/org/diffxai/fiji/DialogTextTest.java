package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.diffxai.run.ParameterSpec;
import org.junit.jupiter.api.Test;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** Dialog texts built from the parameter model: labels, the description, errors phrased for a dialog. */
class DialogTextTest {

  /** Keys like a real command's, for the messages below. */
  @Plugin(type = Command.class, label = "Dialog Text Fixture", headless = true)
  public static class Fixture implements Command {
    @Parameter(persist = false, description = "Denoiser bundle folder, or 'sample' for the bundled sample model")
    public String model = "sample";

    @Parameter(min = "1", persist = false, description = "Number of images to synthesize")
    public int samples = 4;

    @Parameter(required = false, persist = false, description = "The trajectory: an open image or a file; empty = the"
        + " active image")
    public String image = "";

    @Parameter(persist = false, description = "With labels=true one sub-folder per class")
    public boolean labels;

    @Parameter(required = false, persist = false, description = "Folder for the result files")
    public String output = "";

    @Override
    public void run() {}
  }

  static final CommandSpec SPEC = CommandSpec.of(Fixture.class);

  @Test
  void keyValueMentionsBecomeFieldInstructions() {
    assertEquals("Type 'sample' in the model field for the bundled model.",
        DialogText.forDialog("Use model=sample for the bundled model.", SPEC));
    assertEquals("Type e.g. '4' in the samples field.", DialogText.forDialog("Use e.g. samples=4.", SPEC));
    assertEquals("Set the image field to an open image's title.",
        DialogText.forDialog("Set image= to an open image's title.", SPEC));
    assertEquals("Fill in the output field (a folder).", DialogText.forDialog("Give output= (a folder).", SPEC));
    assertEquals("'/data/my run' in the output field is not a folder.",
        DialogText.forDialog("output=[/data/my run] is not a folder.", SPEC));
    assertEquals("This model is not conditional; clear the model field.",
        DialogText.forDialog("This model is not conditional; remove model=x.", SPEC));
    assertEquals("Train with labels ticked, or untick labels.",
        DialogText.forDialog("Train with labels=true, or use labels=false.", SPEC));
    // a value ends before the punctuation of its sentence; brackets keep it whole
    assertEquals("Type '<folder>' in the output field.", DialogText.forDialog("Add output=<folder>.", SPEC));
    assertEquals("(e.g. 'sample' in the model field).", DialogText.forDialog("(e.g. model=sample).", SPEC));
  }

  @Test
  void otherTextIsLeftAlone() {
    // keys of other commands, keys inside words and paths, and "=" elsewhere stay as they are
    String s = "Use steps=10 or sampler=DDIM; t=981; my_model=3; /x/model=1; a sub_samples=2 case.";
    assertEquals(s, DialogText.forDialog(s, SPEC));
    assertEquals("", DialogText.forDialog(null, SPEC));
  }

  @Test
  void labelsStartWithTheKeyAndReadAsWords() {
    assertEquals("model — Denoiser bundle folder", CommandDialog.label(SPEC.parameter("model")));
    assertEquals("samples — Number of images to synthesize", CommandDialog.label(SPEC.parameter("samples")));
    assertEquals("image — The trajectory", CommandDialog.label(SPEC.parameter("image")));
    for (ParameterSpec p : SPEC.parameters()) {
      String l = CommandDialog.label(p);
      assertEquals(p.name(), l.split(" ")[0], l);
      assertTrue(l.length() <= CommandDialog.LABEL_CHARS + 1, l);
    }
    assertEquals("Where the model runs", CommandDialog.firstClause("Where the model runs: auto = a GPU"));
    assertEquals("Random seed", CommandDialog.firstClause("Random seed; sample i draws its noise (seed, i)"));
    assertEquals("Number of slices per class", CommandDialog.firstClause("Number of slices per class."));
  }

  @Test
  void emptyAndQuotedValuesComeFromTheDescription() {
    assertEquals("the active image", CommandDialog.emptyMeaning(SPEC.parameter("image").description()));
    assertEquals("none", CommandDialog.emptyMeaning("Condition channels: an open image; empty for none"));
    assertEquals("none", CommandDialog.emptyMeaning("Folder for the result files"));
    assertEquals(Arrays.asList("prototypes"),
        CommandDialog.quotedValues("Attribution map: an open image or a file; 'prototypes' for the network's own"));
    assertTrue(CommandDialog.required(SPEC, SPEC.parameter("model")));
    assertTrue(!CommandDialog.required(SPEC, SPEC.parameter("image")));
  }

  @Test
  void descriptionIsWrappedAtWords() {
    String w = CommandDialog.wrap("Synthesizes images with a diffusion denoiser and keeps how each image formed, step"
        + " by step (the denoising trajectory).", 40);
    for (String line : w.split("\n")) assertTrue(line.length() <= 40, line);
    assertEquals("Synthesizes images with a diffusion denoiser and keeps how each image formed, step by step (the"
        + " denoising trajectory).", w.replace('\n', ' '));
  }

  @Test
  void keysThatEndOtherKeysAreRecordedFirst() {
    assertEquals(Arrays.asList("epochs", "last_layer_epochs"),
        CommandDialog.recordOrder(Arrays.asList("epochs", "last_layer_epochs")));
    assertEquals(Arrays.asList("size", "pool_size", "batch"),
        CommandDialog.recordOrder(Arrays.asList("pool_size", "size", "batch")));
    java.util.List<String> order = CommandDialog.recordOrder(Arrays.asList("a", "pool_size", "count", "x_pool_size",
        "size"));
    assertEquals(Arrays.asList("a", "size", "pool_size", "count", "x_pool_size"), order);
    for (int i = 0; i < order.size(); i++) {
      for (int j = i + 1; j < order.size(); j++) assertTrue(!order.get(i).endsWith(order.get(j)), order.toString());
    }
  }
}
