/** The GRPO trainer: objective, methods, config presets, checkpoints, CLI, metrics and reports. */
module io.progrpo.trainer {
    requires transitive io.progrpo.pruning;
    requires com.google.common;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires java.desktop;

    // exports io.progrpo.trainer; (added with the first class)

    // opens (added with the first class)
}
