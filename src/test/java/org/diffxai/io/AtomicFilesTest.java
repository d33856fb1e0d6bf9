package org.diffxai.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.CancelledException;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  @TempDir
  Path dir;

  @Test
  void writesFileCreatingParentsAndLeavesNoTemporaryFiles() throws IOException {
    Path f = dir.resolve("a/b/c.txt");
    AtomicFiles.writeString(f, "hello");
    assertEquals("hello", new String(Files.readAllBytes(f), StandardCharsets.UTF_8));
    assertEquals(List.of("c.txt"), listing(f.getParent()));
  }

  @Test
  void failedWriterKeepsTheOldContentAndDeletesTheTemporaryFile() throws IOException {
    Path f = dir.resolve("x.bin");
    AtomicFiles.write(f, new byte[] {1});
    // an I/O error becomes a UserException
    UserException u = assertThrows(UserException.class, () -> AtomicFiles.writeFile(f, tmp -> {
      Files.write(tmp, new byte[] {2, 2});
      throw new IOException("disk on fire");
    }));
    assertTrue(u.getMessage().startsWith("Cannot write to " + f.toAbsolutePath() + ": disk on fire."), u.getMessage());
    // a cancel propagates unchanged
    CancelledException c = new CancelledException();
    assertSame(c, assertThrows(CancelledException.class, () -> AtomicFiles.writeFile(f, tmp -> {
      Files.write(tmp, new byte[] {3, 3, 3});
      throw c;
    })));
    assertArrayEquals(new byte[] {1}, Files.readAllBytes(f));
    assertEquals(List.of("x.bin"), listing(dir));
  }

  @Test
  void pendingWithoutCommitDisappears() throws IOException {
    Path f = dir.resolve("p.bin");
    try (AtomicFiles.Pending p = AtomicFiles.begin(f)) {
      Files.write(p.temp(), new byte[] {9});
      assertTrue(p.temp().getFileName().toString().startsWith(".p.bin."));
      assertEquals(dir.toAbsolutePath(), p.temp().getParent(), "temporary file lives beside the target");
    }
    assertEquals(List.of(), listing(dir));
  }

  @Test
  void directoriesAreWrittenBesideAndRenamedIntoPlace() throws IOException {
    Path bundle = dir.resolve("model");
    AtomicFiles.writeDirectory(bundle, tmp -> {
      assertEquals(dir.toAbsolutePath(), tmp.getParent());
      assertFalse(Files.exists(bundle), "the target appears only at the end");
      Files.write(tmp.resolve("v1.txt"), new byte[] {1});
    });
    assertEquals(List.of("v1.txt"), listing(bundle));
    // replacing: the old tree goes, the new one arrives
    AtomicFiles.writeDirectory(bundle, tmp -> Files.createDirectories(tmp.resolve("sub")).resolve("x").toFile()
        .createNewFile());
    assertEquals(List.of("sub"), listing(bundle));
    assertEquals(List.of("model"), listing(dir));
  }

  @Test
  void failedOrCancelledDirectoryWriteKeepsTheOldDirectory() throws IOException {
    Path bundle = dir.resolve("model");
    AtomicFiles.writeDirectory(bundle, tmp -> Files.write(tmp.resolve("good.txt"), new byte[] {1}));
    assertThrows(CancelledException.class, () -> AtomicFiles.writeDirectory(bundle, tmp -> {
      Files.write(tmp.resolve("half.txt"), new byte[] {1});
      throw new CancelledException();
    }));
    assertThrows(UserException.class, () -> AtomicFiles.writeDirectory(bundle, tmp -> {
      throw new IOException("boom");
    }));
    assertEquals(List.of("good.txt"), listing(bundle));
    assertEquals(List.of("model"), listing(dir));
  }

  @Test
  void outputDirectoryBelowAFileIsAClearUserError() throws IOException {
    Path file = dir.resolve("plain.txt");
    Files.write(file, new byte[] {1});
    UserException e = assertThrows(UserException.class, () -> AtomicFiles.ensureDirectory(file.resolve("out")));
    assertEquals("Cannot write to " + file.resolve("out").toAbsolutePath() + ": " + file.toAbsolutePath()
        + " is a file, not a folder. Choose another output directory.", e.getMessage());
    assertThrows(UserException.class, () -> AtomicFiles.writeString(file.resolve("out/x.txt"), "x"));
    UserException d = assertThrows(UserException.class, () -> AtomicFiles.writeString(dir, "x"));
    assertTrue(d.getMessage().contains("a folder with that name exists"), d.getMessage());
    UserException b = assertThrows(UserException.class, () -> AtomicFiles.writeDirectory(file, tmp -> { }));
    assertTrue(b.getMessage().contains("a file with that name exists"), b.getMessage());
  }

  @Test
  void ioErrorsBecomeOneSentenceWithARemedy() {
    // The permission case itself cannot be provoked when tests run as root, so the mapping is checked directly.
    assertEquals("Cannot write to /x: permission denied. Choose another output directory.",
        AtomicFiles.cannotWrite(Paths.get("/x"), new AccessDeniedException("/x/.tmp")).getMessage());
    assertEquals("Cannot write to /x: read-only file system. Choose another output directory.",
        AtomicFiles.cannotWrite(Paths.get("/x"), new FileSystemException("/x/a", null, "Read-only file system"))
            .getMessage());
    assertEquals("Cannot write to /x: no space left on device. Free some disk space or choose another output "
        + "directory.", AtomicFiles.cannotWrite(Paths.get("/x"), new IOException("No space left on device"))
            .getMessage());
  }

  private static List<String> listing(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }
}
