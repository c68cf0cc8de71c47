package io.progrpo.trainer.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** The named presets of {@link TrainConfig}: methods and overlays, each the fields it changes. */
final class Presets {
    private Presets() {}

    /**
     * The value of every field of {@link TrainConfig#defaults()}, by name: Flow-GRPO on the pixel world (16x16 images, a
     * 32-channel model), the paper's sampler settings (T = 10, a = 0.7, w = 4.5) and optimizer defaults (AdamW 3e-4,
     * betas 0.9/0.999, weight decay 1e-4, grad clip 1.0), no KL term.
     */
    static final Map<String, Object> DEFAULTS = ordered(
            "method", "flow-grpo", "seed", 42L, "epochs", 50, "groupsPerEpoch", 8, "groupSize", 24, "subsetSize", 12,
            "pruneSchedule", TrainConfig.NO_PRUNING, "samplerSteps", 10, "evalSteps", 20,
            "noiseLevel", 0.7, "shift", 1.0, "eta", 1.0, "guidanceScale", 4.5, "detachUncond", true,
            "trainStepFraction", 1.0, "clipRange", 1e-4, "advClip", 5.0, "stdMode", "group", "beta", 0.0,
            "lr", 3e-4, "beta1", 0.9, "beta2", 0.999, "weightDecay", 1e-4, "gradClip", 1.0, "microBatch", 24,
            "reward", "alignment", "rewardAggregation", "weighted-sum", "evalEvery", 5, "evalPrompts", 0,
            "checkpointEvery", 10, "outDir", "runs/flow-grpo", "device", "cpu", "modelDtype", "float32",
            "imageSize", 16, "modelWidth", 32, "pretrainSteps", 400, "shadowEvery", 0, "world", "pixel",
            "klForm", "code", "adaptiveThreshold", 0.75, "computeBudget", 1.0, "sampler", TrainConfig.METHOD_SAMPLER,
            "optimizerStepsPerEpoch", 1, "emaDecay", 0.0, "ratioNorm", "none", "trajectoryDtype", "float32",
            "sdeWindow", TrainConfig.NO_WINDOW, "evalSamples", 1, "promptSeed", TrainConfig.PROMPT_SEED_OF_RUN,
            "adamEps", 1e-8, "initialNoise", "method", "samplingRows", 0);

    static final Map<String, Map<String, Object>> ALL = buildPresets();

    private static Map<String, Map<String, Object>> buildPresets() {
        Map<String, Map<String, Object>> p = new LinkedHashMap<>();
        p.put("flow-grpo", ordered("method", "flow-grpo", "groupSize", 24, "pruneSchedule", TrainConfig.NO_PRUNING,
                "outDir", "runs/flow-grpo"));
        // DanceGRPO on the demo world: 20 steps instead of the paper's 50 (the demo model is small), G = 16, no KL,
        // gradient through the unconditional branch.
        p.put("dance-grpo", ordered("method", "dance-grpo", "groupSize", 16, "samplerSteps", 20, "eta", 1.0,
                "beta", 0.0, "detachUncond", false, "pruneSchedule", TrainConfig.NO_PRUNING, "outDir", "runs/dance-grpo"));
        p.put("uniform-subsample", ordered("method", "uniform-subsample", "groupSize", 24, "subsetSize", 12,
                "pruneSchedule", TrainConfig.NO_PRUNING, "outDir", "runs/uniform-subsample"));
        p.put("static-ovf", ordered("method", "static-ovf", "groupSize", 24, "subsetSize", 12,
                "pruneSchedule", TrainConfig.NO_PRUNING, "outDir", "runs/static-ovf"));
        p.put("pro-grpo", ordered("method", "pro-grpo", "groupSize", 48, "pruneSchedule", "48>24@5>12@7",
                "outDir", "runs/pro-grpo"));
        p.put("pro-grpo-flash", ordered("method", "pro-grpo-flash", "groupSize", 24,
                "pruneSchedule", "24>16@5>12@7", "outDir", "runs/pro-grpo-flash"));
        // pruneSchedule: the funnel of the epochs before the first estimate (none: epoch 0 has a shadow group first)
        p.put("pro-grpo-adaptive", ordered("method", "pro-grpo-adaptive", "groupSize", 48, "subsetSize", 12,
                "pruneSchedule", "48>24@5>12@7", "shadowEvery", 2, "outDir", "runs/pro-grpo-adaptive"));
        // the paper's second setting: 50 DDIM steps as the paper runs them (its baseline: dance-grpo with samplerSteps=50)
        p.put("pro-grpo-dance", ordered("method", "pro-grpo-dance", "groupSize", 48, "samplerSteps", 50, "eta", 1.0,
                "beta", 0.0, "detachUncond", false, "pruneSchedule", "diffusion", "outDir", "runs/pro-grpo-dance"));
        // Overlays: change budget or sampler setting, keep the method.
        p.put("paper-flow", ordered("samplerSteps", 10, "evalSteps", 40, "shift", 3.0, "beta", 0.01));
        // microBatch 108 = a pruned group's 12 survivors x 9 trained steps in one forward (flow-grpo's 24 x 9 in two):
        // the small demo model costs per call more than per row (docs/benchmarks.md, "Pipeline side by side")
        // shadowEvery 2: six shadow groups per pruning run, the within-group preview agreement beside the training
        p.put("demo", ordered("epochs", 12, "groupsPerEpoch", 8, "evalEvery", 3, "evalPrompts", 24, "checkpointEvery", 6,
                "pretrainSteps", 120, "evalSteps", 10, "microBatch", 108, "shadowEvery", 2));
        p.put("quick", ordered("epochs", 1, "groupsPerEpoch", 1, "evalEvery", 1, "evalPrompts", 4,
                "checkpointEvery", 1, "pretrainSteps", 30, "modelWidth", 16, "evalSteps", 6));
        // The latent scene world: its learned reward to train on; the base model's figures were measured at 20 ODE steps.
        // lr 3e-3 for its LoRA adapters (10x the spec's 3e-4 for SD3's): chosen on one flow-grpo run of 12 demo epochs,
        // where 3e-4 moved the held-out reward by +0.004 and 3e-3 by +0.36 (docs/benchmarks.md); the same for every method.
        p.put("latent", ordered("world", "latent", "reward", "scene_preference", "evalSteps", 20, "lr", 3e-3));
        return Collections.unmodifiableMap(p);
    }

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }

    /** The fields a spec {@code NAME[+OVERLAY...]} sets, applied left to right; an empty name is an error. */
    static Map<String, Object> overrides(String spec) {
        Objects.requireNonNull(spec, "preset");
        Map<String, Object> merged = new LinkedHashMap<>();
        String[] names = spec.split("\\+", -1);
        for (int i = 0; i < names.length; i++) {
            String name = names[i].trim();
            if (name.isEmpty()) {
                String where = names.length == 1 ? "" : i == 0 ? " before the first '+'"
                        : i == names.length - 1 ? " after the last '+'" : " between two '+'";
                throw new ConfigException("preset", "preset spec '" + spec + "' has an empty name" + where
                        + "; expected NAME[+OVERLAY...] such as pro-grpo+quick (presets: " + String.join(", ", ALL.keySet()) + ")");
            }
            merged.putAll(TrainConfig.presetDifferences(name));
        }
        return merged;
    }
}
