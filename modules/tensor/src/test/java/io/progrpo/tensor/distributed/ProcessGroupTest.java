package io.progrpo.tensor.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;
import io.progrpo.tensor.TorchException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Two ranks of a Gloo group in one JVM (one thread each; tensors are thread-confined, c10d does not care which
 * process a rank lives in). Every collective is recomputed in plain Java.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProcessGroupTest {
    interface RankBody {
        Object run(ProcessGroup pg) throws Exception;
    }

    @BeforeAll
    static void gloo() {
        Torch.ensureAvailable();
        Assumptions.assumeTrue(ProcessGroup.isAvailable(Backend.GLOO), "the shim was built without Gloo");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Runs body on every rank in its own thread; returns each rank's result (or throws the first failure). */
    static List<Object> onRanks(int world, Duration timeout, RankBody body) throws Exception {
        int port = freePort();
        ExecutorService ex = Executors.newFixedThreadPool(world);
        try {
            List<Future<Object>> fs = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                fs.add(ex.submit(() -> {
                    try (ProcessGroup pg = ProcessGroup.init(Rendezvous.loopback(port, rank, world), Backend.GLOO, timeout);
                         Scope s = Scope.open()) {
                        return body.run(pg);
                    }
                }));
            }
            List<Object> out = new ArrayList<>();
            for (Future<Object> f : fs) out.add(f.get(50, TimeUnit.SECONDS));
            return out;
        } finally {
            ex.shutdownNow();
        }
    }

    static double[] randoms(long seed, int n) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextGaussian();
        return v;
    }

    @Test
    void allReduceSumAvgMinMaxMatchPlainJava() throws Exception {
        int n = 37;
        List<Object> res = onRanks(2, Duration.ofSeconds(20), pg -> {
            double[][] out = new double[4][];
            ReduceOp[] ops = {ReduceOp.SUM, ReduceOp.AVG, ReduceOp.MIN, ReduceOp.MAX};
            for (int k = 0; k < ops.length; k++) {
                Tensor t = Tensor.of(randoms(100 + pg.rank(), n), n);
                long before = t.version();
                pg.allReduce(t, ops[k]);
                if (t.version() <= before) throw new AssertionError(ops[k] + " wrote into t without advancing its version counter");
                out[k] = t.toDoubleArray();
            }
            return out;
        });
        double[] a = randoms(100, n);
        double[] b = randoms(101, n);
        for (Object o : res) {
            double[][] got = (double[][]) o;
            for (int i = 0; i < n; i++) {
                assertEquals(a[i] + b[i], got[0][i], 1e-12, "sum[" + i + "]");
                assertEquals((a[i] + b[i]) / 2, got[1][i], 1e-12, "avg[" + i + "]");
                assertEquals(Math.min(a[i], b[i]), got[2][i], 0, "min[" + i + "]");
                assertEquals(Math.max(a[i], b[i]), got[3][i], 0, "max[" + i + "]");
            }
        }
    }

    @Test
    void allGatherStacksRanksAndBroadcastCopiesRoot() throws Exception {
        List<Object> res = onRanks(2, Duration.ofSeconds(20), pg -> {
            Tensor mine = Tensor.of(randoms(7 + pg.rank(), 6), 2, 3);
            Tensor all = pg.allGather(mine);
            Tensor b = Tensor.of(randoms(50 + pg.rank(), 5), 5);
            long before = b.version();
            pg.broadcast(b, 1);
            if (b.version() <= before) throw new AssertionError("broadcast wrote into b without advancing its version counter");
            pg.barrier();
            List<byte[]> msgs = pg.allGatherBytes(("rank-" + pg.rank() + "x".repeat(pg.rank() * 3)).getBytes());
            return new Object[] {all.shape(), all.toDoubleArray(), b.toDoubleArray(), msgs};
        });
        double[] expectAll = new double[12];
        System.arraycopy(randoms(7, 6), 0, expectAll, 0, 6);
        System.arraycopy(randoms(8, 6), 0, expectAll, 6, 6);
        for (Object o : res) {
            Object[] r = (Object[]) o;
            assertArrayEquals(new long[] {2, 2, 3}, (long[]) r[0]);
            assertArrayEquals(expectAll, (double[]) r[1], 0);
            assertArrayEquals(randoms(51, 5), (double[]) r[2], 0, "broadcast from rank 1");
            @SuppressWarnings("unchecked")
            List<byte[]> msgs = (List<byte[]>) r[3];
            assertEquals("rank-0", new String(msgs.get(0)));
            assertEquals("rank-1xxx", new String(msgs.get(1)));
        }
    }

    @Test
    void gradientBucketAveragesAndKeepsUntouchedParametersGradFree() throws Exception {
        List<Object> res = onRanks(2, Duration.ofSeconds(20), pg -> {
            Tensor p = Tensor.zeros(4).setRequiresGrad(true);
            Tensor onlyRank0 = Tensor.zeros(3).setRequiresGrad(true);
            Tensor nobody = Tensor.zeros(2).setRequiresGrad(true);
            double[] g = randoms(300 + pg.rank(), 4);
            p.mul(Tensor.of(g, 4)).sum().backward();
            if (pg.rank() == 0) onlyRank0.mul(Tensor.of(new double[] {1, 2, 3}, 3).to(onlyRank0.dtype())).sum().backward();
            pg.allReduceGradients(List.of(p, onlyRank0, nobody), 1.0 / pg.worldSize());
            Tensor gn = nobody.grad();
            return new Object[] {p.grad().toDoubleArray(), onlyRank0.grad().toDoubleArray(), gn == null};
        });
        double[] a = randoms(300, 4);
        double[] b = randoms(301, 4);
        for (Object o : res) {
            Object[] r = (Object[]) o;
            double[] gp = (double[]) r[0];
            for (int i = 0; i < 4; i++) assertEquals((a[i] + b[i]) / 2, gp[i], 1e-6, "averaged grad[" + i + "]");
            assertArrayEquals(new double[] {0.5, 1, 1.5}, (double[]) r[1], 1e-6, "rank 1 contributed zeros");
            assertTrue((Boolean) r[2], "a parameter no rank touched keeps no gradient");
        }
    }

    @Test
    void aRankThatStopsIsNamedAndTheOtherFailsWithinTheTimeout() throws Exception {
        List<Object> res = onRanks(2, Duration.ofSeconds(8), pg -> {
            Tensor t = Tensor.ones(3);
            pg.allReduce(t, ReduceOp.SUM);
            if (pg.rank() == 1) {
                pg.close(); // as if its process ended: sockets and heartbeat gone
                return "left";
            }
            long t0 = System.nanoTime();
            TorchException e = assertThrows(TorchException.class, () -> pg.allReduce(Tensor.ones(3), ReduceOp.SUM));
            return new Object[] {e.getMessage(), (System.nanoTime() - t0) / 1e9};
        });
        Object[] r0 = (Object[]) res.get(0);
        String msg = (String) r0[0];
        assertTrue(msg.contains("rank 1"), "names the missing rank: " + msg);
        assertTrue((Double) r0[1] < 8 + 5, "ended within the timeout (plus the heartbeat check): " + r0[1] + " s");
    }

    @Test
    void aRankThatNeverJoinsIsNamedAfterTheTimeout() throws Exception {
        int port = freePort();
        TorchException e = assertThrows(TorchException.class,
                () -> ProcessGroup.init(Rendezvous.loopback(port, 0, 3), Backend.GLOO, Duration.ofMillis(1500)));
        assertTrue(e.getMessage().contains("rank 1, 2 did not join"), e.getMessage());
    }

    @Test
    void aRankWithoutRankZeroFailsNamingTheStore() throws Exception {
        int port = freePort();
        TorchException e = assertThrows(TorchException.class,
                () -> ProcessGroup.init(Rendezvous.loopback(port, 1, 2), Backend.GLOO, Duration.ofMillis(1500)));
        assertTrue(e.getMessage().contains("could not reach the rendezvous store of rank 0"), e.getMessage());
    }

    @Test
    void aGroupOfOneIsTheIdentity() {
        try (ProcessGroup pg = ProcessGroup.single(); Scope s = Scope.open()) {
            Tensor t = Tensor.of(new double[] {1, 2}, 2);
            pg.allReduce(t, ReduceOp.AVG);
            assertArrayEquals(new double[] {1, 2}, t.toDoubleArray(), 0);
            assertArrayEquals(new long[] {1, 2}, pg.allGather(t).shape());
            pg.barrier();
            assertEquals(1, pg.worldSize());
        }
    }

    @Test
    void badInputsNameTheValue() {
        var e1 = assertThrows(IllegalArgumentException.class, () -> Rendezvous.loopback(29500, 2, 2));
        assertTrue(e1.getMessage().contains("got 2"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> new Rendezvous("h", 70000, 0, 1, 0));
        assertTrue(e2.getMessage().contains("70000"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> Rendezvous.fromEnvironment(Map.of("WORLD_SIZE", "two")));
        assertTrue(e3.getMessage().contains("WORLD_SIZE") && e3.getMessage().contains("'two'"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> Rendezvous.fromEnvironment(Map.of("WORLD_SIZE", "2")));
        assertTrue(e4.getMessage().contains("RANK must be set"), e4.getMessage());
        var e5 = assertThrows(IllegalArgumentException.class, () -> Backend.byName("mpi"));
        assertTrue(e5.getMessage().contains("'mpi'"), e5.getMessage());
        var e6 = assertThrows(IllegalArgumentException.class, () -> ProcessGroup.init(Rendezvous.single(), Backend.GLOO, Duration.ZERO));
        assertTrue(e6.getMessage().contains("PT0S"), e6.getMessage());
        try (ProcessGroup pg = ProcessGroup.single(); Tensor z = Tensor.zeros(1)) {
            var e7 = assertThrows(IllegalArgumentException.class, () -> pg.broadcast(z, 3));
            assertTrue(e7.getMessage().contains("got 3"), e7.getMessage());
        }
        Rendezvous rv = Rendezvous.fromEnvironment(Map.of("WORLD_SIZE", "4", "RANK", "3", "LOCAL_RANK", "1", "MASTER_ADDR", "node0", "MASTER_PORT", "1234"));
        assertEquals(new Rendezvous("node0", 1234, 3, 4, 1), rv);
        assertEquals(new Rendezvous("127.0.0.1", 29500, 0, 1, 0), Rendezvous.fromEnvironment(Map.of()));
    }

    @Test
    void ncclIsUnavailableWithoutCudaWithAClearMessage() throws Exception {
        Assumptions.assumeFalse(ProcessGroup.isAvailable(Backend.NCCL));
        int port = freePort();
        ExecutorService ex = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> fs = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                fs.add(ex.submit(() -> assertThrows(TorchException.class,
                        () -> ProcessGroup.init(Rendezvous.loopback(port, rank, 2), Backend.NCCL, Duration.ofSeconds(10))).getMessage()));
            }
            for (Future<String> f : fs) {
                String msg = f.get(30, TimeUnit.SECONDS);
                assertTrue(msg.contains("NCCL backend is not available in this libtorch build"), msg);
            }
        } finally {
            ex.shutdownNow();
        }
    }
}
