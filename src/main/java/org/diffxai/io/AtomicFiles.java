package org.diffxai.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.diffxai.core.UserException;

/**
 * Writes files and directories so that readers only ever see the old content or the complete new content: everything
 * is written to a hidden temporary sibling ({@code .name.<random>.tmp}) in the target's directory, flushed to disk,
 * then renamed over the target with {@link StandardCopyOption#ATOMIC_MOVE}. On any exception (including
 * {@link org.diffxai.core.CancelledException} and errors) the temporary file or directory is deleted, so a failed or
 * cancelled run leaves nothing behind.
 *
 * <p>I/O problems the user can fix (permissions, read-only or full disk, a file where a folder should be) become a
 * {@link UserException} naming the path and the remedy.
 */
public final class AtomicFiles {

  /** Writes the complete content to {@code temp}, an empty file or directory that already exists. */
  @FunctionalInterface
  public interface PathWriter {
    void write(Path temp) throws IOException;
  }

  private AtomicFiles() {}

  /**
   * Atomically creates or replaces the file {@code target} with what {@code writer} writes into the (empty, existing)
   * temporary file it is given. Creates missing parent directories.
   *
   * @return the target
   * @throws UserException if the directory cannot be created or written
   */
  public static Path writeFile(Path target, PathWriter writer) {
    try (Pending p = begin(target)) {
      try {
        writer.write(p.temp());
      } catch (IOException e) {
        throw cannotWrite(target, e);
      }
      p.commit();
    }
    return target;
  }

  /** Atomically creates or replaces {@code target} with the given bytes. */
  public static Path write(Path target, byte[] bytes) {
    return writeFile(target, tmp -> Files.write(tmp, bytes));
  }

