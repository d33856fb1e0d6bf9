package org.diffxai.core;

import java.io.IOException;

/**
 * Receives the kept trajectory frames of a sampling run, in order, while the run goes on. The sampler keeps no frame
 * itself: a sink that writes each frame and drops it keeps memory flat however many steps are kept.
 */
public interface TrajectorySink {

  /** Called once per kept step; the frame's arrays are new and belong to the sink. */
  void accept(TrajectoryFrame frame) throws IOException;
}
