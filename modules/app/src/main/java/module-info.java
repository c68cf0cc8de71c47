/**
 * The executables of progrpo: the CLI ({@code scripts/progrpo}), the demo, the study, reports and plots, the side-by-side
 * benchmark, the GPU check, and the wiring of embedded-world, TorchScript and data-parallel jobs from a config.
 */
module io.progrpo.app {
    requires io.progrpo.trainer;
    requires io.progrpo.world;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    // ImageIO and plots: optional at run time, so a jlink image without java.desktop (the GPU bundle) can train;
    // launchers add it with --add-modules java.desktop.
    requires static java.desktop;
    requires org.knowm.xchart;          // automatic module (Automatic-Module-Name in its manifest)
    requires me.tongfei.progressbar;    // explicit module (requires org.jline.terminal)
    requires commons.math3;             // automatic module (derived from the jar's name): Student-t quantiles
    requires jdk.jfr;                   // progrpo profile reads Flight Recorder files

    exports io.progrpo.app;
    exports io.progrpo.app.job;
    exports io.progrpo.app.cli;
    exports io.progrpo.app.report;
    exports io.progrpo.app.distributed;
    exports io.progrpo.app.torchscript;
    exports io.progrpo.app.study;
    exports io.progrpo.app.profile;

    // picocli injects the annotated option fields of the subcommands and of the demo.
    opens io.progrpo.app.cli to info.picocli;
    opens io.progrpo.app to info.picocli;

    // The CLI's work, when not registered through Main.setCommands.
    uses io.progrpo.app.cli.Commands;
    provides io.progrpo.app.cli.Commands with io.progrpo.app.ProgrpoCommands;
}
