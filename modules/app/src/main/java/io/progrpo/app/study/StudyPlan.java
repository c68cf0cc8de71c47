package io.progrpo.app.study;

import io.progrpo.app.study.StudyArm.Role;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.config.TrainConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pre-registered plan of a study: every arm with its preset, overrides and seeds, the budget (epochs and
 * optimizer steps per epoch), the evaluation and the matched-compute rule, fixed before the first run. {@link
 * PlanGuard} writes it as {@code plan.json} and {@code plan.md} and refuses to continue a study whose plan changed.
 *
 * @param world                pixel or latent
 * @param quick                the smoke-test size ({@code quick} overlay; {@code latent-quick} world)
 * @param overlay              the overlays after each arm's preset ({@code demo}, {@code demo+latent}, ...)
 * @param commonSets           overrides every arm gets before its own
 * @param epochs               E: the matched-epochs budget (the paper's protocol)
 * @param groupsPerStep        prompt groups per optimizer step (groupsPerEpoch / groupsPerStep steps per epoch)
 * @param evalSamplesPerPrompt deterministic samples per held-out prompt in every evaluation (>= 4 in the full study)
 * @param seedBase             seed index s runs with seed seedBase + s in every arm
 * @param arms                 the arms, the baseline first
 */
public record StudyPlan(String world, boolean quick, String overlay, List<String> commonSets, int epochs, int groupsPerStep,
                        int evalSamplesPerPrompt, long seedBase, List<StudyArm> arms) {
    /** The matched-compute rule, by name in plan.json; see {@link MatchedCompute}. */
    public static final String MATCHED_COMPUTE_RULE = "nearest-cumulative-model-flops-to-flow-grpo-at-E";
    /** Seeds of the headline arms (and the baseline) in the full study; ablations get min(this, 5). */
    public static final int DEFAULT_SEEDS = 10;
    public static final int ABLATION_SEEDS = 5;
    /** The baseline arm every contrast is paired against. */
    public static final String BASELINE = "flow-grpo";

    public StudyPlan {
        if (!world.equals("pixel") && !world.equals("latent")) {
            throw new IllegalArgumentException("--world must be pixel or latent, got '" + world + "'");
        }
        commonSets = List.copyOf(commonSets);
        arms = List.copyOf(arms);
        if (arms.isEmpty() || !arms.get(0).name().equals(BASELINE)) {
            throw new IllegalArgumentException("a study's first arm must be the baseline " + BASELINE + ", got "
                    + (arms.isEmpty() ? "no arm" : arms.get(0).name()));
        }
        if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        if (groupsPerStep < 1) throw new IllegalArgumentException("groupsPerStep must be >= 1, got " + groupsPerStep);
        if (evalSamplesPerPrompt < 1) throw new IllegalArgumentException("evalSamplesPerPrompt must be >= 1, got " + evalSamplesPerPrompt);
    }

    /**
     * The study of {@code world} ({@code pixel} or {@code latent}), full size or {@code quick}, with {@code seeds} paired
     * seeds for the baseline and headline arms (null: 10, or 2 with quick) and min(seeds, 5) for the ablations.
     */
    public static StudyPlan of(String world, boolean quick, Integer seeds) {
        boolean latent = world.equals("latent");
        if (!latent && !world.equals("pixel")) throw new IllegalArgumentException("--world must be pixel or latent, got '" + world + "'");
        int headline = seeds != null ? seeds : quick ? 2 : DEFAULT_SEEDS;
        if (headline < 1) throw new IllegalArgumentException("--seeds must be >= 1, got " + headline);
        int ablation = Math.min(headline, ABLATION_SEEDS);
        int epochs = quick ? 1 : latent ? 12 : 24;
        String overlay = (quick ? "quick" : "demo") + (latent ? "+latent" : "");
        List<String> common = new ArrayList<>();
        if (latent && quick) common.add("world=latent-quick");
        if (latent && !quick) common.add("evalPrompts=0");   // every one of the 40 held-out scene prompts
        // the study evaluates itself (several samples per prompt); checkpoints every epoch so a kill loses one epoch;
        // shadow groups only where the method uses them (the adaptive arm sets its own)
        common.addAll(List.of("epochs=" + epochs, "evalEvery=0", "checkpointEvery=1", "shadowEvery=0"));
        List<StudyArm> arms = new ArrayList<>();
        arms.add(new StudyArm(BASELINE, "flow-grpo", List.of("groupSize=24"), Role.BASELINE, headline,
                "Flow-GRPO, the full group G = 24"));
        arms.add(new StudyArm("pro-grpo", "pro-grpo", List.of("groupSize=48", "pruneSchedule=48>24@5>12@7"), Role.HEADLINE, headline,
                "expand-and-prune, the paper's schedule 48 -> 24 @5 -> 12 @7 (also G_max = 48 of the G_max ablation)"));
        arms.add(new StudyArm("pro-grpo-flash", "pro-grpo-flash", List.of("groupSize=24", "pruneSchedule=24>16@5>12@7"), Role.HEADLINE,
                headline, "Pro-GRPO Flash 24 -> 16 @5 -> 12 @7"));
        arms.add(new StudyArm("pro-grpo-adaptive", "pro-grpo-adaptive", List.of("shadowEvery=2"), Role.HEADLINE, headline,
                "adaptive expand-and-prune: the funnel placed where the shadow groups' agreement clears the threshold, "
                        + "under the compute budget (its preset; shadow groups every 2 epochs, their cost counted)"));
        arms.add(new StudyArm("uniform-subsample", "uniform-subsample", List.of("groupSize=24", "subsetSize=12"), Role.ABLATION, ablation,
                "a uniform random 12 of 24, chosen after sampling"));
        arms.add(new StudyArm("static-ovf", "static-ovf", List.of("groupSize=24", "subsetSize=12"), Role.ABLATION, ablation,
                "the OVF 12 of 24 by final reward, after sampling (the paper's 'less is more')"));
        arms.add(new StudyArm("oracle-ovf-48", "static-ovf", List.of("groupSize=48", "subsetSize=12"), Role.ABLATION, ablation,
                "oracle: the OVF 12 of 48 by final reward (what a perfect preview would keep), all 48 sampled"));
        if (!latent) {
            arms.add(new StudyArm("pro-grpo-late", "pro-grpo", List.of("groupSize=48", "pruneSchedule=48>12@9"), Role.ABLATION, ablation,
                    "a late checkpoint: 48 -> 12 @9"));
        }
        arms.add(new StudyArm("pro-grpo-early", "pro-grpo", List.of("groupSize=48", "pruneSchedule=48>24@3>12@5"), Role.ABLATION, ablation,
                "early checkpoints: 48 -> 24 @3 -> 12 @5"));
        arms.add(new StudyArm("pro-grpo-gmax32", "pro-grpo", List.of("groupSize=32", "pruneSchedule=32>24@5>12@7"), Role.ABLATION, ablation,
                "G_max ablation: 32 -> 24 @5 -> 12 @7 (k = 12)"));
        arms.add(new StudyArm("pro-grpo-gmax64", "pro-grpo", List.of("groupSize=64", "pruneSchedule=64>24@5>12@7"), Role.ABLATION, ablation,
                "G_max ablation: 64 -> 24 @5 -> 12 @7 (k = 12)"));
        TrainConfig probe = TrainConfig.resolve("flow-grpo+" + overlay, null, common);
        // two optimizer steps per epoch where the epoch has an even number of groups (Flow-GRPO's configs: twice)
        int perStep = probe.groupsPerEpoch() % 2 == 0 ? probe.groupsPerEpoch() / 2 : probe.groupsPerEpoch();
        return new StudyPlan(world, quick, overlay, common, epochs, perStep, 4, 1000, arms);
    }

    /** The arm called {@code name}, or an exception listing the arms. */
    public StudyArm arm(String name) {
        for (StudyArm a : arms) if (a.name().equals(name)) return a;
        throw new IllegalArgumentException("unknown arm '" + name + "'; this study's arms: " + names());
    }

    public List<String> names() {
        return arms.stream().map(StudyArm::name).toList();
    }

    /** The most seeds any arm runs. */
    public int maxSeeds() {
        return arms.stream().mapToInt(StudyArm::seeds).max().orElse(0);
    }

    /** The seed of seed index {@code s}, the same in every arm. */
    public long seed(int s) {
        return seedBase + s;
    }

    /** The run directory of arm {@code arm}, seed index {@code s}, under the study's output directory. */
    public static Path runDir(Path out, String arm, int s) {
        return out.resolve("runs").resolve(arm).resolve("seed-" + s);
    }

    /** The resolved config of one run: preset + overlay, the common settings, the arm's overrides, seed, directory. */
    public TrainConfig config(StudyArm arm, int s, Path runDir) {
        List<String> sets = new ArrayList<>(commonSets);
        sets.addAll(arm.overrides());
        sets.add("seed=" + seed(s));
        sets.add("outDir=" + runDir);
        return TrainConfig.resolve(arm.preset() + "+" + overlay, null, sets);
    }

    /** The baseline's config for seed index 0 (the evaluation settings every arm shares). */
    public TrainConfig baselineConfig(Path out) {
        return config(arms.get(0), 0, runDir(out, BASELINE, 0));
    }

    /** What plan.json registers and the guard compares: every field that decides what the study runs and measures. */
    public Map<String, Object> registered() {
        TrainConfig base = TrainConfig.resolve("flow-grpo+" + overlay, null, commonSets);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("world", world);
        m.put("quick", quick);
        m.put("overlay", overlay);
        m.put("common_sets", commonSets);
        m.put("epochs", epochs);
        m.put("groups_per_epoch", base.groupsPerEpoch());
        m.put("groups_per_step", groupsPerStep);
        m.put("eval_samples_per_prompt", evalSamplesPerPrompt);
        m.put("eval_prompts", base.evalPrompts());
        m.put("eval_steps", base.evalSteps());
        m.put("eval_noise_seed", GrpoTrainer.EVAL_NOISE_SEED);
        m.put("seed_base", seedBase);
        m.put("matched_compute", MATCHED_COMPUTE_RULE);
        m.put("arms", arms.stream().map(StudyArm::toMap).toList());
        return m;
    }
}
