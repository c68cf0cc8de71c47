package io.progrpo.tensor.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;
import io.progrpo.tensor.TorchException;
import io.progrpo.tensor.ffi.ChildJvm;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Collectives whose ranks pass tensors of different sizes, dtypes or shapes, different parameter sets, different
 * collectives, reduce ops or roots. Each case is a fresh two-rank Gloo group (ranks are threads of one child JVM:
 * without the descriptor check Gloo aborts that process in its IO thread, and equal byte counts mix silently). Every
 * rank must throw a TorchException naming what each rank had, and the group must still work afterwards.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CollectiveMismatchTest {
    interface Body {
        void run(ProcessGroup pg, int rank) throws Exception;
    }

    record Case(String name, Body body) {}

    static Tensor floats(DType dtype, long... shape) {
        return Tensor.ones(dtype, Device.CPU, shape);
    }

    static Tensor param(long... shape) {
        Tensor p = Tensor.zeros(shape).setRequiresGrad(true);
        p.mul(2).sum().backward();
        return p;
    }

    /** The cases: name, then what rank 0 and rank 1 pass. */
    static final List<Case> CASES = List.of(
            new Case("allreduce-numel", (pg, r) -> pg.allReduce(floats(DType.FLOAT32, r == 0 ? 10 : 20), ReduceOp.SUM)),
            new Case("allreduce-dtype", (pg, r) -> pg.allReduce(floats(r == 0 ? DType.FLOAT32 : DType.FLOAT64, 10), ReduceOp.SUM)),
            new Case("allreduce-same-bytes", (pg, r) -> pg.allReduce(r == 0 ? floats(DType.FLOAT64, 10) : floats(DType.FLOAT32, 20), ReduceOp.SUM)),
            new Case("allreduce-op", (pg, r) -> pg.allReduce(floats(DType.FLOAT32, 4), r == 0 ? ReduceOp.SUM : ReduceOp.MAX)),
            new Case("allgather-shape", (pg, r) -> pg.allGather(r == 0 ? floats(DType.FLOAT32, 2, 3) : floats(DType.FLOAT32, 3, 2))),
            new Case("allgather-numel", (pg, r) -> pg.allGather(floats(DType.FLOAT32, r == 0 ? 4 : 5))),
            new Case("broadcast-into-larger", (pg, r) -> pg.broadcast(floats(DType.FLOAT32, r == 0 ? 5 : 8), 0)),
            new Case("broadcast-into-smaller", (pg, r) -> pg.broadcast(floats(DType.FLOAT32, r == 0 ? 8 : 5), 0)),
            new Case("broadcast-root", (pg, r) -> pg.broadcast(floats(DType.FLOAT32, 4), r)),
            new Case("grads-count", (pg, r) -> pg.allReduceGradients(r == 0 ? List.of(param(4), param(3)) : List.of(param(4)), 0.5)),
            new Case("grads-shapes", (pg, r) -> pg.allReduceGradients(List.of(r == 0 ? param(2, 3) : param(3, 2), param(4)), 0.5)),
            new Case("grads-none", (pg, r) -> pg.allReduceGradients(r == 0 ? List.of() : List.of(param(4)), 0.5)),
            new Case("different-collectives", (pg, r) -> {
                if (r == 0) pg.allReduce(floats(DType.FLOAT32, 4), ReduceOp.SUM);
                else pg.broadcast(floats(DType.FLOAT32, 4), 0);
            }));

    /** The child: runs every case, printing what each rank raised and what a matched all-reduce gave after it. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            for (Case c : CASES) run(c);
            System.out.println("CHILD DONE");
        }

        static int freePort() throws IOException {
            try (ServerSocket s = new ServerSocket(0)) {
                return s.getLocalPort();
            }
        }

        static synchronized void print(String line) {
            System.out.println(line.replace('\n', ' '));
            System.out.flush();
        }

        static void run(Case c) throws Exception {
            int port = freePort();
            ExecutorService ex = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    int rank = r;
                    fs.add(ex.submit(() -> {
                        try (ProcessGroup pg = ProcessGroup.init(Rendezvous.loopback(port, rank, 2), Backend.GLOO, Duration.ofSeconds(10));
                             Scope s = Scope.open()) {
                            String msg;
                            try {
                                c.body().run(pg, rank);
                                msg = "NO ERROR";
                            } catch (TorchException e) {
                                msg = "TorchException " + e.getMessage();
                            }
                            print("CASE " + c.name() + " rank " + rank + ": " + msg);
                            Tensor t = Tensor.ones(2);
                            pg.allReduce(t, ReduceOp.SUM);  // the group still works: no collective ran half-way
                            print("AFTER " + c.name() + " rank " + rank + ": " + Arrays.toString(t.toFloatArray()));
                            pg.barrier();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                print("CASE " + c.name() + " failed: " + e);
            } finally {
                ex.shutdownNow();
            }
        }
    }

    private static ChildJvm.Result child;
    private static final Map<String, String> raised = new LinkedHashMap<>();
    private static final Map<String, String> after = new LinkedHashMap<>();

    @BeforeAll
    static void runChild() throws Exception {
        Torch.ensureAvailable();
        Assumptions.assumeTrue(ProcessGroup.isAvailable(Backend.GLOO), "the shim was built without Gloo");
        child = ChildJvm.run(Child.class, null, 110);
        Matcher m = Pattern.compile("^(CASE|AFTER) (\\S+) rank (\\d): (.*)$", Pattern.MULTILINE).matcher(child.output());
        while (m.find()) (m.group(1).equals("CASE") ? raised : after).put(m.group(2) + "/" + m.group(3), m.group(4));
    }

    /** Both ranks raised a TorchException containing every expected fragment, and the group worked afterwards. */
    static void assertBothRanksRaise(String name, String... fragments) {
        for (int r = 0; r < 2; r++) {
            String msg = raised.get(name + "/" + r);
            assertTrue(msg != null, name + ": rank " + r + " reported nothing\n" + child.describe());
            assertTrue(msg.startsWith("TorchException "), name + ": rank " + r + " did not raise: " + msg + "\n" + child.describe());
            for (String f : fragments) assertTrue(msg.contains(f), name + ": rank " + r + "'s message lacks '" + f + "': " + msg);
            assertTrue(msg.contains("rank " + r + ": "), name + ": the message says which rank raised it: " + msg);
            assertEquals("[2.0, 2.0]", after.get(name + "/" + r), name + ": rank " + r + "'s next collective\n" + child.describe());
        }
    }

    @Test
    void theChildRanEveryCaseAndExitedNormally() {
        assertEquals(0, child.exitCode(), child.describe());
        assertTrue(child.output().contains("CHILD DONE"), child.describe());
        assertEquals(CASES.size() * 2, raised.size(), child.describe());
    }

    @Test
    void allReduceOfDifferentSizesOrDtypesNamesEachRanksTensor() {
        assertBothRanksRaise("allreduce-numel", "all_reduce (collective #1) not run", "rank 0 has all_reduce(sum) of float32[10]", "rank 1 has all_reduce(sum) of float32[20]");
        assertBothRanksRaise("allreduce-dtype", "rank 0 has all_reduce(sum) of float32[10]", "rank 1 has all_reduce(sum) of float64[10]");
        assertBothRanksRaise("allreduce-same-bytes", "rank 0 has all_reduce(sum) of float64[10]", "rank 1 has all_reduce(sum) of float32[20]");
        assertBothRanksRaise("allreduce-op", "rank 0 has all_reduce(sum) of float32[4]", "rank 1 has all_reduce(max) of float32[4]");
    }

    @Test
    void allGatherOfDifferentShapesNamesEachRanksShape() {
        assertBothRanksRaise("allgather-shape", "rank 0 has all_gather of float32[2, 3]", "rank 1 has all_gather of float32[3, 2]");
        assertBothRanksRaise("allgather-numel", "rank 0 has all_gather of float32[4]", "rank 1 has all_gather of float32[5]");
    }

    @Test
    void aBroadcastNeverPadsOrTruncates() {
        assertBothRanksRaise("broadcast-into-larger", "rank 0 has broadcast(root 0) of float32[5]", "rank 1 has broadcast(root 0) of float32[8]");
        assertBothRanksRaise("broadcast-into-smaller", "rank 0 has broadcast(root 0) of float32[8]", "rank 1 has broadcast(root 0) of float32[5]");
        assertBothRanksRaise("broadcast-root", "rank 0 has broadcast(root 0)", "rank 1 has broadcast(root 1)");
    }

    @Test
    void gradientSyncOfDifferentParameterSetsNamesEachRanksSet() {
        assertBothRanksRaise("grads-count", "rank 0 has all_reduce(gradients) of 2 parameters with [4, 3] elements (7 in all)",
                "rank 1 has all_reduce(gradients) of 1 parameter with [4] elements (4 in all)");
        assertBothRanksRaise("grads-shapes", "rank 0 has all_reduce(gradients) of 2 parameters with [6, 4] elements (10 in all) (layout hash",
                "shapes or dtypes differ beyond what is listed");
        assertBothRanksRaise("grads-none", "rank 0 has all_reduce(gradients) of 0 parameters", "rank 1 has all_reduce(gradients) of 1 parameter with [4]", "the ranks disagree");
    }

    @Test
    void differentCollectivesAtTheSameStepAreNamed() {
        assertBothRanksRaise("different-collectives", "rank 0 has all_reduce(sum) of float32[4]", "rank 1 has broadcast(root 0) of float32[4]");
    }
}
