package io.progrpo.pruning;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * One prune checkpoint of the expand-and-prune driver, as a Flight Recorder event ({@code io.progrpo.PruneCheckpoint}):
 * the step, the group sizes before and after, the proxy rewards' mean within-group std before and after, and the bytes
 * the ledger released when the pruned rows left the trajectory and the conditioning (the tensor module's
 * {@code io.progrpo.StorageFreed} events of that time carry the phase {@code prune}).
 */
@Name("io.progrpo.PruneCheckpoint")
@Label("Prune checkpoint")
@Category({"progrpo", "Pruning"})
@Description("A checkpoint of expand-and-prune: sizes, proxy-reward spread and the bytes released")
@StackTrace(false)
final class PruneCheckpointEvent extends jdk.jfr.Event {
    @Label("Step") int step;
    @Label("Total steps") int totalSteps;
    @Label("Groups") int groups;
    @Label("Group size before") int sizeBefore;
    @Label("Group size after") int sizeAfter;
    @Label("Proxy std before") double proxyStdBefore;
    @Label("Proxy std after") double proxyStdAfter;
    @Label("Bytes released") @DataAmount long bytesReleased;
    @Label("Ledger bytes after") @DataAmount long ledgerBytesAfter;

    /** Commits one checkpoint's event when recording is on; made after the prune, so it follows the prune's storage events. */
    static void record(ExpandAndPruneDriver.CheckpointStats s, int totalSteps, int groups, long released, long ledgerAfter) {
        PruneCheckpointEvent e = new PruneCheckpointEvent();
        if (!e.isEnabled()) return;
        e.step = s.step();
        e.totalSteps = totalSteps;
        e.groups = groups;
        e.sizeBefore = s.sizeBefore();
        e.sizeAfter = s.sizeAfter();
        e.proxyStdBefore = s.withinGroupStdBefore();
        e.proxyStdAfter = s.withinGroupStdAfter();
        e.bytesReleased = released;
        e.ledgerBytesAfter = ledgerAfter;
        e.commit();
    }
}
