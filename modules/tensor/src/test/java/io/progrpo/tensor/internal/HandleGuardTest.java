package io.progrpo.tensor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** The guard behind generators, optimizers and TorchScript modules, without native code: exact interleavings forced by latches. */
class HandleGuardTest {
    static final MemorySegment H = MemorySegment.ofAddress(0x1234);
    static final int STRESS_THREADS = 4;
    static final int STRESS_CALLS = 20_000;
    static final int STRESS_ROUNDS = 20;

    /** A thread inside guard.call until {@code leave} counts down; {@code inside} counts down once it is in. */
    private static Thread caller(HandleGuard g, CountDownLatch inside, CountDownLatch leave, String name) {
        Thread t = new Thread(() -> g.call(h -> {
            inside.countDown();
            try {
                leave.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return 0;
        }), name);
        t.start();
        return t;
    }

    @Test
    void closeDuringCallsFreesWhenTheLastCallReturnsAndLaterCallsThrow() throws Exception {
        AtomicInteger frees = new AtomicInteger();
        HandleGuard g = new HandleGuard(H, h -> frees.incrementAndGet(), () -> "thing", false);
        CountDownLatch inside = new CountDownLatch(2), leaveFirst = new CountDownLatch(1), leaveSecond = new CountDownLatch(1);
        Thread a = caller(g, inside, leaveFirst, "a"), b = caller(g, inside, leaveSecond, "b");
        inside.await(); // two calls at once: the guard is shared
        assertTrue(g.close());
        assertTrue(g.isClosed());
        assertEquals(0, frees.get(), "not freed under running calls");
        IllegalStateException e = assertThrows(IllegalStateException.class, g::acquire);
        assertEquals("thing is closed", e.getMessage());
        leaveFirst.countDown();
        a.join();
        assertEquals(0, frees.get(), "one call still runs");
        leaveSecond.countDown();
        b.join();
        assertEquals(1, frees.get(), "freed by the last call to return");
        assertFalse(g.close(), "idempotent");
        assertEquals(1, frees.get());
    }

    @Test
    void closeWithoutCallsFreesAtOnce() {
        AtomicInteger frees = new AtomicInteger();
        HandleGuard g = new HandleGuard(H, h -> frees.incrementAndGet(), () -> "thing", true);
        assertSame(H, g.acquire());
        g.release();
        g.close();
        assertEquals(1, frees.get());
    }

    @Test
    void anExclusiveGuardRefusesAnOverlappingCallNamingTheThreadInside() throws Exception {
        AtomicInteger frees = new AtomicInteger();
        HandleGuard g = new HandleGuard(H, h -> frees.incrementAndGet(), () -> "AdamW optimizer", true);
        CountDownLatch inside = new CountDownLatch(1), leave = new CountDownLatch(1);
        Thread a = caller(g, inside, leave, "stepper");
        inside.await();
        IllegalStateException e = assertThrows(IllegalStateException.class, g::acquire);
        assertTrue(e.getMessage().contains("in use by thread 'stepper'") && e.getMessage().contains(Thread.currentThread().getName()),
                e.getMessage());
        g.close();
        leave.countDown();
        a.join();
        assertEquals(1, frees.get());
    }

    @Test
    void manyThreadsAndACloseFreeExactlyOnceAndNeverUnderACall() throws Exception {
        for (int round = 0; round < STRESS_ROUNDS; round++) {
            AtomicInteger inCall = new AtomicInteger(), frees = new AtomicInteger();
            AtomicReference<String> bad = new AtomicReference<>();
            HandleGuard g = new HandleGuard(H, h -> {
                if (inCall.get() != 0) bad.set("freed with " + inCall.get() + " calls running");
                frees.incrementAndGet();
            }, () -> "thing", false);
            CountDownLatch half = new CountDownLatch(STRESS_THREADS);
            List<Thread> ts = new ArrayList<>();
            for (int k = 0; k < STRESS_THREADS; k++) {
                Thread t = new Thread(() -> {
                    for (int i = 0; i < STRESS_CALLS; i++) {
                        if (i == STRESS_CALLS / 2) half.countDown();
                        try {
                            g.call(h -> {
                                inCall.incrementAndGet();
                                if (frees.get() != 0) bad.set("a call got a freed handle");
                                inCall.decrementAndGet();
                                return 0;
                            });
                        } catch (IllegalStateException closed) {
                            break;
                        }
                    }
                    half.countDown();
                });
                ts.add(t);
                t.start();
            }
            half.await();
            g.close();
            for (Thread t : ts) t.join();
            assertEquals(null, bad.get(), "round " + round);
            assertEquals(1, frees.get(), "round " + round + ": freed exactly once");
        }
    }
}
