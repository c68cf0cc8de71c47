package io.progrpo.tensor;

import io.progrpo.tensor.jit.ScriptModule;
import io.progrpo.tensor.optim.AdamW;
import io.progrpo.tensor.optim.Optimizer;
import io.progrpo.tensor.optim.Sgd;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * close() of a generator, an optimizer or a TorchScript module while other threads are inside native calls on it
 * (family 3 of issue 15): the running call completes, later calls throw IllegalStateException, nothing is freed under
 * a call. On the old code these crashed the JVM (SIGSEGV in pt_randn and in AdamW's addcdiv_, glibc heap corruption),
 * so each runs in a fresh JVM. Rounds are counts, not durations.
 */
class CloseWhileInUseTest {
    static final int GENERATOR_ROUNDS = 100;
    static final int OPTIMIZER_ROUNDS = 40;
    static final int SCRIPT_ROUNDS = 25;
    static final int USERS = 2;

    /** The child: {@code generator}, {@code optimizer} or {@code script <fixture dir>}. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            switch (args[0]) {
                case "generator" -> generator();
                case "optimizer" -> optimizer();
                case "script" -> script(Path.of(args[1]));
                default -> throw new IllegalArgumentException(args[0]);
            }
        }

        /** One task of a user thread, run until the object is closed. */
        interface Use {
            void run(long i) throws Exception;
        }

        /**
         * Starts {@link #USERS} threads that repeat {@code use} until it throws IllegalStateException (closed, or, for an
         * exclusive object, in use by the other thread, which they skip), lets each finish one use, runs {@code close},
         * and checks that every user stopped because the object was closed, with no other failure.
         */
        static void race(String what, int round, Use use, Runnable close) throws InterruptedException {
            CountDownLatch started = new CountDownLatch(USERS);
            AtomicReference<Throwable> bad = new AtomicReference<>();
            AtomicInteger stoppedByClose = new AtomicInteger();
            List<Thread> users = new ArrayList<>();
            for (int k = 0; k < USERS; k++) {
                Thread t = new Thread(() -> {
                    boolean counted = false;
                    try {
                        for (long i = 0; ; i++) {
                            try {
                                use.run(i);
                            } catch (IllegalStateException e) {
                                if (!e.getMessage().contains("in use by thread")) throw e;
                            }
                            if (!counted) {
                                counted = true;
                                started.countDown();
                            }
                        }
                    } catch (IllegalStateException e) {
                        if (e.getMessage().contains("is closed")) stoppedByClose.incrementAndGet();
                        else bad.compareAndSet(null, e);
                    } catch (Throwable e) {
                        bad.compareAndSet(null, e);
                    } finally {
                        if (!counted) started.countDown();
                    }
                }, what + "-user-" + k);
                users.add(t);
                t.start();
            }
            started.await();
            close.run();
            for (Thread t : users) t.join();
            if (bad.get() != null) throw new AssertionError(what + " round " + round + ": a user failed otherwise", bad.get());
            if (stoppedByClose.get() != USERS) {
                throw new AssertionError(what + " round " + round + ": " + stoppedByClose.get() + " of " + USERS + " users saw the close");
            }
        }

        static void generator() throws Exception {
            for (int r = 0; r < GENERATOR_ROUNDS; r++) {
                Generator g = Generator.create(r);
                race("generator", r, i -> {
                    if (i % 16 == 15) {
                        try (Tensor s = g.state()) {
                            g.setState(s);
                        }
                    } else {
                        try (Tensor x = Tensor.randn(g, 64)) {
                            if (x.numel() != 64) throw new AssertionError();
                        }
                    }
                }, g::close);
                g.close(); // idempotent
            }
            System.out.println("generator: " + GENERATOR_ROUNDS + " rounds of close during draws by " + USERS + " threads");
        }

        static void optimizer() throws Exception {
            try (Generator gen = Generator.create(3)) {
                for (int r = 0; r < OPTIMIZER_ROUNDS; r++) {
                    Tensor p = Tensor.randn(gen, 1 << 16).setRequiresGrad(true);
                    try (Tensor s = p.sum()) {
                        s.backward();
                    }
                    p.unconfine(); // both user threads may step it; the optimizer keeps their calls apart
                    Optimizer opt = r % 2 == 0 ? new AdamW(List.of(p), AdamW.Options.DEFAULTS) : new Sgd(List.of(p), new Sgd.Options(1e-3, 0.9, 0, 1e-4, false));
                    race("optimizer", r, i -> {
                        if (i % 8 == 7) opt.learningRate(0);
                        else opt.step();
                    }, opt::close);
                    opt.close();
                    try (Tensor finite = p.isfinite().all()) {
                        if (finite.item() != 1) throw new AssertionError("round " + r + ": parameter not finite");
                    }
                    p.close();
                }
            }
            System.out.println("optimizer: " + OPTIMIZER_ROUNDS + " rounds of close during steps by " + USERS + " threads");
        }

        static void script(Path fixtures) throws Exception {
            for (int r = 0; r < SCRIPT_ROUNDS; r++) {
                ScriptModule m = ScriptModule.load(fixtures.resolve("velocity.pt"));
                race("script", r, i -> {
                    try (Scope s = Scope.open(); var ng = Autograd.noGrad()) {
                        Tensor x = Tensor.zeros(DType.FLOAT32, Device.CPU, 8, 4, 4, 4);
                        Tensor t = Tensor.full(0.5, DType.FLOAT32, Device.CPU, 8);
                        if (i % 4 == 3) m.methodNames();
                        else m.forward(x, t, null);
                    }
                }, m::close);
                m.close();
            }
            System.out.println("script: " + SCRIPT_ROUNDS + " rounds of close during calls by " + USERS + " threads");
        }
    }

    @Test
    void closingAGeneratorWhileOtherThreadsDrawThrowsInThemInsteadOfCrashing() throws Exception {
        Torch.ensureAvailable();
        ForkedJvm.run(Child.class, 120, "generator").assertPassed("generator: " + GENERATOR_ROUNDS + " rounds");
    }

    @Test
    void closingAnOptimizerWhileOtherThreadsStepItThrowsInThemInsteadOfCrashing() throws Exception {
        Torch.ensureAvailable();
        ForkedJvm.run(Child.class, 120, "optimizer").assertPassed("optimizer: " + OPTIMIZER_ROUNDS + " rounds");
    }

    @Test
    void closingAScriptModuleWhileOtherThreadsCallItThrowsInThemInsteadOfCrashing() throws Exception {
        Torch.ensureAvailable();
        Path fixtures = null;
        for (Path p = Path.of("").toAbsolutePath(); p != null && fixtures == null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("fixtures/torchscript"))) fixtures = p.resolve("fixtures/torchscript");
        }
        if (fixtures == null) throw new IllegalStateException("fixtures/torchscript not found above " + Path.of("").toAbsolutePath());
        ForkedJvm.run(Child.class, 120, "script", fixtures.toString()).assertPassed("script: " + SCRIPT_ROUNDS + " rounds");
    }
}
