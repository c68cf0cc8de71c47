package io.progrpo.app.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.CacheProperty;
import io.progrpo.app.job.Jobs;
import io.progrpo.tensor.jfr.TensorEvents;
import io.progrpo.trainer.config.TrainConfig;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short pro-grpo run recorded with progrpo.jfc and read back with jdk.jfr.consumer: phase, prune-checkpoint and
 * storage events are there, and at each prune the bytes the checkpoint event reports released (the ledger's drop) equal
 * the storage events of the prune phase summed one by one (freed minus allocated).
 */
class FlightRecordingTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    @AfterEach
    void restore() {
        TensorEvents.setMinBytes(Long.getLong("progrpo.jfr.minBytes", 65536L));
    }

    @Test
    void aRecordedProGrpoEpochAccountsForThePrunedBytes() throws Exception {
        CACHE.point(tmp.resolve("cache"));
        TensorEvents.setMinBytes(0); // every storage, so the sums can be compared with the ledger
        TrainConfig c = TrainConfig.resolve("pro-grpo+quick", null, List.of("outDir=" + tmp.resolve("run"), "evalEvery=1"));
        Path file = tmp.resolve("run.jfr");
        try (Jobs.Job job = Jobs.build(c, s -> { })) {
            try (Recording r = new Recording(TensorEvents.configuration())) {
                r.start();
                job.run(tmp.resolve("run"), s -> { }).run(false);
                r.stop();
                r.dump(file);
            }
        }
        List<RecordedEvent> events = new ArrayList<>(RecordingFile.readAllEvents(file));
        Set<String> types = new TreeSet<>();
        for (RecordedEvent e : events) types.add(e.getEventType().getName());
        assertTrue(types.containsAll(List.of("io.progrpo.Phase", "io.progrpo.PruneCheckpoint", "io.progrpo.StorageAllocated",
                "io.progrpo.StorageFreed")), types.toString());
        assertTrue(types.stream().allMatch(t -> t.startsWith("io.progrpo.") || t.startsWith("jdk.Active")), "only progrpo's events: " + types);

        // one epoch of one group: one optimizer step, one checkpoint written
        List<RecordedEvent> steps = events.stream().filter(e -> e.getEventType().getName().equals("io.progrpo.OptimizerStep")).toList();
        assertEquals(1, steps.size(), types.toString());
        assertTrue(steps.get(0).getDouble("gradNorm") > 0 && steps.get(0).getInt("epoch") == 0, steps.get(0).toString());
        assertEquals(1, events.stream().filter(e -> e.getEventType().getName().equals("io.progrpo.CheckpointWrite")).count());
        Set<String> phases = new TreeSet<>();
        for (RecordedEvent e : events) {
            if (!e.getEventType().getName().equals("io.progrpo.Phase")) continue;
            phases.add(e.getString("phase"));
            assertTrue(e.getLong("rssEnd") > 0 && e.getLong("ledgerBytesEnd") >= 0, e.toString());
            assertTrue(!e.getEndTime().isBefore(e.getStartTime()), e.toString());
        }
        assertTrue(phases.containsAll(List.of("SAMPLING", "REWARD", "TRAINING", "EVAL", "prune")), phases.toString());

        // walk the events in time order on the training thread: the prune phase's storage events, then its checkpoint
        events.sort(Comparator.comparing(RecordedEvent::getStartTime));
        long net = 0;
        List<long[]> checkpoints = new ArrayList<>();
        for (RecordedEvent e : events) {
            String t = e.getEventType().getName();
            boolean inPrune = "prune".equals(safePhase(e));
            if (t.equals("io.progrpo.StorageFreed") && inPrune) net += e.getLong("bytes");
            if (t.equals("io.progrpo.StorageAllocated") && inPrune) net -= e.getLong("bytes");
            if (t.equals("io.progrpo.PruneCheckpoint")) {
                checkpoints.add(new long[] {e.getInt("step"), e.getInt("sizeBefore"), e.getInt("sizeAfter"), e.getLong("bytesReleased"), net});
                net = 0;
            }
        }
        // one training group: 48 -> 24 at step 5, 24 -> 12 at step 7
        assertEquals(2, checkpoints.size(), "one driver run of one group, two checkpoints");
        assertEquals(List.of(5L, 48L, 24L), List.of(checkpoints.get(0)[0], checkpoints.get(0)[1], checkpoints.get(0)[2]));
        assertEquals(List.of(7L, 24L, 12L), List.of(checkpoints.get(1)[0], checkpoints.get(1)[1], checkpoints.get(1)[2]));
        for (long[] cp : checkpoints) {
            assertTrue(cp[3] > 0, "a prune releases memory: " + cp[3]);
            assertEquals(cp[3], cp[4], "bytes released at step " + cp[0] + " = the prune phase's storage events, freed minus allocated");
        }

        // the timeline and the table of progrpo profile, from the same recording
        MemoryTimeline t = MemoryTimeline.read(file);
        assertEquals(2, t.prunes().size());
        assertEquals(checkpoints.get(0)[3] + checkpoints.get(1)[3], t.prunes().stream().mapToLong(MemoryTimeline.Prune::bytesReleased).sum());
        assertTrue(t.phases().stream().map(MemoryTimeline.Phase::name).toList().containsAll(List.of("SAMPLING", "TRAINING", "EVAL")));
        for (MemoryTimeline.Phase p : t.phases()) {
            assertTrue(p.ledgerPeak() >= Math.max(p.ledgerStart(), p.ledgerEnd()), p.toString());
        }
        Profile.Output o = Profile.run(file, tmp.resolve("profile"));
        assertTrue(o.table().contains("| TRAINING |") && o.table().contains("2 prune checkpoints released"), o.table());
        assertTrue(java.nio.file.Files.size(tmp.resolve("profile").resolve("memory-timeline.png")) > 1000, "a figure was drawn");
        // the run's metrics have the per-phase memory too
        Profile.Output fromRun = Profile.run(tmp.resolve("run"), tmp.resolve("profile-run"));
        assertTrue(fromRun.table().contains("| SAMPLING |") && fromRun.table().contains("| TRAINING |"), fromRun.table());
        // the CLI: progrpo profile FILE --out DIR, and a file that is no recording is exit 1 with the reason
        var sink = new java.io.StringWriter();
        assertEquals(0, io.progrpo.app.cli.CliHarness.run(sink, "profile", file.toString(), "--out", tmp.resolve("cli").toString()), sink.toString());
        assertTrue(java.nio.file.Files.isRegularFile(tmp.resolve("cli").resolve("memory-peaks.md")), sink.toString());
        assertEquals(1, io.progrpo.app.cli.CliHarness.run(sink, "profile", tmp.resolve("run").resolve("metrics.jsonl").toString()), sink.toString());
        assertTrue(sink.toString().contains("is not a readable Flight Recorder file"), sink.toString());
        var bad = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> MemoryTimeline.read(tmp.resolve("run").resolve("metrics.jsonl")));
        assertTrue(bad.getMessage().contains("is not a readable Flight Recorder file"), bad.getMessage());
    }

    private static String safePhase(RecordedEvent e) {
        return e.hasField("phase") ? e.getString("phase") : null;
    }
}
