package io.progrpo.tensor.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A phase of a run (sampling, reward, training, eval, ...), as a duration event: begun when the phase is entered,
 * committed when it is left, with the ledger's bytes, the process's resident set and the CUDA allocator's figures at
 * both ends. {@link TensorEvents#enterPhase} and {@link TensorEvents#leavePhase} manage it per thread.
 */
@Name("io.progrpo.Phase")
@Label("progrpo phase")
@Category({"progrpo", "Phases"})
@Description("A phase of a run with memory at its start and end")
@StackTrace(false)
public final class PhaseEvent extends Event {
    @Label("Phase") public String phase;
    @Label("Epoch") public int epoch;
    @Label("Ledger bytes at start") @DataAmount public long ledgerBytesStart;
    @Label("Ledger bytes at end") @DataAmount public long ledgerBytesEnd;
    @Label("RSS at start") @DataAmount public long rssStart;
    @Label("RSS at end") @DataAmount public long rssEnd;
    @Label("CUDA allocated at end") @DataAmount public long cudaAllocated;
    @Label("CUDA reserved at end") @DataAmount public long cudaReserved;
}
