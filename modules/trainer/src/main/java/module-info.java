/**
 * The GRPO training library: the objective, the methods, the one epoch path for one and many ranks, the config with
 * its presets, training runs with metrics and checkpoints. No CLI, plotting or progress-bar dependency: progress
 * reaches an application through {@link io.progrpo.trainer.RunListener}.
 */
module io.progrpo.trainer {
    requires transitive io.progrpo.pruning;
    requires com.fasterxml.jackson.databind;
    // the io.progrpo.OptimizerStep and io.progrpo.CheckpointWrite Flight Recorder events
    requires jdk.jfr;

    exports io.progrpo.trainer;
    exports io.progrpo.trainer.config;

    // Jackson reads and writes config records and metric rows reflectively.
    opens io.progrpo.trainer.config to com.fasterxml.jackson.databind;
}
