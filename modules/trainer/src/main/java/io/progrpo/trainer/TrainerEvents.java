package io.progrpo.trainer;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The trainer's Flight Recorder events: each optimizer step and each checkpoint write (progrpo.jfc enables them). */
final class TrainerEvents {
    private TrainerEvents() {}

    @Name("io.progrpo.OptimizerStep")
    @Label("Optimizer step")
    @Category({"progrpo", "Training"})
    @Description("One AdamW step: the epoch, the step within it, the gradient norm before clipping, the groups that contributed")
    @StackTrace(false)
    static final class OptimizerStep extends Event {
        @Label("Epoch") int epoch;
        @Label("Step in epoch") int step;
        @Label("Gradient norm") double gradNorm;
        @Label("Contributing groups") int groups;
        @Label("Ledger bytes") @DataAmount long ledgerBytes;
    }

    @Name("io.progrpo.CheckpointWrite")
    @Label("Checkpoint write")
    @Category({"progrpo", "Training"})
    @Description("A checkpoint written durably (policy, optimizer state, state.json, config.json) after an epoch")
    @StackTrace(false)
    static final class CheckpointWrite extends Event {
        @Label("Epoch") int epoch;
        @Label("Directory") String directory;
    }
}
