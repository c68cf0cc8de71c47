package io.progrpo.tensor.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Misuse of a process group from threads: a call from a thread it is not confined to, use after close, and close (or
 * a second collective) while another thread is inside a collective. Each must raise a Java exception, never crash or
 * hang; the child JVM holds the ranks (threads), since on a shim without the guards freeing a group under a running
 * collective can crash the process.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProcessGroupThreadsTest {
    /** The child: prints "RESULT case: outcome" lines. */
    public static final class Child {
        static synchronized void print(String line) {
            System.out.println(line.replace('\n', ' '));
            System.out.flush();
        }

        /** What {@code call} did: "ok", or the exception's simple class name and message. */
        static String outcome(Runnable call) {
            try {
                call.run();
                return "ok";
            } catch (RuntimeException e) {
                return e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }

        static String outcomeOn(String threadName, Runnable call) throws Exception {
            String[] r = new String[1];
            Thread t = Thread.ofPlatform().name(threadName).start(() -> r[0] = outcome(call));
            t.join(30_000);
            return r[0];
        }

        /** Waits until {@code t} is inside the native downcall {@code method} of the bindings. */
        static void awaitNative(Thread t, String method) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (Arrays.stream(t.getStackTrace()).noneMatch(f -> f.getMethodName().equals(method))) {
                if (System.nanoTime() > deadline) throw new IllegalStateException(t.getName() + " never reached " + method);
                Thread.sleep(10);
            }
        }

        interface Rank {
            void run(ProcessGroup pg, int rank) throws Exception;
        }

        static void twoRanks(Rank body) throws Exception {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            ExecutorService ex = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    int rank = r;
                    fs.add(ex.submit(() -> {
                        ProcessGroup pg = ProcessGroup.init(Rendezvous.loopback(port, rank, 2), Backend.GLOO, Duration.ofSeconds(20));
                        try (Scope s = Scope.open()) {
                            body.run(pg, rank);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get(60, TimeUnit.SECONDS);
            } finally {
                ex.shutdownNow();
            }
        }

        static String sum(ProcessGroup pg) {
            try (Tensor t = Tensor.ones(2)) {
                pg.allReduce(t, ReduceOp.SUM);
                return Arrays.toString(t.toFloatArray());
            }
        }

        public static void main(String[] args) throws Exception {
            // 1. calls from a thread the group is not confined to
            twoRanks((pg, rank) -> {
                if (rank == 0) {
                    print("RESULT other-thread-allReduce: " + outcomeOn("intruder", () -> {
                        try (Tensor t = Tensor.ones(2)) {
                            pg.allReduce(t, ReduceOp.SUM);
                        }
                    }));
                    print("RESULT other-thread-barrier: " + outcomeOn("intruder", pg::barrier));
                    print("RESULT other-thread-close: " + outcomeOn("intruder", pg::close));
                }
                print("RESULT owner-after-intruder-" + rank + ": " + sum(pg));
                pg.barrier();
                pg.close();
            });
            // 2. use after close
            ProcessGroup one = ProcessGroup.single();
            one.close();
            try (Tensor t = Tensor.ones(2)) {
                Map<String, Runnable> calls = new LinkedHashMap<>();
                calls.put("allReduce", () -> one.allReduce(t, ReduceOp.SUM));
                calls.put("allGather", () -> one.allGather(t));
                calls.put("broadcast", () -> one.broadcast(t, 0));
                calls.put("barrier", one::barrier);
                calls.put("allReduceGradients", () -> one.allReduceGradients(List.of(t), 1));
                calls.put("allGatherBytes", () -> one.allGatherBytes(new byte[] {1}));
                calls.put("allReduceSum", () -> one.allReduceSum(new double[] {1}));
                calls.put("unconfine", one::unconfine);
                for (var c : calls.entrySet()) print("RESULT closed-" + c.getKey() + ": " + outcome(c.getValue()));
                print("RESULT closed-close-again: " + outcome(one::close));
            }
            // 3. close and a second collective while another thread is in a collective (unconfined group)
            twoRanks((pg, rank) -> {
                CountDownLatch go = LATCH;
                if (rank == 1) {
                    go.await(30, TimeUnit.SECONDS);  // rank 0's collective waits for this one
                    print("RESULT busy-rank1: " + sum(pg));
                } else {
                    pg.unconfine();
                    String[] inside = new String[1];
                    Thread worker = Thread.ofPlatform().name("worker").start(() -> {
                        String[] value = new String[1];
                        String o = outcome(() -> value[0] = sum(pg));
                        inside[0] = o.equals("ok") ? value[0] : o;
                    });
                    awaitNative(worker, "pt_pg_all_reduce");
                    print("RESULT busy-close: " + outcome(pg::close));
                    print("RESULT busy-second-collective: " + outcome(() -> {
                        try (Tensor t = Tensor.ones(2)) {
                            pg.allReduce(t, ReduceOp.SUM);
                        }
                    }));
                    go.countDown();
                    worker.join(30_000);
                    print("RESULT busy-worker: " + inside[0]);
                    pg.confine();
                }
                pg.barrier();
                print("RESULT busy-close-after-" + rank + ": " + outcome(pg::close));
            });
            // 4. close from another thread while the owner is inside a collective (confined group)
            CountDownLatch go4 = new CountDownLatch(1);
            twoRanks((pg, rank) -> {
                if (rank == 1) {
                    go4.await(30, TimeUnit.SECONDS);
                    sum(pg);
                } else {
                    Thread owner = Thread.currentThread();
                    String[] r = new String[1];
                    Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                        try {
                            awaitNative(owner, "pt_pg_all_reduce");
                        } catch (InterruptedException e) {
                            return;
                        }
                        r[0] = outcome(pg::close);
                        go4.countDown();
                    });
                    print("RESULT confined-owner-sum: " + sum(pg));
                    closer.join(30_000);
                    print("RESULT confined-close-from-other: " + r[0]);
                }
                pg.barrier();
                pg.close();
            });
            System.out.println("CHILD DONE");
        }

        static final CountDownLatch LATCH = new CountDownLatch(1);
    }

    private static ChildJvm.Result child;
    private static final Map<String, String> results = new LinkedHashMap<>();

    @BeforeAll
    static void runChild() throws Exception {
        Torch.ensureAvailable();
        Assumptions.assumeTrue(ProcessGroup.isAvailable(Backend.GLOO), "the shim was built without Gloo");
        child = ChildJvm.run(Child.class, null, 110);
        Matcher m = Pattern.compile("^RESULT (\\S+): (.*)$", Pattern.MULTILINE).matcher(child.output());
        while (m.find()) results.put(m.group(1), m.group(2));
    }

    static void assertResult(String name, String prefix, String... fragments) {
        Supplier<String> all = () -> child.describe();
        String r = results.get(name);
        assertTrue(r != null, name + ": no result\n" + all.get());
        assertTrue(r.startsWith(prefix), name + ": expected " + prefix + "..., got " + r + "\n" + all.get());
        for (String f : fragments) assertTrue(r.contains(f), name + ": the message lacks '" + f + "': " + r);
    }

    @Test
    void theChildExitedNormally() {
        assertEquals(0, child.exitCode(), child.describe());
        assertTrue(child.output().contains("CHILD DONE"), child.describe());
    }

    @Test
    void aThreadTheGroupIsNotConfinedToGetsWrongThreadException() {
        for (String op : List.of("allReduce", "barrier", "close")) {
            assertResult("other-thread-" + op, "WrongThreadException: ", "confined to thread", "called from thread 'intruder'", "unconfine()");
        }
        assertResult("owner-after-intruder-0", "[2.0, 2.0]");
        assertResult("owner-after-intruder-1", "[2.0, 2.0]");
    }

    @Test
    void everyCallAfterCloseGetsIllegalStateExceptionAndCloseIsIdempotent() {
        for (String op : List.of("allReduce", "allGather", "broadcast", "barrier", "allReduceGradients", "allGatherBytes", "allReduceSum", "unconfine")) {
            assertResult("closed-" + op, "IllegalStateException: ", "closed");
        }
        assertResult("closed-close-again", "ok");
    }

    @Test
    void closeOrASecondCollectiveDuringACollectiveRaiseAndTheCollectiveCompletes() {
        assertResult("busy-close", "IllegalStateException: ", "cannot close", "while it runs all_reduce on thread 'worker'");
        assertResult("busy-second-collective", "IllegalStateException: ", "busy with all_reduce on thread 'worker'", "one collective at a time");
        assertResult("busy-worker", "[2.0, 2.0]");
        assertResult("busy-rank1", "[2.0, 2.0]");
        assertResult("busy-close-after-0", "ok");
        assertResult("busy-close-after-1", "ok");
    }

    @Test
    void closeFromAnotherThreadWhileTheOwnerIsInACollectiveRaises() {
        assertResult("confined-close-from-other", "WrongThreadException: ", "called from thread 'closer'");
        assertResult("confined-owner-sum", "[2.0, 2.0]");
    }
}
