package io.progrpo.bench;

import io.progrpo.sampler.ClassifierFreeGuidance;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.StepOutput;
import io.progrpo.sampler.Trajectory;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.world.Tokenizer;
import io.progrpo.world.model.Parameterization;
import io.progrpo.world.model.WorldModel;
import io.progrpo.world.model.WorldModelConfig;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Sampler step throughput on the embedded world's model (16x16 images, width 32, 217k parameters; random weights,
 * which cost the same as trained ones): one Flow-GRPO SDE step with classifier-free guidance (two forwards of B rows,
 * the unconditional branch detached) against the two forwards alone, and the step plus the trajectory's bookkeeping
 * (what a sampling loop does per step). The difference between {@code sdeStep} and {@code twoForwards} is the
 * sampler's own cost: the Gaussian policy's mean, noise, next latents, log-prob, the x0 preview and the finite check.
 * Rows per second = B / (ms per op) x 1000.
 *
 * <p>Threads follow libtorch's defaults (-Dprogrpo.torch.threads); run with OMP_WAIT_POLICY=PASSIVE as the scripts do.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=io.progrpo.tensor,ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SamplerStepBench {
    /** Rows per step: one group of 24 (Flow-GRPO's G), four groups (the bench-compare epoch), eight (the demo's). */
    @Param({"24", "96", "192"})
    public int rows;

    private static final int IMAGE = 16;
    private static final int STEP = 3;

    private WorldModel model;
    private Generator gen;
    private Tensor x;
    private Tensor cond;
    private Tensor uncond;
    private Tensor t;
    private ClassifierFreeGuidance cfg;
    private FlowSdeSampler sampler;

    @Setup(Level.Trial)
    public void setUp() {
        model = new WorldModel(new WorldModelConfig(IMAGE, WorldModelConfig.DEFAULT_WIDTH, Tokenizer.vocabularySize(),
                Tokenizer.SEQUENCE_LENGTH, Parameterization.VELOCITY), 3, Device.CPU);
        gen = Generator.create(11);
        x = Tensor.randn(gen, DType.FLOAT32, Device.CPU, rows, 3, IMAGE, IMAGE).unscoped();
        cond = Tensor.randint(gen, 1, Tokenizer.vocabularySize(), Device.CPU, rows, Tokenizer.SEQUENCE_LENGTH).unscoped();
        uncond = Tensor.zeros(DType.INT64, Device.CPU, 1, Tokenizer.SEQUENCE_LENGTH).unscoped();
        sampler = FlowSdeSampler.sde(10, 3.0);
        t = Tensor.full(sampler.time(STEP), DType.FLOAT32, Device.CPU, rows).unscoped();
        cfg = new ClassifierFreeGuidance(model, 4.5, uncond, true);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor v : new Tensor[] {x, cond, uncond, t}) v.close();
        gen.close();
        model.close();
    }

    /** The model alone: the conditional and the unconditional forward of one guided step. */
    @Benchmark
    public long twoForwards() {
        try (Scope s = Scope.open(); var ng = Autograd.noGrad()) {
            Tensor vc = model.predict(x, t, cond);
            Tensor vu = model.predict(x, t, uncond.expand(rows, Tokenizer.SEQUENCE_LENGTH));
            return vc.numel() + vu.numel();
        }
    }

    /** One guided SDE step: the two forwards plus the sampler's arithmetic. */
    @Benchmark
    public long sdeStep() {
        try (var ng = Autograd.noGrad(); StepOutput out = sampler.step(cfg, x, cond, STEP, gen)) {
            return out.next().numel();
        }
    }

    /** A sampling loop's step: the guided SDE step, then stored in a trajectory. */
    @Benchmark
    public long sdeStepIntoTrajectory() {
        try (var ng = Autograd.noGrad(); Trajectory traj = new Trajectory(sampler)) {
            try (StepOutput out = sampler.step(cfg, x, cond, STEP, gen)) {
                traj.append(STEP, x, out);
            }
            return traj.finalLatents().numel();
        }
    }
}
