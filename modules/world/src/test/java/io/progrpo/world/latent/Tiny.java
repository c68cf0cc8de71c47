package io.progrpo.world.latent;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;
import io.progrpo.world.model.PretrainOptions;

import java.util.Map;
import java.util.function.Predicate;

/** Small shapes for fast tests: 16x16 embedded scenes, 4x4x4 latents, a one-block generator. */
final class Tiny {
    static final EmbeddedScenes SCENES = new EmbeddedScenes(16);
    static final AutoencoderConfig AE = new AutoencoderConfig(16, 4, 8);
    static final TextEncoderConfig TEXT = new TextEncoderConfig(SCENES.vocabularySize(), SCENES.sequenceLength(), 8, 1, 2);
    static final FlowTransformerConfig GEN = new FlowTransformerConfig(4, 4, 2, 16, 1, 2, 2, 8, SCENES.sequenceLength(), 2, 4);
    static final AutoencoderTrainOptions AE_TRAIN = new AutoencoderTrainOptions(3, 4, 2e-3, 1, 1e-4, 1.0, 3, 0);
    static final PretrainOptions GEN_TRAIN =
            new PretrainOptions(3, 4, 1e-3, 1, 1e-4, 0.1, PretrainOptions.SigmaSampling.LOGIT_NORMAL, 1.0, 5, 0, 0);
    static final LatentConfig CONFIG = new LatentConfig(AE, AE_TRAIN, TEXT, GEN, GEN_TRAIN);

    private Tiny() {}

    /** Fills the parameters whose name passes {@code which} with N(0, std) values (e.g. the zero-initialised ones). */
    static void randomise(Module m, Predicate<String> which, double std, long seed) {
        try (var ng = Autograd.noGrad(); Generator g = Generator.create(seed); Scope s = Scope.open()) {
            for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
                if (which.test(e.getKey())) {
                    Tensor t = e.getValue();
                    t.copyFrom(Tensor.randn(g, t.shape()).mul(std).to(t.dtype()));
                }
            }
        }
    }

    /** Token ids of prompts of the tiny scenes, {@code [N, L]}. */
    static Tensor ids(String... prompts) {
        int l = SCENES.sequenceLength();
        long[] out = new long[prompts.length * l];
        for (int i = 0; i < prompts.length; i++) System.arraycopy(SCENES.encode(prompts[i]), 0, out, i * l, l);
        return Tensor.of(out, prompts.length, l);
    }
}
