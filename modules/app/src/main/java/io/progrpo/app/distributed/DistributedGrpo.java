package io.progrpo.app.distributed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.app.job.Jobs;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TorchException;
import io.progrpo.tensor.distributed.Backend;
import io.progrpo.tensor.distributed.ProcessGroup;
import io.progrpo.tensor.distributed.Rendezvous;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.RunLock;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.trainer.config.TrainConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.CRC32;

/**
 * One rank of a data-parallel training job. Every rank runs the same command; the launcher's environment (RANK,
 * WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) says who is who. In order:
 * <ol>
 *   <li>join the process group (Gloo on CPU, NCCL on CUDA), each collective bounded by the timeout;</li>
 *   <li>compare the resolved configs of all ranks and fail on every rank, naming the fields, if any differ;</li>
 *   <li>rank 0 takes the run directory's lock (every rank stops if another run holds it);</li>
 *   <li>build the job (rank 0 first, so only it pretrains the cached base model);</li>
 *   <li>agree on where training starts: the resume flag, the first epoch and the checkpoint's manifest digest of every
 *       rank must be rank 0's (every rank stops otherwise, before loading anything); broadcast rank 0's parameters;</li>
 *   <li>train with {@link GrpoTrainer.DataParallel}: each step averages the gradients of groupsPerStep prompt groups,
 *       groupsPerStep / worldSize per rank; rewards are gathered for the advantages and statistics;</li>
 *   <li>rank 0 alone writes metrics and checkpoints; at the end all ranks compare parameter checksums.</li>
 * </ol>
 * Resume reads the checkpoint on every rank (a shared file system), on any world size that divides groupsPerStep.
 */
public final class DistributedGrpo {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Exit status of a distributed failure (a rank stopped or hung, a config mismatch). */
    public static final int EXIT_DISTRIBUTED = 4;

    /** Fault injection for tests of a rank that dies: called with the 1-based count of gradient syncs before each. */
    static volatile java.util.function.IntConsumer beforeGradientSync = n -> { };

    private DistributedGrpo() {}

    /**
     * Job-level settings that are not part of the training config.
     *
     * @param timeout       bound of every collective and of the rendezvous
     * @param groupsPerStep prompt groups per optimizer step over all ranks; 0 = groupsPerEpoch / optimizerStepsPerEpoch of the config (one step per epoch by default,
     *                      as the single-process loop does)
     * @param backend       null = by device (NCCL for CUDA, Gloo otherwise)
     */
    public record Options(Duration timeout, int groupsPerStep, Backend backend) {
        public Options {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be > 0, got " + timeout);
            if (groupsPerStep < 0) throw new IllegalArgumentException("groupsPerStep must be >= 0 (0 = groupsPerEpoch), got " + groupsPerStep);
        }

