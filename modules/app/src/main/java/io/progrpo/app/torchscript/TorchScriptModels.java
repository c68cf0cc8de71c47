package io.progrpo.app.torchscript;

import io.progrpo.sampler.TorchScriptVelocityModel.ReferenceMode;
import io.progrpo.sampler.TorchScriptVelocityModel;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The exported files of a TorchScript training job and how to call them (shapes in docs/torchscript.md).
 *
 * @param policy           the velocity model: {@code method(x [B, ...latentShape], t [B], cond[, adapter_scale])}
 * @param trainablePattern regular expression found in the dotted names of the parameters to train (e.g. {@code lora_})
 * @param policyOptions    method, time scale and whether the adapter scale is passed
 * @param referenceMode    the KL reference (used when beta > 0): adapters disabled (no extra memory) or a frozen copy
 * @param decoder          the latent decoder: {@code decodeMethod(latents) -> images [B, 3, H, W] in [0, 1]}
 * @param decodeMethod     e.g. {@code decode}
 * @param scorer           the reward model: {@code scoreMethod(images [N, 3, H, W], token_ids [N, L] int64) -> [N]}
 * @param scoreMethod      e.g. {@code forward}
 * @param rewardName       the name the reward's metrics are reported under
 * @param latentShape      one sample's latent shape, e.g. {4, 64, 64}
 */
public record TorchScriptModels(Path policy, String trainablePattern, TorchScriptVelocityModel.Options policyOptions,
                                ReferenceMode referenceMode, Path decoder, String decodeMethod, Path scorer, String scoreMethod,
                                String rewardName, long[] latentShape) {
    public TorchScriptModels {
        if (policy == null) throw new IllegalArgumentException("policy file is null");
        if (decoder == null) throw new IllegalArgumentException("decoder file is null");
        if (scorer == null) throw new IllegalArgumentException("scorer file is null");
        if (trainablePattern == null || trainablePattern.isEmpty()) {
            throw new IllegalArgumentException("trainablePattern must be a regular expression such as lora_, got '" + trainablePattern + "'");
        }
        if (policyOptions == null) throw new IllegalArgumentException("policyOptions are null");
        if (referenceMode == null) throw new IllegalArgumentException("referenceMode is null");
        if (decodeMethod == null || decodeMethod.isBlank()) throw new IllegalArgumentException("decodeMethod is blank");
        if (scoreMethod == null || scoreMethod.isBlank()) throw new IllegalArgumentException("scoreMethod is blank");
        if (rewardName == null || rewardName.isBlank()) throw new IllegalArgumentException("rewardName is blank");
        if (latentShape == null || latentShape.length == 0 || Arrays.stream(latentShape).anyMatch(d -> d < 1)) {
            throw new IllegalArgumentException("latentShape must be non-empty with positive sizes, got " + Arrays.toString(latentShape));
        }
        latentShape = latentShape.clone();
    }

    /**
     * The layout of the fixtures of scripts/export-torchscript-fixtures in {@code dir}: velocity.pt (LoRA named
     * {@code lora_}, adapter scale passed, so the reference is the same module with adapters disabled), decoder.pt
     * ({@code decode}), scorer.pt ({@code forward}), latents {4, 4, 4}.
     */
    public static TorchScriptModels fixtures(Path dir) {
        return new TorchScriptModels(dir.resolve("velocity.pt"), "lora_", TorchScriptVelocityModel.Options.DEFAULTS.withAdapterScale(true),
                ReferenceMode.AUTO, dir.resolve("decoder.pt"), "decode", dir.resolve("scorer.pt"), "forward", "two_tower",
                new long[] {4, 4, 4});
    }

    @Override
    public long[] latentShape() {
        return latentShape.clone();
    }
}
