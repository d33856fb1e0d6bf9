package org.diffxai.fiji;

import org.diffxai.run.InvalidKeyException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.measure.ResultsTable;
import java.awt.GraphicsEnvironment;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;

/**
 * The Fiji-script path: the same command class run through SciJava's CommandService (what {@code #@ CommandService}
 * scripts do), found through the annotation index, with no ImageJ 1.x GUI (this JVM is headless).
 */
class CommandServiceTest {

  @Test
  void commandServiceRunsCommandWithInjectedServicesAndOutputs(@TempDir Path tmp) throws Exception {
    assertTrue(GraphicsEnvironment.isHeadless(), "tests run without a display");
    long t0 = System.nanoTime();
    try (Context context = new Context(CommandService.class)) {
      long startMs = (System.nanoTime() - t0) / 1_000_000L;
      CommandService cs = context.service(CommandService.class);
      // discovered through the annotation index like in Fiji
      assertEquals(TestWriteCommand.class.getName(), cs.getCommand(TestWriteCommand.class).getClassName());
      Path out = tmp.resolve("o.txt");
      long t1 = System.nanoTime();
      CommandModule m = cs.run(TestWriteCommand.class, true, "count", 4, "text", "a b", "mode", "slow", "flag", true,
          "output", out.toString()).get();
      long runMs = (System.nanoTime() - t1) / 1_000_000L;
      System.out.println("[measure] Context(CommandService) start " + startMs + " ms, first run " + runMs + " ms");
      String s = ImageJApp.read(out);
      assertTrue(s.startsWith("count=4\ntext=a b\nmode=slow\nscale=0.5\nflag=true\n"), s);
      assertTrue(s.contains("log_service=true\nheadless=true\n"), s); // SciJava injected the optional service
      ResultsTable t = (ResultsTable) m.getOutput("table");
      assertEquals(4.0, t.getValue("count", 0));
      assertTrue(((String) m.getOutput("summary")).startsWith("count=4\n"));

      // choices are checked for scripts too (the command calls CommandSpec.validate)
      java.util.concurrent.ExecutionException ex = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.ExecutionException.class,
          () -> cs.run(TestWriteCommand.class, true, "mode", "FAST", "output", out.toString()).get());
      Throwable cause = ex;
      while (cause.getCause() != null) cause = cause.getCause(); // ExecutionException > "Module threw exception" > ours
      assertEquals(InvalidKeyException.class, cause.getClass());
      assertEquals("Invalid value for \"mode\": \"FAST\". Choose one of: fast, slow.", cause.getMessage());

      // persist = false: a second run that leaves "count" out gets the default, not the 4 of the first run
      m = cs.run(TestWriteCommand.class, true, "output", out.toString()).get();
      assertTrue(ImageJApp.read(out).startsWith("count=1\n"), ImageJApp.read(out));
    }
  }
}
