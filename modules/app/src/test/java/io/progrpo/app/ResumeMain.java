package io.progrpo.app;

import io.progrpo.app.cli.Main;

/** Test-only entry point for child JVMs on the class path: the CLI with progrpo's commands registered. */
public final class ResumeMain {
    private ResumeMain() {}

    public static void main(String[] args) {
        Main.setCommands(new ProgrpoCommands());
        Main.main(args);
    }
}
