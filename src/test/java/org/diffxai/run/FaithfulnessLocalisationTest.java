package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.io.External;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faithfulness Score with masks= on phantoms written by Generate Phantoms and the bundled prototype network (real
 * TensorFlow): a map that is the lesion mask itself localises perfectly, and the area fraction agrees with an
 * independent reader of the mask file (python3-tifffile).
 */
class FaithfulnessLocalisationTest {

  static Path phantoms(Path tmp) {
    GeneratePhantomsRun.Request g = new GeneratePhantomsRun.Request();
    g.count = 3;
    g.size = 64;
    g.seed = 41;
    g.classes = "lesion";
    g.output = tmp.resolve("phantoms").toString();
    GeneratePhantomsRun.run(g, Env.files());
    return tmp.resolve("phantoms").resolve("lesion");
  }

  static FaithfulnessScoreRun.Request request(String image, String attribution) {
    FaithfulnessScoreRun.Request r = new FaithfulnessScoreRun.Request();
    r.model = "sample-ppnet";
    r.image = image;
    r.attribution = attribution;
    r.metric = "deletion";
    r.masks = "auto";
    r.device = "cpu";
    return r;
  }

  @Test
  void theMaskAsTheMapLocalisesPerfectlyAndTheAreaMatchesAnIndependentReader(@TempDir Path tmp) throws Exception {
    Path dir = phantoms(tmp);
    Path image = dir.resolve("phantom_0000.tif"), mask = dir.resolve("phantom_0000_mask.tif");
    FaithfulnessScoreRun.Result res = FaithfulnessScoreRun.run(request(image.toString(), mask.toString()),
        Env.files());
    Table t = res.localisation;
    assertNotNull(t);
    assertEquals(1, t.size());
    assertEquals(1.0, t.getValue("pointing_game", 0), 1e-12);
    assertEquals(1.0, t.getValue("relevance_mass", 0), 1e-12);
    assertEquals(1.0, t.getValue("relevance_rank", 0), 1e-12);
    assertEquals(1.0, t.getValue("auc", 0), 1e-12);
    String fraction = External.python("import tifffile,sys; m=tifffile.imread(sys.argv[1]); print(repr(float((m!=0)"
        + ".mean())))", mask.toString()).get(0).trim();
    assertEquals(Double.parseDouble(fraction), t.getValue("area_fraction", 0), 1e-12);
    assertEquals(1.0 / Double.parseDouble(fraction), t.getValue("relevance_mass_x_area", 0), 1e-9);
  }

  @Test
  void prototypeMapsOfAFolderGetOneRowPerLesionImageAndAMeanWithItsInterval(@TempDir Path tmp) {
    Path dir = phantoms(tmp);
    FaithfulnessScoreRun.Request r = request(dir.toString(), "prototypes");
    r.output = tmp.resolve("out").toString();
    FaithfulnessScoreRun.Result res = FaithfulnessScoreRun.run(r, Env.files());
    Table t = res.localisation;
    assertEquals(4, t.size(), "3 images and their mean");
    for (int i = 0; i < 3; i++) {
      double pg = t.getValue("pointing_game", i), mass = t.getValue("relevance_mass", i);
      assertTrue(pg >= 0 && pg <= 1 && mass >= 0 && mass <= 1, "row " + i);
    }
    assertEquals("mean", t.getString("slice", 3));
    assertTrue(t.getString("ci", 3).startsWith("mean of 3 images, 95 % bootstrap: pointing_game ["), t.getString(
        "ci", 3));
    assertTrue(Files.isRegularFile(tmp.resolve("out").resolve(FaithfulnessScoreRun.LOCALISATION_FILE)));
    assertEquals("auto", res.provenance.get("masks"));
  }

  @Test
  void masksWithoutAMapAndMissingMasksAreOneMessageEach(@TempDir Path tmp) throws Exception {
    Path dir = phantoms(tmp);
    UserException noMap = assertThrows(UserException.class, () -> FaithfulnessScoreRun.run(
        request(dir.toString(), ""), Env.files()));
    assertTrue(noMap.getMessage().startsWith("masks= scores where a map points"), noMap.getMessage());
    Path bare = tmp.resolve("bare");
    Files.createDirectories(bare);
    Files.copy(dir.resolve("phantom_0000.tif"), bare.resolve("a.tif"));
    UserException none = assertThrows(UserException.class, () -> FaithfulnessScoreRun.run(
        request(bare.toString(), "prototypes"), Env.files()));
    assertTrue(none.getMessage().contains("gives no mask for any image"), none.getMessage());
  }
}
