package io.progrpo.trainer;

import io.progrpo.pruning.ExpandAndPruneDriver;
import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.Correlation;
import io.progrpo.reward.RewardFunction;
import io.progrpo.sampler.ClassifierFreeGuidance;
import io.progrpo.sampler.Decoder;
import io.progrpo.sampler.PromptWorld;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.nn.Module;
import io.progrpo.trainer.config.Method;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Within-group preview agreement per step, for any world (spec section 8): how well the one-step x0 preview after
 * step s, decoded and scored with the reward, ranks the trajectories of a prompt group like their final rewards do.
 * Samples {@code groups} groups of G trajectories of a policy (train prompts, distinct while the pool lasts) with a
 * stochastic sampler, unpruned, scoring every trajectory's preview after each of the requested steps (the shadow
 * groups' driver run, {@link EpochSampling#shadow}); per step it reports the mean over groups of the within-group
 * Pearson and Spearman of preview against final reward, with the standard error of that mean (sample std over groups
 * / sqrt(groups)). A group where either side is constant has no correlation and is left out of that step's mean.
 *
 * <p>Runs under no_grad; a policy that is a {@link Module} is put in eval mode (and left there). Every draw comes
 * from {@code seed}: the prompts from (seed, 0, 1), the noise of the run of groups j.. from (seed, j, 2).
 */
public final class PreviewAgreement {
    private PreviewAgreement() {}

    /**
     * What to measure.
     *
     * @param groupSize     G, trajectories per group (&gt;= 3: a rank correlation of two values is always +-1)
     * @param groups        prompt groups (&gt;= 2, for a standard error)
     * @param steps         numbers of steps taken after which the previews are scored, strictly increasing in [1, T]
     * @param guidance      classifier-free guidance weight w (1 = none)
     * @param groupsPerRun  groups sampled together in one batched run (memory against speed); each run's noise is
     *                      seeded by its first group, so the draws of a seed depend on it too
     * @param seed          the draws' seed
     */
    public record Options(int groupSize, int groups, int[] steps, double guidance, int groupsPerRun, long seed) {
        public Options {
            if (groupSize < 3) throw new IllegalArgumentException("groupSize must be >= 3, got " + groupSize);
            if (groups < 2) throw new IllegalArgumentException("groups must be >= 2 (a standard error needs two), got " + groups);
            if (steps == null || steps.length == 0) {
                throw new IllegalArgumentException("steps must name at least one step, got " + Arrays.toString(steps));
            }
            if (!(guidance >= 1 && Double.isFinite(guidance))) {
                throw new IllegalArgumentException("guidance must be a finite number >= 1 (1 = none), got " + guidance);
            }
            if (groupsPerRun < 1) throw new IllegalArgumentException("groupsPerRun must be >= 1, got " + groupsPerRun);
            steps = steps.clone();
        }

        @Override
        public int[] steps() {
            return steps.clone();
        }
    }

    /** One step's agreement: means over the groups with a defined correlation, their standard errors, those groups. */
    public record Step(int step, double pearson, double pearsonSe, double spearman, double spearmanSe, int groups) {}

    /**
     * The per-step figures and what they were computed from: {@code proxies[group][stepIndex][row]},
     * {@code finals[group][row]}, the group prompts and the network evaluations spent (x2 with guidance).
     */
    public record Result(List<Step> steps, List<String> prompts, double[][][] proxies, double[][] finals, long nfe) {}

    /**
     * Measures the agreement of {@code policy} (conditioned by {@code world}, decoded by {@code decoder}, scored by
     * {@code reward}) sampled by {@code sampler}, a stochastic sampler such as a FlowSdeSampler with noise.
     *
     * @throws IllegalArgumentException for a step outside [1, T] or out of order
     */
    public static Result measure(VelocityModel policy, PromptWorld world, Decoder decoder, RewardFunction reward,
                                 Sampler sampler, Device device, Options o) {
        if (policy == null || world == null || decoder == null || reward == null || sampler == null || device == null || o == null) {
            throw new IllegalArgumentException("policy, world, decoder, reward, sampler, device and options must not be null");
        }
        PruneSchedule none = PruneSchedule.none(o.groupSize(), sampler.steps());
        // a plan that never prunes: the shadow run is the driver with previews only
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, sampler, sampler, none, SubsetStrategy.OVF, false);
        EpochSampling sampling = new EpochSampling(plan, world, policy instanceof Module m ? m : null,
                uncond -> o.guidance() == 1 ? policy : new ClassifierFreeGuidance(policy, o.guidance(), uncond, true),
                reward, decoder, device, io.progrpo.sampler.Trajectory.Layout.TRAINING);
        long seed = o.seed();
        List<String> prompts = EpochSampling.epochPrompts(world.trainPrompts(), o.groups(), new Random(Seeds.mix(seed, 0, 1)));
        int[] steps = o.steps();
        int g = o.groupSize();
        double[][][] proxies = new double[o.groups()][steps.length][];
        double[][] finals = new double[o.groups()][];
        long nfe = 0;
        for (int first = 0; first < o.groups(); first += o.groupsPerRun()) {
            List<String> run = prompts.subList(first, Math.min(o.groups(), first + o.groupsPerRun()));
            try (ExpandAndPruneDriver.Result r = sampling.shadow(run, Seeds.mix(seed, first, 2), steps)) {
                double[] fin = r.finalReward().scores();   // no pruning: row i is original row i
                for (int j = 0; j < run.size(); j++) {
                    finals[first + j] = Arrays.copyOfRange(fin, j * g, (j + 1) * g);
                    for (int k = 0; k < steps.length; k++) {
                        proxies[first + j][k] = Arrays.copyOfRange(r.previews().get(k).proxy(), j * g, (j + 1) * g);
                    }
                }
                nfe += r.counts().modelForwardRows() * (o.guidance() == 1 ? 1 : 2);
            }
        }
        List<Step> out = new ArrayList<>();
        for (int k = 0; k < steps.length; k++) {
            double[] p = new double[o.groups()];
            double[] s = new double[o.groups()];
            for (int j = 0; j < o.groups(); j++) {
                p[j] = Correlation.pearson(proxies[j][k], finals[j]);
                s[j] = Correlation.spearman(proxies[j][k], finals[j]);
            }
            double[] pm = meanAndSe(p);
            double[] sm = meanAndSe(s);
            out.add(new Step(steps[k], pm[0], pm[1], sm[0], sm[1], (int) pm[2]));
        }
        return new Result(List.copyOf(out), List.copyOf(prompts), proxies, finals, nfe);
    }

    /**
     * {mean, standard error, n} of the non-NaN values: the sample std (n - 1) over sqrt(n); NaN where undefined. Pearson
     * and Spearman are NaN for the same groups (a side is constant exactly when its ranks are).
     */
    static double[] meanAndSe(double[] v) {
        int n = 0;
        double sum = 0;
        for (double x : v) {
            if (!Double.isNaN(x)) {
                n++;
                sum += x;
            }
        }
        double mean = n == 0 ? Double.NaN : sum / n;
        double ss = 0;
        for (double x : v) if (!Double.isNaN(x)) ss += (x - mean) * (x - mean);
        return new double[] {mean, n < 2 ? Double.NaN : Math.sqrt(ss / (n - 1) / n), n};
    }
}
