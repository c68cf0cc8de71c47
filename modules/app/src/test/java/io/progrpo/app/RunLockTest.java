package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.torchscript.TorchScriptModels;
import io.progrpo.trainer.RunLock;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One run writes into a run directory at a time: a second one stops at once with a message naming the holder's pid;
 * a lock whose process was killed does not block.
 */
class RunLockTest {
    @TempDir
    Path tmp;

    static Process holder(Path dir) throws IOException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), RunLockHolder.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
        String line = r.readLine();
        assertEquals("locked", line, "the holder took the lock");
        return p;
    }

    @Test
    void aSecondRunStopsAtOnceNamingTheHolderAndAKilledHolderDoesNotBlock() throws Exception {
        Path out = tmp.resolve("run");
        Process h = holder(out);
        try {
            IOException e = assertThrows(IOException.class, () -> RunLock.acquire(out));
            assertTrue(e.getMessage().contains("in use by another progrpo run") && e.getMessage().contains("pid " + h.pid() + " on "),
                    e.getMessage());

            // the CLI: `progrpo train` into the same --out fails before building anything, and writes nothing
            ChildRun.Result second = ChildRun.train(tmp.resolve("cache"), out, false, null, tmp.resolve("second.log"));
            assertEquals(1, second.status(), second.log());
            assertTrue(second.log().contains("error: run directory " + out + " is in use by another progrpo run (pid " + h.pid()),
                    second.log());
            assertFalse(second.log().contains("pretraining"), "it stopped before building the job:\n" + second.log());
            try (var names = Files.list(out)) {
                assertEquals(List.of(RunLock.FILE), names.map(p -> p.getFileName().toString()).toList());
            }
        } finally {
            h.destroyForcibly();  // kill -9: the OS releases the lock, the lock file stays
            assertTrue(h.waitFor(30, TimeUnit.SECONDS));
        }
        assertTrue(Files.exists(out.resolve(RunLock.FILE)), "a stale lock file is left behind");
        try (RunLock lock = RunLock.acquire(out)) {
            String text = Files.readString(out.resolve(RunLock.FILE));
            assertTrue(text.startsWith("pid " + ProcessHandle.current().pid() + " on "), "the new holder is named: " + text);
        }
    }

    static Path fixtures() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("fixtures/torchscript"))) return p.resolve("fixtures/torchscript");
        }
        throw new IllegalStateException("fixtures/torchscript not found above " + Path.of("").toAbsolutePath());
    }

    @Test
    void trainTorchScriptStopsAtOnceTooAndLeavesTheHoldersFilesAlone() throws Exception {
        Path out = tmp.resolve("run");
        Files.createDirectories(out);
        Files.writeString(out.resolve(ProgrpoCommands.ADAPTERS_FILE), "the holder's result");
        Process h = holder(out);
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream sysErr = System.err;
        int status;
        try {
            System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            TrainConfig c = TrainConfig.resolve("pro-grpo", null, List.of("epochs=1", "groupsPerEpoch=1", "groupSize=8",
                    "pruneSchedule=8>4@2>2@3", "samplerSteps=4", "subsetSize=2", "evalEvery=0", "outDir=" + out));
            status = new ProgrpoCommands().trainTorchScript(c, TorchScriptModels.fixtures(fixtures()), false);
        } finally {
            System.setErr(sysErr);
            h.destroyForcibly();
            assertTrue(h.waitFor(30, TimeUnit.SECONDS));
        }
        String text = err.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(1, status, text);
        assertTrue(text.contains("is in use by another progrpo run (pid " + h.pid()), text);
        assertEquals("the holder's result", Files.readString(out.resolve(ProgrpoCommands.ADAPTERS_FILE)), "nothing was removed");
    }

    @Test
    void anotherThreadIsRefusedWhileTheHoldingThreadReenters() throws Exception {
        Path out = tmp.resolve("run");
        try (RunLock outer = RunLock.acquire(out)) {
            try (RunLock inner = RunLock.acquire(out)) {
                // the CLI holds it while the run takes it again
                assertTrue(Files.exists(out.resolve(RunLock.FILE)));
            }
            IOException e = CompletableFuture.supplyAsync(() -> {
                try (RunLock other = RunLock.acquire(out)) {
                    return null;
                } catch (IOException x) {
                    return x;
                }
            }).get(30, TimeUnit.SECONDS);
            assertTrue(e != null && e.getMessage().contains("in use by another run in this process (thread '"), String.valueOf(e));
        }
        List<IOException> none = new ArrayList<>();
        CompletableFuture.runAsync(() -> {
            try (RunLock other = RunLock.acquire(out)) {
                // released by its holder: free for anyone
            } catch (IOException x) {
                none.add(x);
            }
        }).get(30, TimeUnit.SECONDS);
        assertEquals(List.of(), none);
    }
}
