package io.progrpo.bench;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.world.latent.AutoencoderConfig;
import io.progrpo.world.latent.FlowTransformerConfig;
import io.progrpo.world.latent.LatentFlowTransformer;
import io.progrpo.world.latent.LoraLinear;
import io.progrpo.world.latent.TextEncoder;
import io.progrpo.world.latent.TextEncoderConfig;
import io.progrpo.world.scene.SceneTokenizer;
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

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The latent world's generator (the demo's shape: 4 x 8 x 8 latents, width 128, depth 6, LoRA rank 8 on every
 * linear layer) in a guided sampling forward without gradient: the conditional and the unconditional branch of B rows,
 * with the LoRA adapters computed per call ({@code merge=false}) or merged into the weights ({@code merge=true},
 * {@link LoraLinear}'s no-grad path). The adapters are set to small random values first, as after training (at
 * initialisation B is zero). {@code merge} is a JVM-wide switch read once ({@code -Dprogrpo.lora.merge}), so each
 * value runs in forks of its own; the set-up checks that the fork got the value it asked for.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Thread)
@Fork(value = 2, jvmArgsAppend = "--enable-native-access=io.progrpo.tensor,ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LoraMergeBench {
    /** Rows per forward: one group of 24, four groups (bench-compare's epoch). */
    @Param({"24", "96"})
    public int rows;

    @Param({"true", "false"})
    public boolean merge;

    private TextEncoder text;
    private LatentFlowTransformer model;
    private Tensor x;
    private Tensor t;
    private Tensor cond;
    private Tensor uncond;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty("progrpo.lora.merge", Boolean.toString(merge)); // before LoraLinear is initialised
        if (LoraLinear.merging() != merge) {
            throw new IllegalStateException("LoraLinear was initialised before the set-up: merging " + LoraLinear.merging()
                    + ", asked for " + merge);
        }
        AutoencoderConfig ae = AutoencoderConfig.DEFAULTS;
        TextEncoderConfig tc = TextEncoderConfig.of(SceneTokenizer.vocabularySize(), SceneTokenizer.SEQUENCE_LENGTH);
        text = new TextEncoder(tc, 1);
        model = new LatentFlowTransformer(FlowTransformerConfig.of(ae.latentChannels(), ae.latentSize(), tc), text, 2);
        try (Generator gen = Generator.create(5); var ng = Autograd.noGrad()) {
            for (Map.Entry<String, Tensor> e : model.adapterParameters().entrySet()) {
                try (Scope s = Scope.open()) {
                    Tensor p = e.getValue();
                    p.copyFrom(Tensor.randn(gen, p.dtype(), p.device(), p.shape()).mul(0.02));
                }
            }
            x = Tensor.randn(gen, DType.FLOAT32, Device.CPU, rows, ae.latentChannels(), ae.latentSize(), ae.latentSize()).unscoped();
            cond = Tensor.randint(gen, 1, SceneTokenizer.vocabularySize(), Device.CPU, rows, SceneTokenizer.SEQUENCE_LENGTH).unscoped();
        }
        uncond = Tensor.zeros(DType.INT64, Device.CPU, rows, SceneTokenizer.SEQUENCE_LENGTH).unscoped();
        t = Tensor.full(0.7, DType.FLOAT32, Device.CPU, rows).unscoped();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor v : new Tensor[] {x, t, cond, uncond}) v.close();
        model.close();
        text.close();
    }

    /** The two forwards of one guided sampling step, without gradient. */
    @Benchmark
    public long guidedForward() {
        try (Scope s = Scope.open(); var ng = Autograd.noGrad()) {
            return model.predict(x, t, cond).numel() + model.predict(x, t, uncond).numel();
        }
    }
}
