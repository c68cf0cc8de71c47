package io.progrpo.app.study;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The plan's reasons in words: budget, evaluation, matched-compute rule and what was cut (plan.md, report.md). */
final class StudyNotes {
    private StudyNotes() {}

    static String budget(StudyPlan p, StudyEstimate est) {
        if (p.quick()) {
            return "Smoke-test size (--quick): " + p.epochs() + " epoch(s) of the `" + p.overlay() + "` overlay, one optimizer step "
                    + "per " + p.groupsPerStep() + " group(s); it checks the machinery, its numbers mean nothing.";
        }
        if (p.diffusion()) return diffusionBudget(p, est);
        boolean pixel = p.world().equals("pixel");
        int steps = 8 / p.groupsPerStep();
        return String.format(Locale.ROOT, "Base: the `%s` overlay (8 prompt groups per epoch, T = 10, guidance 4.5), whose 12 epochs of "
                + "one AdamW step each let 12 noisy updates decide the demo's ranking (issue 18). The study takes %d optimizer steps per "
                + "epoch, %d groups each (Flow-GRPO's own configs assert two: gradient_accumulation_steps = num_batches_per_epoch / 2, "
                + "\"gradients are updated twice per epoch\"), and %d epochs: %d updates per run, %s the demo's, from the same samples per "
                + "update. More steps per epoch would add updates for free, but steps from one group were measured to lower the eval "
                + "reward (GrpoTrainer's note), so each step keeps %d groups (%d trajectories for flow-grpo, %d for the k = 12 arms). "
                + "%s Estimated wall time: %.1f h for %d runs (the estimate below).",
                p.overlay(), steps, p.groupsPerStep(), p.epochs(), steps * p.epochs(), steps * p.epochs() == 12 ? "equal to" :
                        String.format(Locale.ROOT, "%.0fx", steps * p.epochs() / 12.0), p.groupsPerStep(), 24 * p.groupsPerStep(), 12 * p.groupsPerStep(),
                pixel ? "The pixel world's epoch is cheap (3 s), so the budget doubles the demo's epochs too, to 24."
                        : "The latent world's epoch costs about 8 s on a loaded 2-core machine, so the demo's 12 epochs stay: more would not "
                        + "fit 2 hours at 10 + 5 seeds.",
                est.totalSeconds() / 3600, est.runs());
    }

    private static String diffusionBudget(StudyPlan p, StudyEstimate est) {
        int steps = 8 / p.groupsPerStep();
        return String.format(Locale.ROOT, "The paper's second setting on the pixel world's epsilon-prediction model (the `%s` overlay: 8 prompt "
                + "groups per epoch, guidance 4.5), with its sampler: DDIM eta = 1 over T = 50 steps, one shared initial noise per group, no "
                + "KL, gradient through the unconditional branch (DanceGRPO). As in the flow setting, %d optimizer steps per epoch of %d "
                + "groups. An epoch costs about 3x a pixel flow epoch in model FLOPs (50 steps where that has 10, 29 of them trained), so E = %d epochs (%d updates), half "
                + "the flow setting's 24. Every arm trains on the same fraction %.1f of the 49 stochastic steps (29 per trajectory, drawn "
                + "per epoch): DanceGRPO trains on a random subset of the steps and the paper does not give the fraction. Estimated wall "
                + "time: %.1f h for %d runs (the estimate below).", p.overlay(), steps, p.groupsPerStep(), p.epochs(), steps * p.epochs(),
                StudyPlan.DIFFUSION_TRAIN_FRACTION, est.totalSeconds() / 3600, est.runs());
    }

    static String evaluation(StudyPlan p) {
        return "Every evaluation samples " + p.evalSamplesPerPrompt() + " deterministic chains (ODE, the config's evalSteps) per held-out "
                + "prompt from one fixed noise set (GrpoTrainer.EVAL_NOISE_SEED: the same draws for every arm, seed and epoch) and "
                + "reports the mean reward with its own measurement error: se_noise, the standard error over the noise draws with the "
                + "prompts fixed (sqrt(sum_p s_p^2 / S) / P), and se_prompts, over prompts of the per-prompt means. The held-out "
                + "evaluator (latent world) judges the same images. TrainingRun's own one-sample evaluation is off (evalEvery = 0).";
    }

    static String matchedCompute(StudyPlan p) {
        return "Matched epochs: every arm evaluated after E epochs (the paper's protocol). Matched compute: the target is "
                + p.baseline() + "'s cumulative model FLOPs after E epochs in its run of the same seed (generator forward and backward "
                + "passes with guidance, decoder passes of previews and final images, shadow groups' forwards and decodes; the "
                + "reward model not counted, as in the paper); each arm is evaluated at the epoch count whose cumulative FLOPs is "
                + "nearest that target. Cheaper arms train on past E (resumed from their checkpoint) until one more epoch would take "
                + "them further from it (at most " + MatchedCompute.CAP_FACTOR + " x E); costlier arms are evaluated at an earlier "
                + "epoch from the parameter snapshot kept then. The achieved ratio is reported beside every figure, and the training "
                + "wall time (sampling, reward, training, shadow groups) beside the FLOPs.";
    }

    static List<String> cut(StudyPlan p) {
        List<String> c = new ArrayList<>();
        if (p.diffusion()) {
            c.add("ablation arms run " + Math.min(StudyPlan.ABLATION_SEEDS, p.arms().get(0).seeds()) + " paired seeds, the baseline and "
                    + "the headline arm " + p.arms().get(0).seeds());
            c.add("the flow setting's arms (subsets, oracle, flash, adaptive) are not repeated here: they are the flow study's");
            c.add("the paper's diffusion model is SD-v1.4 at 512 px with HPSv2.1 as the reward; here the pixel world's 16x16 "
                    + "epsilon model and its alignment reward");
            c.add("evaluations only at matched epochs and matched compute (no learning curves)");
            return c;
        }
        c.add("ablation arms run " + Math.min(StudyPlan.ABLATION_SEEDS, p.arms().get(0).seeds()) + " paired seeds, the baseline and "
                + "the headline arms " + p.arms().get(0).seeds());
        c.add("the fixed-schedule pruning arms run without shadow groups (shadowEvery = 0): their schedules do not use them, and "
                + "the within-group preview agreement per step is measured once per world by PreviewAgreementMain");
        c.add("DanceGRPO's diffusion setting (G = 16 against 48 -> 32 @30 -> 8 @40 of 50 DDIM steps) is not an arm of this study");
        if (p.world().equals("latent")) {
            c.add("the late arm 48 -> 12 @9: the latent previews already agree 0.93 within a group at step 7 (docs/benchmarks.md), "
                    + "and 5 more runs of 12 epochs did not fit the 2 hours; late against early is tested here as the paper's "
                    + "5 / 7 against early 3 / 5");
        }
        c.add("evaluations only at matched epochs and matched compute (no learning curves)");
        return c;
    }
}
