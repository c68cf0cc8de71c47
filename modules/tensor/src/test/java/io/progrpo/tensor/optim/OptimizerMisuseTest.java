package io.progrpo.tensor.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorTestBase;
import io.progrpo.tensor.jit.ScriptModule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * Optimizer and generator misuse (families 3 and 14 of issue 15) raises a Java exception and changes nothing: the same
 * parameter twice (it would be updated twice per step), a step or zero_grad from a thread the parameters are not
 * confined to, a closed parameter, use after close.
 */
class OptimizerMisuseTest extends TensorTestBase {
    /** Both optimizers, as factories over a parameter list. */
    static final List<Function<List<Tensor>, Optimizer>> OPTIMIZERS = List.of(
            ps -> new AdamW(ps, AdamW.Options.DEFAULTS), ps -> new Sgd(ps, Sgd.Options.plain(0.1)));

    private static Tensor param(float... v) {
        Tensor p = Tensor.of(v, v.length).unscoped().setRequiresGrad(true);
        p.sum().backward(); // gradient of ones
        return p;
    }

    private static <T> T onOtherThread(Callable<T> task) throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor(r -> new Thread(r, "other-thread"));
        try {
            return ex.submit(task).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception c) throw c;
            throw e;
        } finally {
            ex.shutdown();
        }
    }

    @Test
    void theSameTensorTwiceIsRejectedAtConstruction() {
        for (Function<List<Tensor>, Optimizer> make : OPTIMIZERS) {
            try (Tensor p = param(1, 2); Tensor q = param(3)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> make.apply(List.of(p, q, p)));
                assertTrue(e.getMessage().contains("parameter 2 of group 0") && e.getMessage().contains("parameter 0 of group 0")
                        && e.getMessage().contains("twice"), e.getMessage());
                List<Tensor> withNull = new ArrayList<>(List.of(p));
                withNull.add(null);
                IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> make.apply(withNull));
                assertTrue(n.getMessage().contains("parameter 1 of group 0 is null"), n.getMessage());
            }
        }
    }

    @Test
    void twoHandlesOfOneTorchScriptParameterAreTheSameParameter() throws Exception {
        Path fixtures = null;
        for (Path d = Path.of("").toAbsolutePath(); d != null && fixtures == null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("fixtures/torchscript"))) fixtures = d.resolve("fixtures/torchscript");
        }
        try (ScriptModule vel = ScriptModule.load(fixtures.resolve("velocity.pt"))) {
            Tensor alias = vel.namedParameters().get("out.bias");
            Map<String, Tensor> own = vel.newParameterAliases(List.of("out.bias"));
            try {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> new AdamW(List.of(alias, own.get("out.bias")), AdamW.Options.DEFAULTS));
                assertTrue(e.getMessage().contains("parameter 1 of group 0") && e.getMessage().contains("same tensor"), e.getMessage());
            } finally {
                own.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void aParameterInTwoGroupsIsRejectedAndTheOptimizerStaysUsable() {
        for (Function<List<Tensor>, Optimizer> make : OPTIMIZERS) {
            try (Tensor p = param(1, 2); Tensor q = param(3); Tensor r = param(5); Optimizer opt = make.apply(List.of(p))) {
                IllegalArgumentException again = assertThrows(IllegalArgumentException.class, () -> opt.addParamGroup(List.of(q, p), 0.1, 0));
                assertTrue(again.getMessage().contains("parameter 1 of group 1") && again.getMessage().contains("parameter 0 of group 0"),
                        again.getMessage());
                IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> opt.addParamGroup(List.of(q, r, q), 0.1, 0));
                assertTrue(twice.getMessage().contains("parameter 2 of group 1") && twice.getMessage().contains("parameter 0 of group 1"),
                        twice.getMessage());
                assertEquals(1, opt.groupCount(), "the rejected groups were not added");
                assertEquals(List.of(p), opt.parameters());
                opt.addParamGroup(List.of(q, r), 0.1, 0); // q and r were never recorded by the failed attempts
                assertEquals(2, opt.groupCount());
                IllegalArgumentException third = assertThrows(IllegalArgumentException.class, () -> opt.addParamGroup(List.of(r), 0.1, 0));
                assertTrue(third.getMessage().contains("parameter 0 of group 2") && third.getMessage().contains("parameter 1 of group 1"),
                        third.getMessage());
            }
        }
    }

    @Test
    void stepAndZeroGradFromAThreadTheParametersAreNotConfinedToThrowAndChangeNothing() throws Exception {
        for (Function<List<Tensor>, Optimizer> make : OPTIMIZERS) {
            try (Tensor p = param(1, 2); Optimizer opt = make.apply(List.of(p))) {
                WrongThreadException step = assertThrows(WrongThreadException.class, () -> onOtherThread(() -> {
                    opt.step();
                    return null;
                }));
                assertTrue(step.getMessage().contains("step on thread 'other-thread'") && step.getMessage().contains("parameter 0"),
                        step.getMessage());
                assertThrows(WrongThreadException.class, () -> onOtherThread(() -> {
                    opt.zeroGrad();
                    return null;
                }));
                assertArrayEquals(new float[] {1, 2}, p.toFloatArray(), "not stepped");
                try (Tensor g = p.grad()) {
                    assertArrayEquals(new float[] {1, 1}, g.toFloatArray(), "gradient kept");
                }
                p.unconfine(); // a hand-off makes it legal
                onOtherThread(() -> {
                    opt.step();
                    return null;
                });
                p.confine();
                assertTrue(p.toFloatArray()[0] < 1, "stepped once handed off");
            }
        }
    }

    @Test
    void aClosedParameterOrAClosedOptimizerThrows(@TempDir Path dir) {
        for (Function<List<Tensor>, Optimizer> make : OPTIMIZERS) {
            Tensor p = param(1, 2);
            try (Tensor q = param(3); Optimizer opt = make.apply(List.of(q, p))) {
                p.close(); // e.g. a module's to() replaced it
                IllegalStateException e = assertThrows(IllegalStateException.class, opt::step);
                assertTrue(e.getMessage().contains("parameter 1 is closed"), e.getMessage());
                assertArrayEquals(new float[] {3}, q.toFloatArray(), "no parameter was stepped");
                opt.close();
                opt.close(); // idempotent
                assertTrue(opt.isClosed());
                List<Runnable> uses = List.of(opt::step, opt::zeroGrad, opt::groupCount, () -> opt.learningRate(0),
                        () -> opt.setLearningRate(0, 0.1), () -> opt.addParamGroup(List.of(q), 0.1, 0));
                for (Runnable u : uses) {
                    IllegalStateException c = assertThrows(IllegalStateException.class, u::run);
                    assertTrue(c.getMessage().contains("optimizer is closed"), c.getMessage());
                }
                assertThrows(IllegalStateException.class, () -> opt.save(dir.resolve("state.pt")));
            }
        }
    }

    @Test
    void aClosedGeneratorThrows() {
        Generator g = Generator.create(1);
        g.close();
        g.close(); // idempotent
        assertTrue(g.isClosed());
        List<Runnable> uses = List.of(() -> Tensor.randn(g, 2), () -> Tensor.rand(g, 2), () -> Tensor.randint(g, 0, 3, io.progrpo.tensor.Device.CPU, 2),
                () -> Tensor.randperm(g, 3, io.progrpo.tensor.Device.CPU), g::state, () -> g.setSeed(2));
        for (Runnable u : uses) {
            IllegalStateException e = assertThrows(IllegalStateException.class, u::run);
            assertEquals("generator (seed 1, cpu) is closed", e.getMessage());
        }
    }
}
