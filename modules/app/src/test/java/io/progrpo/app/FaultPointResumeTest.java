package io.progrpo.app;

import io.progrpo.trainer.TrainingRun;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.trainer.MetricsLog;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JVM dies (Runtime.halt, as kill -9) at every named point of the checkpoint, metrics and lock protocols, in a
 * forked training run of 3 epochs with a checkpoint after each; then {@code --resume} runs to the end. For every
 * point: resume starts from the newest whole checkpoint (the epoch it prints is the one the point implies), and the
 * final metrics.jsonl (minus its wall-time fields) and parameters equal those of one uninterrupted run, bit for bit.
 * Cases with two halts interrupt the resume itself (the metrics rewrite, the completion of an interrupted swap, the lock).
 * The cases' processes run two at a time before the assertions.
 */
class FaultPointResumeTest {
    /** io.progrpo.trainer.internal.FaultPoints.HALT_STATUS (the package is not exported): a halt's exit status. */
    static final int HALT_STATUS = 86;

    @TempDir
    static Path tmp;

    static Path cache;
    static List<Map<String, Object>> referenceMetrics;
    static Map<String, float[]> referenceParameters;

    /**
     * One case: the halts of successive processes (the first a fresh run, the others resumes), then a resume without
     * a halt, which must start at {@code resumeEpoch}.
     */
    record Case(List<String> halts, int resumeEpoch) {
        @Override
        public String toString() {
            return String.join(" then ", halts) + " -> resume at epoch " + resumeEpoch;
        }
    }

    /**
     * Counts in a fresh run: metrics appends 1 = the eval before epoch 0, 2..4 = epochs 0..2; checkpoint saves 1..3 =
     * epochs 0..2; checkpoint.moved-to-old and the retire of checkpoint.old are first reached in save 2. Every point
     * is halted at at least once; the two-halt cases also interrupt the resume that repairs the first halt.
     */
    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // a crash before the new checkpoint's manifest: the previous one (epoch 0) is the newest whole
        for (String p : List.of("checkpoint.tmp-created", "checkpoint.policy-written", "checkpoint.optimizer-written",
                "checkpoint.state-written", "checkpoint.config-written")) {
            c.add(new Case(List.of(p + ":2"), 1));
        }
        // from the manifest on, the new one (epoch 1) is whole, wherever the swap stopped; the resume that completes
        // the swap is itself halted half-way
        c.add(new Case(List.of("checkpoint.manifest-written:2", "checkpoint.moved-to-old:1"), 2));
        c.add(new Case(List.of("checkpoint.moved-to-old:1", "checkpoint.moved-into-place:1"), 2));  // only .old and .tmp left
        c.add(new Case(List.of("checkpoint.moved-into-place:2"), 2));
        c.add(new Case(List.of("retire.renamed:1"), 2));
        c.add(new Case(List.of("retire.partly-deleted:1"), 2));
        c.add(new Case(List.of("checkpoint.manifest-written:3"), 3));  // the last one: resume has nothing left to train
        // a stale lock (its holder halted) does not block
        c.add(new Case(List.of("checkpoint.saved:1", "lock.acquired:1"), 1));
        // metrics: a torn line of epoch 1 after the checkpoint of epoch 0; a whole one, whose removal is interrupted
        c.add(new Case(List.of("metrics.append-partial:3"), 1));
        c.add(new Case(List.of("metrics.appended:3", "metrics.rewrite-written:1"), 1));
        c.add(new Case(List.of("metrics.appended:3", "metrics.rewritten:1"), 1));
        return c;
    }

    /** What one case's processes did: the halted ones' statuses and logs, then the final resume's. */
    record Outcome(List<ChildRun.Result> halted, ChildRun.Result last, Path out) {}

    static final Map<Case, Outcome> OUTCOMES = new ConcurrentHashMap<>();

    @BeforeAll
    static void runEveryCase() throws Exception {
        cache = tmp.resolve("cache");
        Path ref = tmp.resolve("reference");
        ChildRun.Result r = ChildRun.train(cache, ref, false, null, tmp.resolve("reference.log"));
        assertEquals(0, r.status(), r.log());
        referenceMetrics = MetricsLog.withoutTimings(MetricsLog.read(ref.resolve("metrics.jsonl")));
        assertEquals(4, referenceMetrics.size(), "the eval before training and 3 epochs: " + referenceMetrics);
        referenceParameters = parameters(ref);
        // the cases' processes two at a time (they share only the base-model cache, which the reference wrote)
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> done = new ArrayList<>();
            List<Case> all = cases();
            for (int i = 0; i < all.size(); i++) {
                Case c = all.get(i);
                Path out = tmp.resolve("case" + i);
                done.add(pool.submit(() -> {
                    List<ChildRun.Result> halted = new ArrayList<>();
                    for (int k = 0; k < c.halts().size(); k++) {
                        halted.add(ChildRun.train(cache, out, k > 0, c.halts().get(k), out.resolveSibling(out.getFileName() + "." + k + ".log")));
                    }
                    OUTCOMES.put(c, new Outcome(halted, ChildRun.train(cache, out, true, null,
                            out.resolveSibling(out.getFileName() + ".final.log")), out));
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void resumeAfterAHaltEqualsTheUninterruptedRun(Case c) throws Exception {
        Outcome o = OUTCOMES.get(c);
        List<String> logs = new ArrayList<>();
        for (int i = 0; i < c.halts().size(); i++) {
            String halt = c.halts().get(i);
            ChildRun.Result r = o.halted().get(i);
            logs.add(r.log());
            assertEquals(HALT_STATUS, r.status(), "halted at " + halt + ":\n" + r.log());
            assertTrue(r.log().contains("fault point " + halt + " reached"), r.log());
        }
        ChildRun.Result r = o.last();
        Path out = o.out();
        assertEquals(0, r.status(), "the resume after " + c + " finished:\n" + r.log() + "\nearlier:\n" + String.join("\n---\n", logs));
        Matcher m = Pattern.compile("resumed from (\\S+) at epoch (\\d+)").matcher(r.log());
        assertTrue(m.find(), r.log());
        assertEquals(out.resolve("checkpoint").toString(), m.group(1));
        assertEquals(c.resumeEpoch(), Integer.parseInt(m.group(2)), "the newest whole checkpoint was found:\n" + r.log());

        assertEquals(referenceMetrics, MetricsLog.withoutTimings(MetricsLog.read(out.resolve("metrics.jsonl"))), "metrics.jsonl");
        Map<String, float[]> params = parameters(out);
        assertEquals(referenceParameters.keySet(), params.keySet());
        for (String k : params.keySet()) assertArrayEquals(referenceParameters.get(k), params.get(k), k);
        TrainingRun.verifyCheckpoint(out.resolve("checkpoint"));
        for (String debris : List.of("checkpoint.tmp", "checkpoint.old", "checkpoint.trash", "metrics.jsonl.rewrite")) {
            assertFalse(Files.exists(out.resolve(debris)), debris + " is gone after the resume");
        }
    }

    static Map<String, float[]> parameters(Path out) throws Exception {
        Map<String, Tensor> t = TensorIO.load(out.resolve("checkpoint").resolve("policy.pt"));
        try {
            Map<String, float[]> v = new LinkedHashMap<>();
            t.forEach((k, x) -> v.put(k, x.toFloatArray()));
            return v;
        } finally {
            t.values().forEach(Tensor::close);
        }
    }
}
