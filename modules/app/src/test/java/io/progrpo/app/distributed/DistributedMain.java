package io.progrpo.app.distributed;

import io.progrpo.app.ProgrpoCommands;
import io.progrpo.app.cli.Main;

/**
 * Test-only entry point for child JVMs: the CLI with progrpo's commands; with PROGRPO_TEST_HALT_RANK=r and
 * PROGRPO_TEST_HALT_AT=n, rank r's process halts (as if killed) just before its n-th gradient sync.
 */
public final class DistributedMain {
    private DistributedMain() {}

    public static void main(String[] args) {
        String rank = System.getenv("PROGRPO_TEST_HALT_RANK");
        if (rank != null && rank.equals(System.getenv("RANK"))) {
            int at = Integer.parseInt(System.getenv().getOrDefault("PROGRPO_TEST_HALT_AT", "1"));
            DistributedGrpo.beforeGradientSync = n -> {
                if (n == at) {
                    System.out.println("halting rank " + rank + " before gradient sync " + n);
                    System.out.flush();
                    Runtime.getRuntime().halt(9);
                }
            };
        }
        Main.setCommands(new ProgrpoCommands());
        Main.main(args);
    }
}
