package org.diffxai.fiji;

/**
 * Runs a command instance synchronously on the calling thread, the way every front-end must: with the thread's context
 * class loader set to the command's class loader (DJL and other ServiceLoader users find their engines only through it
 * inside ImageJ/Fiji, whose plugin class loader is not the system one), restored afterwards.
 */
public final class CommandRunner {

  private CommandRunner() {}

  /**
   * Runs {@code command.run()}.
   *
   * @throws org.diffxai.core.UserException also when a class the command needs is missing (a missing dependency jar)
   */
  public static void run(Object command) {
    if (!(command instanceof Runnable)) {
      throw new IllegalArgumentException(command.getClass().getName() + " is not a Command");
    }
    Thread t = Thread.currentThread();
    ClassLoader previous = t.getContextClassLoader();
    t.setContextClassLoader(command.getClass().getClassLoader());
    try {
      ((Runnable) command).run();
    } catch (NoClassDefFoundError | UnsatisfiedLinkError e) {
      throw Commands.missingDependency(CommandSpec.of(command.getClass()).label(), e);
    } finally {
      t.setContextClassLoader(previous);
    }
  }
}