        /** PROGRPO_DIST_TIMEOUT (seconds, default 300), PROGRPO_GROUPS_PER_STEP (default 0), PROGRPO_DIST_BACKEND. */
        public static Options fromEnvironment(Map<String, String> env) {
            double seconds = 300;
            String t = env.get("PROGRPO_DIST_TIMEOUT");
            if (t != null && !t.isBlank()) {
                try {
                    seconds = Double.parseDouble(t.strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("PROGRPO_DIST_TIMEOUT must be a number of seconds, got '" + t + "'", e);
                }
                if (!(seconds > 0)) throw new IllegalArgumentException("PROGRPO_DIST_TIMEOUT must be > 0 seconds, got " + t);
            }
            int k = 0;
            String g = env.get("PROGRPO_GROUPS_PER_STEP");
            if (g != null && !g.isBlank()) {
                try {
                    k = Integer.parseInt(g.strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("PROGRPO_GROUPS_PER_STEP must be an integer, got '" + g + "'", e);
                }
            }
            String b = env.get("PROGRPO_DIST_BACKEND");
            return new Options(Duration.ofMillis(Math.round(seconds * 1000)), k, b == null || b.isBlank() ? null : Backend.byName(b));
        }
    }

    /** True when the environment asks for a data-parallel run (WORLD_SIZE is set, 1 included). */
    public static boolean requested(Map<String, String> env) {
        return env.containsKey("WORLD_SIZE");
    }

    /** The data-parallel settings for a rank, checked against the config (fails before any process group exists). */
    public static GrpoTrainer.DataParallel.Shape shape(TrainConfig c, int worldSize, Options o) {
        int k = o.groupsPerStep() == 0 ? c.groupsPerEpoch() / c.optimizerStepsPerEpoch() : o.groupsPerStep();
        if (k % worldSize != 0) {
            throw new IllegalArgumentException("groupsPerStep " + k + " must be a multiple of the world size " + worldSize
                    + " (a prompt group never splits across ranks)");
        }
        if (c.groupsPerEpoch() % k != 0) {
            throw new IllegalArgumentException("groupsPerEpoch " + c.groupsPerEpoch() + " must be a multiple of groupsPerStep " + k);
        }
        return new GrpoTrainer.DataParallel.Shape(worldSize, k);
    }

    /** The config this rank trains with: device "cuda" becomes this rank's GPU, cuda:LOCAL_RANK. */
    static TrainConfig forRank(TrainConfig c, Rendezvous rv) {
        if (c.device().equals("cuda") && rv.worldSize() > 1) return c.withSets(List.of("device=cuda:" + rv.localRank()));
        return c;
    }

    /** Runs this rank; returns the process exit status (0, 1 for I/O errors, {@link #EXIT_DISTRIBUTED}). */
    public static int train(TrainConfig c, boolean resume, Rendezvous rv, Options o, Consumer<String> log) throws IOException {
        var shape = shape(c, rv.worldSize(), o);
        TrainConfig mine = forRank(c, rv);
        Backend backend = o.backend() != null ? o.backend() : Backend.forDevice(Device.parse(mine.device()));
        String who = "[rank " + rv.rank() + "/" + rv.worldSize() + "] ";
        Consumer<String> rlog = s -> log.accept(who + s);
        ProcessGroup pg = ProcessGroup.init(rv, backend, o.timeout());
        boolean failed = true;
        RunLock lock = null;
        try {
            rlog.accept("joined " + pg + ", " + shape.groupsPerStep() + " prompt groups per optimizer step");
            checkSameConfig(pg, c.toJson() + "\n#groupsPerStep=" + shape.groupsPerStep());
            Path out = Path.of(mine.outDir());
            // rank 0 alone writes into the run directory: it holds its lock, and every rank stops if it cannot
            String lockError = null;
            if (rv.rank() == 0) {
                try {
                    lock = RunLock.acquire(out);
                } catch (IOException e) {
                    lockError = e.getMessage();
                }
            }
            agree(pg, "the run directory", lockError == null ? "ok" : "error: " + lockError);
            Duration prepare = Duration.ofHours(2);
            Jobs.Job job;
            if (rv.rank() == 0) {
                job = Jobs.build(mine, rlog);
                pg.barrier(prepare);
            } else {
                pg.barrier(prepare);  // rank 0 has pretrained and cached the base model; load it
                job = Jobs.build(mine, rlog);
            }
            try (job) {
                // only rank 0 draws a progress bar
                TrainingRun run = job.run(out, rlog).replica(rv.rank() != 0);
                if (rv.rank() != 0) run.listener(null);
                TrainingRun.Start start = agreeOnStart(pg, run, resume);
                int[] syncs = {0};
                for (Tensor p : job.policy().parameters()) pg.broadcast(p, 0);
                job.trainer().dataParallel(new GrpoTrainer.DataParallel(rv.rank(), rv.worldSize(), shape.groupsPerStep(),
                        (params, n) -> {
                            beforeGradientSync.accept(++syncs[0]);
                            int global = (int) Math.round(pg.allReduceSum(new double[] {n})[0]);
                            if (global > 0) pg.allReduceGradients(params, 1.0 / pg.worldSize());
                            return global;
                        }, pg::allGatherDoubles));
                run.run(start);
                long sum = checksum(job.policy().parameters());
                rlog.accept(String.format("parameter checksum %016x", sum));
                List<double[]> sums = pg.allGatherDoubles(new double[] {Double.longBitsToDouble(sum)});
                for (int r = 0; r < sums.size(); r++) {
                    long other = Double.doubleToRawLongBits(sums.get(r)[0]);
                    if (other != sum) {
                        throw new IllegalStateException(String.format("parameters diverged: rank %d has checksum %016x, rank %d has %016x",
                                rv.rank(), sum, r, other));
                    }
                }
                rlog.accept("parameters identical on all " + rv.worldSize() + " ranks");
                pg.barrier(prepare);
            }
            failed = false;
            return 0;
        } finally {
            if (lock != null) lock.close();
            // after a failed collective a Gloo worker may still wait on its socket; closing would wait with it,
            // so a failing rank leaves the group to the process exit
            if (!failed) pg.close();
        }
    }

    /**
     * Every rank finds where it starts (rank 0 first: it completes an interrupted checkpoint swap, then the others
     * read the same checkpoint), and all compare: the resume flag, the starting epoch and the checkpoint's manifest
     * digest must be rank 0's on every rank, before any parameter is loaded or any step taken.
     *
     * @throws StartMismatchException on every rank, naming each rank that differs or failed and what it found
     */
    static TrainingRun.Start agreeOnStart(ProcessGroup pg, TrainingRun run, boolean resume) {
        TrainingRun.Start start = null;
        String error = null;
        for (int turn = 0; turn < 2; turn++) {
            if ((pg.rank() == 0) == (turn == 0)) {
                try {
                    start = run.prepare(resume);
                } catch (IOException e) {
                    error = e.getMessage();
                }
            }
            if (turn == 0) pg.barrier();
        }
        agree(pg, "where training starts", start != null ? start.describe() : "error: " + error);
        return start;
    }

    /**
     * Gathers every rank's {@code view} of {@code what} and fails on every rank, naming the ranks and their views,
     * when one is an error or differs from rank 0's.
     */
    static void agree(ProcessGroup pg, String what, String view) {
        List<byte[]> all = pg.allGatherBytes(view.getBytes(StandardCharsets.UTF_8));
        List<String> views = new ArrayList<>();
        for (byte[] b : all) views.add(new String(b, StandardCharsets.UTF_8));
        String problem = disagreement(what, views);
        if (problem != null) throw new StartMismatchException(problem);
    }

    /** Null when every view is rank 0's and none is an error; otherwise a message naming each differing rank. */
    static String disagreement(String what, List<String> views) {
        List<String> errors = new ArrayList<>();
        for (int r = 0; r < views.size(); r++) {
            if (views.get(r).startsWith("error: ")) errors.add("rank " + r + ": " + views.get(r).substring(7));
        }
        if (!errors.isEmpty()) return "a rank cannot start (" + what + "): " + String.join("; ", errors);
        List<String> diffs = new ArrayList<>();
        for (int r = 1; r < views.size(); r++) {
            if (!views.get(r).equals(views.get(0))) diffs.add("rank 0: " + views.get(0) + ", but rank " + r + ": " + views.get(r));
        }
        return diffs.isEmpty() ? null : "the ranks disagree on " + what + " (start every rank with the same --resume and "
                + "run directory on a shared file system): " + String.join("; ", diffs);
    }

    /** Runs this rank from the environment, reporting distributed failures on one line. */
    public static int trainFromEnvironment(TrainConfig c, boolean resume, Consumer<String> log) throws IOException {
        Map<String, String> env = System.getenv();
        try {
            return train(c, resume, Rendezvous.fromEnvironment(env), Options.fromEnvironment(env), log);
        } catch (TorchException | ConfigMismatchException | StartMismatchException e) {
            System.err.println("error: distributed training failed: " + e.getMessage());
            System.err.flush();
            return EXIT_DISTRIBUTED;
        }
    }

    /** A bit-exact hash of the parameters' values (float32 bits, in order). */
    static long checksum(List<Tensor> params) {
        CRC32 a = new CRC32();
        long n = 0;
        for (Tensor p : params) {
            try (Tensor cpu = p.detach().to(Device.CPU, io.progrpo.tensor.DType.FLOAT32)) {
                float[] v = cpu.toFloatArray();
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(v.length * 4);
                for (float f : v) buf.putFloat(f);
                a.update(buf.array());
                n += v.length;
            }
        }
        return (a.getValue() << 32) ^ n;
    }

    /** Fails on every rank, naming the fields, when the ranks' configs differ (text compared, then field by field). */
    static void checkSameConfig(ProcessGroup pg, String config) {
        List<byte[]> all = pg.allGatherBytes(config.getBytes(StandardCharsets.UTF_8));
        String ref = new String(all.get(0), StandardCharsets.UTF_8);
        List<String> problems = new ArrayList<>();
        for (int r = 1; r < all.size(); r++) {
            String other = new String(all.get(r), StandardCharsets.UTF_8);
            if (!other.equals(ref)) problems.add(describeDifference(ref, other, r));
        }
        if (!problems.isEmpty()) {
            throw new ConfigMismatchException("the ranks were started with different configurations: " + String.join("; ", problems));
        }
    }

    static String describeDifference(String rank0, String rankR, int r) {
        List<String> diffs = new ArrayList<>();
        String[] a = rank0.split("\n#", 2);
        String[] b = rankR.split("\n#", 2);
        try {
            JsonNode x = JSON.readTree(a[0]);
            JsonNode y = JSON.readTree(b[0]);
            for (Iterator<String> it = x.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!x.get(f).equals(y.get(f))) diffs.add(f + " is " + x.get(f) + " on rank 0 but " + y.get(f) + " on rank " + r);
            }
            for (Iterator<String> it = y.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!x.has(f)) diffs.add(f + " is only set on rank " + r);
            }
        } catch (IOException e) {
            diffs.add("rank " + r + "'s config differs from rank 0's");
        }
        String ta = a.length > 1 ? a[1] : "";
        String tb = b.length > 1 ? b[1] : "";
        if (!ta.equals(tb)) diffs.add(ta + " on rank 0 but " + tb + " on rank " + r);
        return String.join(", ", diffs);
    }
}
