/** Optimal Variance Filtering, subset strategies, prune schedules and the expand-and-prune driver. */
module io.progrpo.pruning {
    requires transitive io.progrpo.sampler;
    requires transitive io.progrpo.reward;

    exports io.progrpo.pruning;

    // the io.progrpo.PruneCheckpoint Flight Recorder event
    requires jdk.jfr;
}
