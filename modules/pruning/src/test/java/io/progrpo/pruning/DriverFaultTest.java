package io.progrpo.pruning;

import io.progrpo.sampler.Decoder;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Every way the driver's collaborators can fail (model, decoder, proxy and final reward, subset strategy), on the
 * pruned path (checkpoints at 2 and 3 of 4 steps) and the static one (checkpoint at T): each ends in an exception
 * naming the part, the phase and what was expected, and leaves no tensor alive (none for the leak safety net).
 */
class DriverFaultTest {
    static final int GROUPS = 2;
    static final int G = 8;

    private static long leaksAtStart;

    @BeforeAll
    static void rememberLeaks() {
        leaksAtStart = MemoryLedger.leaks();
    }

    /** The leak safety net found nothing to free after all the faults (tensors were closed, not dropped). */
    @AfterAll
    static void noTensorReachedTheSafetyNet() throws InterruptedException {
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(leaksAtStart, MemoryLedger.leaks(), "tensors freed by the leak safety net after the faults");
    }

    /** One fault: what to break, and fragments the message must hold. */
    record Fault(String name, PruneSchedule schedule, VelocityModel model, Decoder decoder,
                 RewardFunction proxy, RewardFunction reward, SubsetStrategy strategy, Class<? extends Throwable> type,
                 List<String> fragments) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final PruneSchedule PRUNED = new PruneSchedule(G, new int[] {2, 3}, new int[] {4, 2}, 4, "ovf");
    static final PruneSchedule STATIC = PruneSchedule.staticOvf(G, 2, 4);

    static final VelocityModel ZERO = (x, t, c) -> Tensor.zeros(x.shape());
    static final Decoder CLAMP = x -> x.clamp(-1e9, 1e9);

