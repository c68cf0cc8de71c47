/** The GRPO trainer: objective, methods, config presets, checkpoints, CLI, metrics and reports. */
module io.progrpo.trainer {
    requires transitive io.progrpo.pruning;
    requires com.google.common;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    // ImageIO (JPEG rewards) and plots only: optional at run time, so a jlink image without java.desktop (the GPU
    // bundle) can train; launchers add it with --add-modules java.desktop.
    requires static java.desktop;
    requires org.knowm.xchart;          // automatic module (Automatic-Module-Name in its manifest)
    requires me.tongfei.progressbar;    // explicit module (requires org.jline.terminal)

    exports io.progrpo.trainer;
    exports io.progrpo.trainer.config;
    exports io.progrpo.trainer.report;
    exports io.progrpo.trainer.cli;
    exports io.progrpo.trainer.world;
    exports io.progrpo.trainer.distributed;
    exports io.progrpo.trainer.torchscript;

    // Jackson reads and writes config records and metric rows reflectively.
    opens io.progrpo.trainer.config to com.fasterxml.jackson.databind;
    // picocli injects the annotated option fields of the subcommands.
    opens io.progrpo.trainer.cli to info.picocli;
    // the demo command's options
    opens io.progrpo.trainer to info.picocli;

    // The CLI's work, when not registered through Main.setCommands.
    uses io.progrpo.trainer.cli.Commands;
    provides io.progrpo.trainer.cli.Commands with io.progrpo.trainer.ProgrpoCommands;
}
