package io.progrpo.app;

import io.progrpo.app.job.Jobs;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Device;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.PreviewAgreement;
import io.progrpo.trainer.config.TrainConfig;

import java.util.List;
import java.util.Locale;

/**
 * The within-group preview agreement per step of a world's base model ({@link PreviewAgreement}): the job's base
 * policy (before any training: the pixel world's cached base model, or the latent world's generator with its LoRA
 * adapters at zero), its training sampler (the flow SDE), guidance, decoder and training reward;
 * prints a markdown table of the mean within-group Pearson and Spearman of preview against final reward after each
 * step 1..T-1, with standard errors over the groups.
 *
 * <p>Arguments are {@code key=value}: {@code preset} (default {@code flow-grpo+demo}; {@code flow-grpo+demo+latent} for the latent world), {@code groups} (16),
 * {@code groupSize} (24), {@code groupsPerRun} (all groups in one run), {@code seed} (1), and any config field,
 * passed to the config as {@code --set} is (for example {@code pretrainSteps=120}).
 */
public final class PreviewAgreementMain {
    private PreviewAgreementMain() {}

    public static void main(String[] args) {
        KeyValueArgs kv = KeyValueArgs.parse(args);
        String preset = kv.string("preset", "flow-grpo+demo");
        int groups = kv.integer("groups", 16);
        int groupSize = kv.integer("groupSize", 24);
        int groupsPerRun = kv.integer("groupsPerRun", -1);
        long seed = kv.longValue("seed", 1);
        List<String> sets = kv.rest();
        TrainConfig c = TrainConfig.resolve(preset, null, sets);
        GrpoTrainer.Plan plan = Jobs.plan(c);
        int t = plan.sampler().steps();
        int[] steps = new int[t - 1];
        for (int i = 0; i < steps.length; i++) steps[i] = i + 1;
        PreviewAgreement.Options o = new PreviewAgreement.Options(groupSize, groups, steps, c.guidanceScale(),
                groupsPerRun < 1 ? groups : groupsPerRun, seed);
        long t0 = System.nanoTime();
        PreviewAgreement.Result r;
        // the job's base policy, world, decoder and training reward: any world (pixel or latent) through one builder
        try (Jobs.Job job = Jobs.build(c, System.out::println)) {
            long t1 = System.nanoTime();
            System.out.printf(Locale.ROOT, "base model ready in %.1f s%n", (t1 - t0) / 1e9);
            r = PreviewAgreement.measure((VelocityModel) job.policy(), job.world(), job.decoder(), job.reward(), plan.sampler(),
                    Device.parse(c.device()), o);
            System.out.printf(Locale.ROOT, "measured in %.1f s (%,d network evaluations)%n", (System.nanoTime() - t1) / 1e9, r.nfe());
        }
        System.out.printf(Locale.ROOT, "%n%s base model (%s, world %s%s), reward %s, guidance %.1f, %d groups of %d, seed %d%n%n",
                c.method(), preset, c.world(), c.latentWorld() ? "" : String.format(Locale.ROOT, ", pretrainSteps %d, image %d, width %d",
                        c.pretrainSteps(), c.imageSize(), c.modelWidth()), c.reward(), c.guidanceScale(), groups, groupSize, seed);
        System.out.println("| step (of " + t + ") | Pearson | se | Spearman | se | groups |");
        System.out.println("|---|---|---|---|---|---|");
        for (PreviewAgreement.Step s : r.steps()) {
            System.out.printf(Locale.ROOT, "| %d | %.3f | %.3f | %.3f | %.3f | %d |%n", s.step(), s.pearson(), s.pearsonSe(),
                    s.spearman(), s.spearmanSe(), s.groups());
        }
    }
}