  /** Atomically creates or replaces {@code target} with the given text in UTF-8. */
  public static Path writeString(Path target, String text) {
    return write(target, text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Atomically creates or replaces the directory {@code target} (a bundle) with what {@code writer} writes into an
   * empty temporary directory beside it. When {@code target} already exists it is first renamed aside, the new
   * directory is renamed into place, and the old one is deleted; if the second rename fails the old directory is put
   * back. (POSIX cannot rename a directory over a non-empty one, so replacing is two renames, not one.)
   *
   * @return the target
   * @throws UserException if the parent directory cannot be created or written, or {@code target} is a file
   */
  public static Path writeDirectory(Path target, PathWriter writer) {
    Path abs = target.toAbsolutePath().normalize();
    Path parent = parentOf(abs);
    ensureDirectory(parent);
    if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS)) {
      throw new UserException("Cannot write the folder " + abs + ": a file with that name exists. "
          + "Choose another name or delete the file.");
    }
    Path tmp = siblingName(abs, ".tmp");
    boolean done = false;
    try {
      Files.createDirectory(tmp);
      writer.write(tmp);
      if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
        Path old = siblingName(abs, ".old");
        move(abs, old);
        try {
          move(tmp, abs);
        } catch (IOException | RuntimeException e) {
          move(old, abs);
          throw e;
        }
        deleteRecursively(old);
      } else {
        move(tmp, abs);
      }
      done = true;
    } catch (IOException e) {
      throw cannotWrite(abs, e);
    } finally {
      if (!done) deleteRecursively(tmp);
    }
    return target;
  }

  /**
   * Starts an atomic write of {@code target}: creates the parent directories and an empty temporary file beside the
   * target. Write to {@link Pending#temp()}, then call {@link Pending#commit()}; closing without committing deletes
   * the temporary file (use in try-with-resources).
   */
  public static Pending begin(Path target) {
    Path abs = target.toAbsolutePath().normalize();
    ensureDirectory(parentOf(abs));
    if (Files.isDirectory(abs)) {
      throw new UserException("Cannot write the file " + abs + ": a folder with that name exists. "
          + "Choose another file name or remove the folder.");
    }
    Path tmp = siblingName(abs, ".tmp");
    try {
      Files.createFile(tmp);
    } catch (IOException e) {
      throw cannotWrite(parentOf(abs), e);
    }
    return new Pending(abs, tmp);
  }

  /** A temporary file that becomes the target on {@link #commit()} and disappears otherwise. */
  public static final class Pending implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private boolean finished;

    Pending(Path target, Path temp) {
      this.target = target;
      this.temp = temp;
    }

    /** The file to write (exists, empty at first). */
    public Path temp() {
      return temp;
    }

    /** The final path. */
    public Path target() {
      return target;
    }

    /** Flushes the temporary file to disk and renames it over the target. */
    public void commit() {
      if (finished) throw new IllegalStateException("already committed or aborted: " + target);
      try {
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
        move(temp, target);
        finished = true;
      } catch (IOException e) {
        abort();
        throw cannotWrite(target, e);
      }
    }

    /** Deletes the temporary file; the target is left as it was. Safe to call more than once. */
    public void abort() {
      finished = true;
      deleteQuietly(temp);
    }

    /** Aborts unless committed. */
    @Override
    public void close() {
      if (!finished) abort();
    }
  }

  /**
   * Creates {@code dir} (and missing parents) if needed and checks that it is a writable directory.
   *
   * @throws UserException naming the directory and the remedy otherwise
   */
  public static Path ensureDirectory(Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    if (Files.isDirectory(abs)) {
      if (!Files.isWritable(abs)) {
        throw new UserException("Cannot write to " + abs + ": permission denied. Choose another output directory.");
      }
      return abs;
    }
    try {
      Files.createDirectories(abs);
    } catch (IOException e) {
      Path file = blocking(abs);
      if (file != null) {
        throw new UserException(
            "Cannot write to " + abs + ": " + file + " is a file, not a folder. Choose another output directory.", e);
      }
      throw cannotWrite(abs, e);
    }
    return abs;
  }

  /**
   * The user-facing form of an I/O failure while writing {@code path}: "Cannot write to PATH: REASON. REMEDY."
   */
  public static UserException cannotWrite(Path path, IOException e) {
    String reason = reason(e);
    String remedy = "Choose another output directory.";
    if (reason.contains("no space left")) remedy = "Free some disk space or choose another output directory.";
    else if (reason.contains("quota")) remedy = "Free some space in your quota or choose another output directory.";
    return new UserException("Cannot write to " + path + ": " + reason + ". " + remedy, e);
  }

  /** Deletes a file or a directory tree, ignoring errors (best-effort cleanup). */
  public static void deleteRecursively(Path p) {
    if (p == null || !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> s = Files.walk(p)) {
        s.sorted(Comparator.reverseOrder()).forEach(AtomicFiles::deleteQuietly);
      } catch (IOException | RuntimeException e) {
        // best effort
      }
    } else {
      deleteQuietly(p);
    }
  }

  private static String reason(IOException e) {
    if (e instanceof AccessDeniedException) return "permission denied";
    if (e instanceof NotDirectoryException) return "a part of the path is a file, not a folder";
    if (e instanceof NoSuchFileException) return "a folder on the path does not exist";
    if (e instanceof DirectoryNotEmptyException) return "a non-empty folder is in the way";
    if (e instanceof FileAlreadyExistsException) return "something with that name is in the way";
    String msg = e instanceof FileSystemException ? ((FileSystemException) e).getReason() : e.getMessage();
    if (msg == null) msg = e.getClass().getSimpleName();
    String lower = msg.toLowerCase(java.util.Locale.ROOT);
    if (lower.contains("permission denied") || lower.contains("operation not permitted")) return "permission denied";
    if (lower.contains("read-only file system")) return "read-only file system";
    if (lower.contains("no space left")) return "no space left on device";
    if (lower.contains("quota")) return "disk quota exceeded";
    if (lower.contains("not a directory")) return "a part of the path is a file, not a folder";
    return msg;
  }

  /** The first existing path among {@code p} and its ancestors that is not a directory (blocks createDirectories). */
  private static Path blocking(Path p) {
    for (Path q = p; q != null; q = q.getParent()) {
      if (Files.exists(q) && !Files.isDirectory(q)) return q;
    }
    return null;
  }

  private static Path parentOf(Path abs) {
    Path parent = abs.getParent();
    if (parent == null) throw new UserException("Cannot write to " + abs + ": it is a file system root.");
    return parent;
  }

  /**
   * A hidden, unique sibling such as {@code .name.4711.3f9a0c1d.tmp}: the name part (shortened to stay a valid name),
   * the id of the process writing it, a random part. The process id lets a later run remove the leftovers of a run
   * that was killed ({@link #removeDeadTemporaries}).
   */
  public static Path siblingName(Path abs, String suffix) {
    String name = abs.getFileName().toString();
    if (name.length() > 100) name = name.substring(0, 100);
    String rnd = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffffffL);
    return abs.resolveSibling("." + name + "." + ProcessHandle.current().pid() + "." + rnd + suffix);
  }

  /** Temporaries named by {@link #siblingName}: group 1 is the process id. */
  private static final Pattern TEMPORARY = Pattern.compile("\\..+\\.(\\d+)\\.[0-9a-f]+\\.(tmp|old|staging)");

  /**
   * Deletes the temporary files and folders that runs which no longer exist left in {@code dir} (a process killed
   * while writing). Temporaries of running processes, this one included, are left alone.
   *
   * @return how many were removed
   */
  public static int removeDeadTemporaries(Path dir) {
    int removed = 0;
    if (!Files.isDirectory(dir)) return 0;
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Matcher m = TEMPORARY.matcher(p.getFileName().toString());
        if (!m.matches()) continue;
        long pid;
        try {
          pid = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
          continue;
        }
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
        deleteRecursively(p);
        removed++;
      }
    } catch (IOException | RuntimeException e) {
      // best effort: a folder we cannot list is reported when we write to it
    }
    return removed;
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      // Some network file systems cannot rename atomically; a plain replace is the best they offer.
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException | RuntimeException e) {
      // best effort
    }
  }
}
