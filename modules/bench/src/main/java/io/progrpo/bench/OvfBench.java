package io.progrpo.bench;

import io.progrpo.pruning.OptimalVarianceFilter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The optimal-variance filter (Pro-GRPO's pruning step: keep the k of G rewards whose subset variance is largest) at
 * group sizes from a realistic 1,000 to a stress 1,000,000, keeping half. Rewards are seeded uniform doubles, made
 * once per trial; the filter must not modify them, so the same array is reused.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(org.openjdk.jmh.annotations.Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=io.progrpo.tensor,ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class OvfBench {
    @Param({"1000", "100000", "1000000"})
    public int groupSize;

    private double[] rewards;
    private int keep;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rng = new SplittableRandom(1234L + groupSize);
        rewards = new double[groupSize];
        for (int i = 0; i < groupSize; i++) rewards[i] = rng.nextDouble();
        keep = groupSize / 2;
    }

    @Benchmark
    public int[] select() {
        return OptimalVarianceFilter.select(rewards, keep);
    }
}
