package io.progrpo.app;

import io.progrpo.trainer.RunLock;

import java.nio.file.Path;

/** Test-only child JVM: takes the lock of the run directory {@code args[0]}, says "locked", holds it until stdin closes. */
public final class RunLockHolder {
    private RunLockHolder() {}

    public static void main(String[] args) throws Exception {
        try (RunLock lock = RunLock.acquire(Path.of(args[0]))) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold
            }
        }
    }
}
