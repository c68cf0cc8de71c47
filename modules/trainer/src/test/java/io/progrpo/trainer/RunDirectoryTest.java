package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.files.Manifest;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.trainer.internal.DurableFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The run directory in one process, on the one-parameter policy of {@link LearningDirectionTest}: every state a crash
 * can leave the checkpoint slots in resumes from the newest whole checkpoint and ends where an uninterrupted run
 * ends; a fresh run never removes a whole checkpoint; a damaged file, an invalid state.json or a torn metrics line
 * is handled as documented.
 */
class RunDirectoryTest {
    @TempDir
    static Path shared;

    /** Checkpoints after epoch 0 and after epoch 1; the uninterrupted 3-epoch run's parameter and metrics. */
    static Path epoch0;
    static Path epoch1;
    static double referenceB;
    static Path referenceMetrics;

    @TempDir
    Path tmp;

    static TrainConfig config(Path out, int epochs) {
        return TrainConfig.resolve("flow-grpo", null, List.of("epochs=" + epochs, "checkpointEvery=1", "evalEvery=0", "outDir=" + out));
    }

    /** Runs a new one-parameter policy in {@code out}; returns its parameter at the end. */
    static double train(Path out, int epochs, boolean resume, List<String> log) throws IOException {
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(Double.MAX_VALUE))) {
            new TrainingRun(config(out, epochs), t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), out, log::add).run(resume);
            return policy.namedParameters().get("b").item();
        }
    }

    static TrainingRun run(Path out, LearningDirectionTest.ConstantVelocity policy, GrpoTrainer t, List<String> log) {
        return new TrainingRun(config(out, 3), t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), out, log::add);
    }

    @BeforeAll
    static void checkpoints() throws IOException {
        Path ref = shared.resolve("reference");
        referenceB = train(ref, 3, false, new ArrayList<>());
        referenceMetrics = ref.resolve("metrics.jsonl");
        Path steps = shared.resolve("steps");
        train(steps, 1, false, new ArrayList<>());
        epoch0 = copy(steps.resolve("checkpoint"), shared.resolve("epoch0"));
        train(steps, 2, true, new ArrayList<>());
        epoch1 = copy(steps.resolve("checkpoint"), shared.resolve("epoch1"));
    }

    static Path copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }

    /** An unfinished write: the parameters of epoch 1 and nothing else. */
    static void partial(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.copy(epoch1.resolve("policy.pt"), dir.resolve("policy.pt"));
    }

    /** The states a crash can leave (and two it cannot), with the epoch a resume must start at. */
    record State(String name, Map<String, Object> slots, int resumeEpoch) {}

    static List<State> states() {
        return List.of(
                new State("checkpoint/ alone", Map.of("checkpoint", epoch1), 2),
                new State("a whole checkpoint.tmp/ beside checkpoint/ (after the manifest)", Map.of("checkpoint", epoch0, "checkpoint.tmp", epoch1), 2),
                new State("checkpoint.old/ and checkpoint.tmp/ only (between the renames)", Map.of("checkpoint.old", epoch0, "checkpoint.tmp", epoch1), 2),
                new State("checkpoint/ and checkpoint.old/ (before the retire)", Map.of("checkpoint", epoch1, "checkpoint.old", epoch0), 2),
                new State("checkpoint/ and checkpoint.trash/ (during the retire)", Map.of("checkpoint", epoch1, "checkpoint.trash", epoch0), 2),
                new State("checkpoint/ and an unfinished checkpoint.tmp/", Map.of("checkpoint", epoch0, "checkpoint.tmp", "partial"), 1),
                new State("checkpoint.old/ and an unfinished checkpoint.tmp/", Map.of("checkpoint.old", epoch0, "checkpoint.tmp", "partial"), 1),
                new State("checkpoint.old/ alone", Map.of("checkpoint.old", epoch1), 2),
                new State("a newer checkpoint.old/ than checkpoint/", Map.of("checkpoint", epoch0, "checkpoint.old", epoch1), 2));
    }

    static void lay(Path out, State s) throws IOException {
        Files.createDirectories(out);
        for (var e : s.slots().entrySet()) {
            if (e.getValue() instanceof Path p) copy(p, out.resolve(e.getKey()));
            else partial(out.resolve(e.getKey()));
        }
        Files.copy(referenceMetrics, out.resolve("metrics.jsonl"));  // rows of epochs 0..2: a resume drops those it reruns
    }

    /** Every file under {@code dir} with its SHA-256, but the lock file (which names its last holder). */
    static Map<String, String> tree(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                if (!p.getFileName().toString().equals("run.lock")) out.put(dir.relativize(p).toString(), Manifest.sha256(p));
            }
        }
        return out;
    }

    /**
     * The metrics rows without timings, with the ledger's bytes made the epoch's own: the ledger counts every live
     * tensor of the JVM, so a tensor another test class left to the leak safety net, freed between two runs, moved
     * {@code bytes_before_epoch} and {@code peak_bytes} by its size (seen: 32 bytes); their difference is this run's.
     */
    static List<Map<String, Object>> rows(Path metrics) throws IOException {
        List<Map<String, Object>> rows = MetricsLog.withoutTimings(MetricsLog.read(metrics));
        for (Map<String, Object> r : rows) {
            Object before = r.remove("bytes_before_epoch");
            Object peak = r.get("peak_bytes");
            if (before instanceof Number b && peak instanceof Number p) r.put("peak_bytes", p.longValue() - b.longValue());
        }
        return rows;
    }

    @Test
    void everyStateOfTheSwapResumesFromTheNewestWholeCheckpointAndAFreshRunRemovesNone() throws IOException {
        List<Map<String, Object>> expected = rows(referenceMetrics);
        for (State s : states()) {
            Path out = tmp.resolve(s.name().replaceAll("[^a-z]+", "-"));
            lay(out, s);
            Map<String, String> before = tree(out);
            List<String> log = new ArrayList<>();
            IOException fresh = assertThrows(IOException.class, () -> train(out, 3, false, log), s.name());
            assertTrue(fresh.getMessage().contains("already holds a checkpoint") && fresh.getMessage().contains("--resume"), fresh.getMessage());
            assertEquals(before, tree(out), s.name() + ": the refused fresh run changed nothing");

            try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
                 GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(Double.MAX_VALUE))) {
                TrainingRun run = run(out, policy, t, log);
                TrainingRun.Start start = run.prepare(true);
                assertEquals(s.resumeEpoch(), start.epoch(), s.name() + ": " + log);
                assertEquals(out.resolve("checkpoint"), start.checkpoint(), s.name());
                assertEquals(0.0, policy.namedParameters().get("b").item(), "prepare loads nothing");
                run.run(start);
                assertEquals(referenceB, policy.namedParameters().get("b").item(), s.name() + ": the same parameter as one uninterrupted run");
            }
            assertEquals(expected, rows(out.resolve("metrics.jsonl")), s.name());
            try (var names = Files.list(out)) {
                assertEquals(List.of("checkpoint", "metrics.jsonl", "run.lock"),
                        names.map(p -> p.getFileName().toString()).sorted().toList(), s.name() + ": the other slots are retired");
            }
            TrainingRun.verifyCheckpoint(out.resolve("checkpoint"));
        }
    }

    @Test
    void withoutAWholeCheckpointResumeSaysSoAndAFreshRunClearsTheUnfinishedOne() throws IOException {
        Path out = tmp.resolve("run");
        partial(out.resolve("checkpoint.tmp"));
        List<String> log = new ArrayList<>();
        IOException e = assertThrows(IOException.class, () -> train(out, 3, true, log));
        assertTrue(e.getMessage().contains("no checkpoint to resume from in " + out) && e.getMessage().contains("without --resume"), e.getMessage());
        assertEquals(referenceB, train(out, 3, false, log));
        assertFalse(Files.exists(out.resolve("checkpoint.tmp")));
    }

    @Test
    void aFreshRunThatMayReplaceSaysWhatItReplaces() throws IOException {
        Path out = tmp.resolve("run");
        lay(out, states().get(2));
        List<String> log = new ArrayList<>();
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(Double.MAX_VALUE))) {
            run(out, policy, t, log).replaceExisting(true).run(false);
            assertEquals(referenceB, policy.namedParameters().get("b").item());
        }
        assertTrue(log.stream().anyMatch(l -> l.startsWith("replacing the earlier run's checkpoint (epoch 1) in " + out.resolve("checkpoint.tmp"))),
                String.join("\n", log));
    }

    @Test
    void aCheckpointOfAnEarlierVersionWithoutAManifestResumesWithAWarning() throws IOException {
        Path out = tmp.resolve("run");
        lay(out, states().get(0));
        Files.delete(out.resolve("checkpoint").resolve(Checkpoints.MANIFEST));
        List<String> log = new ArrayList<>();
        assertEquals(referenceB, train(out, 3, true, log));
        assertTrue(log.stream().anyMatch(l -> l.contains("has no manifest.sha256") && l.contains("cannot be verified")), String.join("\n", log));
    }

    @Test
    void aDamagedFileStopsTheResumeNamingTheFileBothDigestsAndTheWaysOut() throws IOException {
        for (String name : List.of("policy.pt", "optimizer.bin", "state.json", "config.json", Checkpoints.MANIFEST)) {
            Path out = tmp.resolve("damaged-" + name);
            lay(out, new State("with an older one", Map.of("checkpoint", epoch1, "checkpoint.old", epoch0), 2));
            Path dir = out.resolve("checkpoint");
            Map<String, String> recorded = Manifest.read(dir.resolve(Checkpoints.MANIFEST));
            Path damaged;
            if (name.equals(Checkpoints.MANIFEST)) {
                // one hex digit of policy.pt's line changed: the manifest no longer describes the file
                String text = Files.readString(dir.resolve(name));
                String line = recorded.get("policy.pt");
                String changed = (line.charAt(0) == 'a' ? 'b' : 'a') + line.substring(1);
                Files.writeString(dir.resolve(name), text.replace(line, changed));
                recorded.put("policy.pt", changed);
                damaged = dir.resolve("policy.pt");
            } else {
                damaged = dir.resolve(name);
                byte[] b = Files.readAllBytes(damaged);
                b[b.length / 2] ^= 0x10;
                Files.write(damaged, b);
            }
            String actual = Manifest.sha256(damaged);
            Map<String, String> before = tree(out);
            try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
                 GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(Double.MAX_VALUE))) {
                IOException e = assertThrows(IOException.class, () -> run(out, policy, t, new ArrayList<>()).run(true), name);
                String m = e.getMessage();
                assertTrue(m.contains(damaged.toString()) && m.contains("expected " + recorded.get(damaged.getFileName().toString()))
                        && m.contains("got " + actual), name + ": " + m);
                assertTrue(m.contains("Ways out") && m.contains("restore the file") && m.contains("sha256sum")
                        && m.contains("resume from the whole checkpoint in " + out.resolve("checkpoint.old") + " (epoch 0)"), m);
                assertEquals(0.0, policy.namedParameters().get("b").item(), name + ": nothing was loaded");
            }
            assertEquals(before, tree(out), name + ": the failed resume changed nothing");
            IOException eval = assertThrows(IOException.class, () -> TrainingRun.verifyCheckpoint(dir));
            assertTrue(eval.getMessage().contains(damaged.toString()) && eval.getMessage().contains("got " + actual), eval.getMessage());
        }
    }

    @Test
    void anInvalidStateJsonStopsTheResumeNamingTheFieldAndKeepsTheMetrics() throws IOException {
        for (String[] edit : List.of(new String[] {"\"epoch\" : 1", "\"epoch\" : -1", "'epoch'"},
                new String[] {"\"epoch\" : 1", "\"epoch\" : 1.5", "got 1.5"},
                new String[] {"\"epoch\" : 1", "\"epoch\" : 4294967297", "got 4294967297"})) {
            Path out = tmp.resolve("state" + Integer.toHexString(edit[1].hashCode()));
            lay(out, states().get(0));
            Path state = out.resolve("checkpoint").resolve("state.json");
            String text = Files.readString(state);
            assertTrue(text.contains(edit[0]), text);
            Files.writeString(state, text.replace(edit[0], edit[1]));
            Manifest.write(state.resolveSibling(Checkpoints.MANIFEST), Checkpoints.FILES);  // a deliberate edit, recorded
            byte[] metrics = Files.readAllBytes(out.resolve("metrics.jsonl"));
            IOException e = assertThrows(IOException.class, () -> train(out, 3, true, new ArrayList<>()));
            assertTrue(e.getMessage().contains(state.toString()) && e.getMessage().contains(edit[2])
                    && e.getMessage().contains("an integer in [0, 1]"), e.getMessage());
            assertEquals(new String(metrics, StandardCharsets.UTF_8), Files.readString(out.resolve("metrics.jsonl")), "no metrics line was removed");
        }
    }

    @Test
    void aTornLastMetricsLineDoesNotBlockTheResume() throws IOException {
        Path out = tmp.resolve("run");
        lay(out, states().get(0));
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        // rows of epochs 0 and 1, then half of the row of epoch 2 (a crash or a full disk during its append)
        Files.writeString(out.resolve("metrics.jsonl"), lines.get(0) + "\n" + lines.get(1) + "\n" + lines.get(2).substring(0, lines.get(2).length() / 2));
        assertEquals(referenceB, train(out, 3, true, new ArrayList<>()));
        assertEquals(rows(referenceMetrics), rows(out.resolve("metrics.jsonl")));
    }

    @Test
    void theCheckpointListsItsFilesInSha256sumFormat() throws IOException {
        Path dir = epoch1;
        List<String> lines = Files.readAllLines(dir.resolve(Checkpoints.MANIFEST));
        assertEquals(Checkpoints.FILES.size(), lines.size(), lines.toString());
        Map<String, String> expect = new LinkedHashMap<>();
        for (String f : Checkpoints.FILES) expect.put(f, Manifest.sha256(dir.resolve(f)));
        List<String> want = new ArrayList<>();
        expect.forEach((f, d) -> want.add(d + "  " + f));
        assertEquals(want, lines);
    }
}