    /** A reward named {@code name} whose scores are the mean pixel, then changed by {@code edit}. */
    static RewardFunction reward(String name, Function<double[], RewardOutput> edit) {
        return new RewardFunction() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public RewardOutput score(Tensor images, List<String> prompts) {
                try (Scope s = Scope.open()) {
                    return edit.apply(images.reshape(images.size(0), -1).mean(false, 1).toDoubleArray());
                }
            }
        };
    }

    static final RewardFunction GOOD = reward("good", RewardOutput::of);

    static VelocityModel throwingAt(int call, Throwable t) {
        int[] calls = {0};
        return (x, tt, c) -> {
            if (calls[0]++ == call) {
                if (t instanceof RuntimeException r) throw r;
                throw (Error) t;
            }
            return Tensor.zeros(x.shape());
        };
    }

    static SubsetStrategy strategy(String name, int[] answer) {
        return new SubsetStrategy() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int[] select(double[] rewards, int k, java.util.random.RandomGenerator rng) {
                return answer.clone();
            }
        };
    }

    static Fault fault(String name, PruneSchedule s, VelocityModel m, Decoder d, RewardFunction proxy,
                       RewardFunction reward, Class<? extends Throwable> type, String... fragments) {
        return new Fault(name, s, m, d, proxy, reward, SubsetStrategy.OVF, type, List.of(fragments));
    }

    static Stream<Fault> faults() {
        Class<IllegalStateException> ise = IllegalStateException.class;
        return Stream.of(
                fault("model throws at step 0", PRUNED, throwingAt(0, new IllegalArgumentException("model broke at step 0")),
                        CLAMP, GOOD, GOOD, IllegalArgumentException.class, "model broke at step 0"),
                fault("model throws after the first checkpoint", PRUNED, throwingAt(2, new IllegalArgumentException("late")),
                        CLAMP, GOOD, GOOD, IllegalArgumentException.class, "late"),
                fault("model throws an Error", PRUNED, throwingAt(1, new AssertionError("model error")),
                        CLAMP, GOOD, GOOD, AssertionError.class, "model error"),
                fault("proxy returns too few scores", PRUNED, ZERO, CLAMP,
                        reward("short", r -> RewardOutput.of(Arrays.copyOf(r, r.length - 1))), GOOD, ise,
                        "reward 'short'", "proxy at step 2 of 4", "15 scores for 16 images"),
                fault("proxy returns too many scores", PRUNED, ZERO, CLAMP,
                        reward("long", r -> RewardOutput.of(Arrays.copyOf(r, r.length + 3))), GOOD, ise,
                        "reward 'long'", "proxy at step 2 of 4", "19 scores for 16 images"),
                fault("proxy returns NaN", PRUNED, ZERO, CLAMP, reward("nan", r -> {
                    r[5] = Double.NaN;
                    return RewardOutput.of(r);
                }), GOOD, ise, "reward 'nan'", "proxy at step 2 of 4", "index 5: NaN"),
                fault("proxy returns null", PRUNED, ZERO, CLAMP, reward("null", r -> null), GOOD, ise,
                        "reward 'null'", "proxy at step 2 of 4", "returned null for 16 images"),
                fault("proxy returns an infinite metric", PRUNED, ZERO, CLAMP, reward("metric", r -> {
                    double[] v = new double[r.length];
                    v[3] = Double.POSITIVE_INFINITY;
                    return new RewardOutput(r, Map.of("part", v));
                }), GOOD, ise, "reward 'metric'", "metric 'part' at index 3: Infinity"),
                fault("proxy throws", PRUNED, ZERO, CLAMP, reward("boom", r -> {
                    throw new IllegalArgumentException("proxy boom");
                }), GOOD, IllegalArgumentException.class, "proxy boom"),
                fault("second proxy checkpoint returns too few", PRUNED, ZERO, CLAMP, reward("second", r ->
                        RewardOutput.of(r.length == 8 ? Arrays.copyOf(r, 7) : r)), GOOD, ise,
                        "reward 'second'", "proxy at step 3 of 4", "7 scores for 8 images"),
                fault("final reward returns NaN", PRUNED, ZERO, CLAMP, GOOD, reward("final-nan", r -> {
                    r[0] = Double.NaN;
                    return RewardOutput.of(r);
                }), ise, "reward 'final-nan'", "final, after step 4 of 4", "index 0: NaN"),
                fault("final reward returns too few", PRUNED, ZERO, CLAMP, GOOD,
                        reward("final-short", r -> RewardOutput.of(new double[1])), ise,
                        "reward 'final-short'", "final", "1 scores for 4 images"),
                fault("final reward returns too many", PRUNED, ZERO, CLAMP, GOOD,
                        reward("final-long", r -> RewardOutput.of(new double[9])), ise, "9 scores for 4 images"),
                fault("static final reward returns NaN", STATIC, ZERO, CLAMP, GOOD, reward("static-nan", r -> {
                    r[15] = Double.NEGATIVE_INFINITY;
                    return RewardOutput.of(r);
                }), ise, "reward 'static-nan'", "final, after step 4 of 4", "index 15: -Infinity"),
                fault("static final reward returns too few", STATIC, ZERO, CLAMP, GOOD,
                        reward("static-short", r -> RewardOutput.of(new double[2])), ise, "2 scores for 16 images"),
                fault("final reward throws an Error", PRUNED, ZERO, CLAMP, GOOD, reward("oom", r -> {
                    throw new OutOfMemoryError("simulated");
                }), OutOfMemoryError.class, "simulated"),
                fault("decoder throws", PRUNED, ZERO, x -> {
                    throw new IllegalStateException("decoder boom");
                }, GOOD, GOOD, ise, "decoder boom"),
                fault("decoder returns too few images", PRUNED, ZERO, x -> {
                    try (Scope s = Scope.open()) {
                        return s.keep(x.narrow(0, 0, 3).clone_());
                    }
                }, GOOD, GOOD, ise,
                        "decoder returned images of shape [3, 3, 2, 2] for 16 latents", "proxy at step 2 of 4"),
                fault("decoder returns its argument", PRUNED, ZERO, x -> x, GOOD, GOOD, ise, "decoder returned its argument"),
                new Fault("strategy returns a repeated index", PRUNED, ZERO, CLAMP, GOOD, GOOD,
                        strategy("dup", new int[] {0, 0, 1, 2}), ise, List.of("subset strategy 'dup'", "[0, 0, 1, 2]",
                        "distinct ascending indices in [0, 8)")),
                new Fault("strategy returns an index out of range", PRUNED, ZERO, CLAMP, GOOD, GOOD,
                        strategy("far", new int[] {0, 1, 2, 99}), ise, List.of("'far'", "proxy at step 2 of 4")),
                new Fault("strategy returns too few", PRUNED, ZERO, CLAMP, GOOD, GOOD,
                        strategy("few", new int[] {0}), ise, List.of("'few'", "chose 1 rows of group 0; expected 4 of 8")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faults")
    void aFaultIsNamedAndFreesEverything(Fault f) {
        long live = MemoryLedger.liveTensors();
        long bytes = MemoryLedger.bytes(io.progrpo.tensor.Device.CPU);
        ExpandAndPruneDriver driver = new ExpandAndPruneDriver(f.schedule(), f.strategy(), f.decoder(), new SplittableRandom(3));
        float[] noise = new float[GROUPS * G * ExpandAndPruneDriverTest.D];
        for (int i = 0; i < noise.length; i++) noise[i] = (float) Math.sin(i * 0.37);
        try (Tensor nz = Tensor.of(noise, GROUPS * G, 3, 2, 2); Tensor cond = Tensor.zeros(GROUPS * G, 3)) {
            Throwable e = assertThrows(f.type(), () -> driver.run(new ExpandAndPruneDriverTest.ShiftSampler(4), f.model(),
                    List.of("a", "b"), nz, cond, f.proxy(), f.reward(), null).close());
            assertNotNull(e.getMessage());
            for (String frag : f.fragments()) assertTrue(e.getMessage().contains(frag), e.getMessage() + " should name " + frag);
            assertFalse(e instanceof ArrayIndexOutOfBoundsException, e.toString());
        }
        assertEquals(live, MemoryLedger.liveTensors(), "tensors left alive after: " + f.name());
        assertEquals(bytes, MemoryLedger.bytes(io.progrpo.tensor.Device.CPU), "bytes left alive after: " + f.name());
    }
}
