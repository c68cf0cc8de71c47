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
 * @param setting              {@link #FLOW} (the paper's flow-matching setting: Flow-GRPO against pro-grpo) or
 *                             {@link #DIFFUSION} (its second setting: DanceGRPO against pro-grpo-dance, 50 DDIM steps;
 *                             pixel world only)
 * @param quick                the smoke-test size ({@code quick} overlay; {@code latent-quick} world)
 * @param overlay              the overlays after each arm's preset ({@code demo}, {@code demo+latent}, ...)
 * @param commonSets           overrides every arm gets before its own
 * @param epochs               E: the matched-epochs budget (the paper's protocol)
 * @param groupsPerStep        prompt groups per optimizer step (groupsPerEpoch / groupsPerStep steps per epoch)
 * @param evalSamplesPerPrompt deterministic samples per held-out prompt in every evaluation (>= 4 in the full study)
 * @param seedBase             seed index s runs with seed seedBase + s in every arm
 * @param arms                 the arms, the baseline first
 */
public record StudyPlan(String world, String setting, boolean quick, String overlay, List<String> commonSets, int epochs, int groupsPerStep,
                        int evalSamplesPerPrompt, long seedBase, List<StudyArm> arms) {
    /** The matched-compute rule, by name in plan.json; see {@link MatchedCompute}. */
    public static final String MATCHED_COMPUTE_RULE = "nearest-cumulative-model-flops-to-flow-grpo-at-E";
    /** Seeds of the headline arms (and the baseline) in the full study; ablations get min(this, 5). */
    public static final int DEFAULT_SEEDS = 10;
    public static final int ABLATION_SEEDS = 5;
    /** The baseline arm every contrast of the flow setting is paired against. */
    public static final String BASELINE = "flow-grpo";
    /** The baseline arm of the diffusion setting. */
    public static final String DIFFUSION_BASELINE = "dance-grpo";
    /** The settings: the paper's flow-matching one and its epsilon-prediction diffusion one. */
    public static final String FLOW = "flow";
    public static final String DIFFUSION = "diffusion";
    /** E of the diffusion setting: its epoch costs about 3x a pixel flow epoch in model FLOPs (T = 50, 29 steps trained; the plan's estimate), so half the flow setting's 24. */
    static final int DIFFUSION_EPOCHS = 12;
    /**
     * The diffusion setting's trained fraction of the 49 stochastic steps, the same in every arm: DanceGRPO trains on a
     * random subset of the steps (the spec leaves the fraction open); 0.6 keeps the study inside its 2 hours.
     */
    static final double DIFFUSION_TRAIN_FRACTION = 0.6;

    public StudyPlan {
        if (!world.equals("pixel") && !world.equals("latent")) {
            throw new IllegalArgumentException("--world must be pixel or latent, got '" + world + "'");
        }
        checkSetting(world, setting);
        commonSets = List.copyOf(commonSets);
        arms = List.copyOf(arms);
        String expected = setting.equals(DIFFUSION) ? DIFFUSION_BASELINE : BASELINE;
        if (arms.isEmpty() || !arms.get(0).name().equals(expected) || arms.get(0).role() != Role.BASELINE) {
            throw new IllegalArgumentException("a study's first arm must be the baseline " + expected + ", got "
                    + (arms.isEmpty() ? "no arm" : arms.get(0).name() + " (" + arms.get(0).role().key() + ")"));
        }
        for (int i = 1; i < arms.size(); i++) {
            if (arms.get(i).role() == Role.BASELINE) {
                throw new IllegalArgumentException("a study has one baseline, " + expected + "; arm " + arms.get(i).name() + " is one too");
            }
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
        return of(world, FLOW, quick, seeds);
    }

    /** The study of {@code world} in {@code setting} ({@link #FLOW} or {@link #DIFFUSION}); see {@link #of(String, boolean, Integer)}. */
    public static StudyPlan of(String world, String setting, boolean quick, Integer seeds) {
        boolean latent = world.equals("latent");
        if (!latent && !world.equals("pixel")) throw new IllegalArgumentException("--world must be pixel or latent, got '" + world + "'");
        checkSetting(world, setting);
        int headline = seeds != null ? seeds : quick ? 2 : DEFAULT_SEEDS;
        if (headline < 1) throw new IllegalArgumentException("--seeds must be >= 1, got " + headline);
        int ablation = Math.min(headline, ABLATION_SEEDS);
        if (setting.equals(DIFFUSION)) return diffusion(quick, headline, ablation);
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
        return new StudyPlan(world, FLOW, quick, overlay, common, epochs, perStep, 4, 1000, arms);
    }

    /**
     * The paper's second setting on the pixel world's epsilon-prediction model: DanceGRPO (G = 16, DDIM eta = 1, 50
     * steps, one shared initial noise per group, no KL) against pro-grpo-dance's 48 -> 32 @30 -> 8 @40, with the
     * paper's G_max ablation (32 / 48 / 64 -> 8; the middle funnel size of 32 and 64 is open in the paper: 16 and 32
     * here) and an early schedule (@10 / @20) against its late one.
     */
    private static StudyPlan diffusion(boolean quick, int headline, int ablation) {
        int epochs = quick ? 1 : DIFFUSION_EPOCHS;
        String overlay = quick ? "quick" : "demo";
        List<String> common = new ArrayList<>(List.of("epochs=" + epochs, "evalEvery=0", "checkpointEvery=1", "shadowEvery=0",
                "samplerSteps=50", "trainStepFraction=" + DIFFUSION_TRAIN_FRACTION));
        List<StudyArm> arms = new ArrayList<>();
        arms.add(new StudyArm(DIFFUSION_BASELINE, "dance-grpo", List.of("groupSize=16"), Role.BASELINE, headline,
                "DanceGRPO, the full group G = 16 (50 DDIM steps, eta 1)"));
        arms.add(new StudyArm("pro-grpo-dance", "pro-grpo-dance", List.of("groupSize=48", "pruneSchedule=48>32@30>8@40"), Role.HEADLINE,
                headline, "expand-and-prune, the paper's diffusion schedule 48 -> 32 @30 -> 8 @40 (also G_max = 48 of the G_max ablation)"));
        arms.add(new StudyArm("pro-grpo-dance-gmax32", "pro-grpo-dance", List.of("groupSize=32", "pruneSchedule=32>16@30>8@40"),
                Role.ABLATION, ablation, "G_max ablation: 32 -> 16 @30 -> 8 @40 (k = 8)"));
        arms.add(new StudyArm("pro-grpo-dance-gmax64", "pro-grpo-dance", List.of("groupSize=64", "pruneSchedule=64>32@30>8@40"),
                Role.ABLATION, ablation, "G_max ablation: 64 -> 32 @30 -> 8 @40 (k = 8)"));
        arms.add(new StudyArm("pro-grpo-dance-early", "pro-grpo-dance", List.of("groupSize=48", "pruneSchedule=48>32@10>8@20"),
                Role.ABLATION, ablation, "early checkpoints: 48 -> 32 @10 -> 8 @20"));
        TrainConfig probe = TrainConfig.resolve("dance-grpo+" + overlay, null, common);
        int perStep = probe.groupsPerEpoch() % 2 == 0 ? probe.groupsPerEpoch() / 2 : probe.groupsPerEpoch();
        return new StudyPlan("pixel", DIFFUSION, quick, overlay, common, epochs, perStep, 4, 1000, arms);
    }

    private static void checkSetting(String world, String setting) {
        if (!FLOW.equals(setting) && !DIFFUSION.equals(setting)) {
            throw new IllegalArgumentException("--setting must be " + FLOW + " or " + DIFFUSION + ", got '" + setting + "'");
        }
        if (setting.equals(DIFFUSION) && !world.equals("pixel")) {
            throw new IllegalArgumentException("the diffusion setting runs on the pixel world (its epsilon-prediction model); the "
                    + world + " world has flow models only");
        }
    }

    /** The arm every contrast is paired against: flow-grpo, or dance-grpo in the diffusion setting. */
    public String baseline() {
        return arms.get(0).name();
    }

    /** True in the diffusion setting. */
    public boolean diffusion() {
        return setting.equals(DIFFUSION);
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
        return config(arms.get(0), 0, runDir(out, baseline(), 0));
    }

    /** What plan.json registers and the guard compares: every field that decides what the study runs and measures. */
    public Map<String, Object> registered() {
        TrainConfig base = TrainConfig.resolve(arms.get(0).preset() + "+" + overlay, null, commonSets);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("world", world);
        // only where it is not the flow setting, so that a plan registered before settings existed still verifies
        if (diffusion()) m.put("setting", setting);
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
