package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The key tables of docs/commands/*.md are what {@link DocsKeys} generates from the code: a renamed key, a new default
 * or a changed description fails here until the pages are regenerated with
 * {@code mvn -q test -Dtest=DocsKeysTest -Ddiffxai.updateDocs=true} (or DocsKeys' main).
 */
class DocsKeysTest {

  static final Path DOCS = ImageJApp.classesDir(CommandBridge.class).getParent().getParent().resolve("docs")
      .resolve("commands");

  @Test
  void everyCommandPageHasTheKeyTableOfTheCode() throws Exception {
    if (Boolean.getBoolean("diffxai.updateDocs")) {
      for (String change : DocsKeys.write(DOCS, getClass().getClassLoader())) System.out.println(change);
    }
    List<String> problems = DocsKeys.check(DOCS, getClass().getClassLoader());
    assertEquals(new ArrayList<String>(), problems, "Regenerate the key tables: mvn -q test -Dtest=DocsKeysTest"
        + " -Ddiffxai.updateDocs=true\n" + String.join("\n", problems));
  }

  @Test
  void aChangedTableIsFound(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    for (Path p : Files.newDirectoryStream(DOCS, "*.md")) Files.copy(p, tmp.resolve(p.getFileName()));
    Path page = tmp.resolve("synthesize.md");
    String text = new String(Files.readAllBytes(page), java.nio.charset.StandardCharsets.UTF_8);
    Files.write(page, text.replace("| `samples` | `4` |", "| `samples` | `5` |").getBytes("UTF-8"));
    assertEquals(1, DocsKeys.check(tmp, getClass().getClassLoader()).size());
    Files.delete(tmp.resolve("explain-trajectory.md"));
    assertEquals(2, DocsKeys.check(tmp, getClass().getClassLoader()).size());
    DocsKeys.write(tmp, getClass().getClassLoader());
    assertEquals(new ArrayList<String>(), DocsKeys.check(tmp, getClass().getClassLoader()));
    assertTrue(new String(Files.readAllBytes(tmp.resolve("explain-trajectory.md")), "UTF-8")
        .startsWith("# Explain Trajectory\n"));
  }

  @Test
  void pagesAreInTheJarForTheHelp() {
    CommandSpec spec = CommandSpec.of(SynthesizeCommand.class);
    assertTrue(DialogText.docsParagraph(spec).startsWith("Samples images from a diffusion denoiser"),
        DialogText.docsParagraph(spec));
    assertTrue(DialogText.helpHtml(spec).contains("Samples images from a diffusion denoiser"));
    assertThrows(IllegalArgumentException.class, () -> DocsKeys.update("# no markers\n", spec));
    assertTrue(Files.isDirectory(Paths.get(DOCS.toString())));
  }
}
