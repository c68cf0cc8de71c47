package io.progrpo.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import io.progrpo.pruning.PruneSchedule;

import java.util.List;
import java.util.Map;

/**
 * The adaptive method's state in a trainer: the agreement estimate ({@link ScheduleAgreement}) fed by the shadow
 * groups, and the funnel of each epoch ({@link ScheduleChooser}). The configured funnel gives G_L (its G_max, the
 * largest allowed), k (its final size, = the config's subsetSize) and T; it is used as long as no step has an estimate.
 *
 * <p>Data parallel: rank 0 samples the shadow group; its curve is sent to every rank through the reward gather, so
 * every rank holds the same estimate and chooses the same funnel (the choice is a pure function of it).
 */
final class AdaptiveSchedule {
    private final PruneSchedule configured;
    private final double tau;
    private final double rho;
    private final ScheduleChooser.CostModel cost;
    private ScheduleAgreement agreement;

    /**
     * @throws IllegalArgumentException when shadow groups are off (nothing to estimate from) or the configured funnel
     *                                  does not prune
     */
    AdaptiveSchedule(GrpoTrainer.Settings cfg, PruneSchedule configured) {
        this(cfg, configured, PolicyUpdate.trainedStepCount(cfg.trainStepFraction(), configured.totalSteps()));
    }

    /** With the number of steps a trajectory trains ({@code trainedSteps}: an SDE window's length, say). */
    AdaptiveSchedule(GrpoTrainer.Settings cfg, PruneSchedule configured, int trainedSteps) {
        if (cfg.shadowEvery() < 1) {
            throw new IllegalArgumentException("the adaptive method estimates the preview agreement on shadow groups and needs "
                    + "shadowEvery >= 1, got " + cfg.shadowEvery());
        }
        if (configured.checkpointCount() == 0) {
            throw new IllegalArgumentException("the adaptive method needs a configured funnel that prunes (G_max > k), got "
                    + configured.describe());
        }
        this.configured = configured;
        this.tau = cfg.adaptiveThreshold();
        this.rho = cfg.computeBudget();
        int t = configured.totalSteps();
        int cfgFactor = cfg.guidanceScale() == 1 ? 1 : 2;
        double shadow = (double) configured.initialGroupSize() * t * cfgFactor / cfg.shadowEvery();
        this.cost = new ScheduleChooser.CostModel(t, trainedSteps, cfgFactor,
                ScheduleChooser.CostModel.trainingPerTransition(cfgFactor == 2, cfg.detachUncond(), cfg.beta() > 0),
                cfg.groupsPerEpoch(), shadow);
        this.agreement = new ScheduleAgreement(t);
    }

    ScheduleChooser.CostModel cost() {
        return cost;
    }

    /** The steps whose previews a shadow group records: every step 1..T-1. */
    int[] previewSteps() {
        int[] s = new int[configured.totalSteps() - 1];
        for (int i = 0; i < s.length; i++) s[i] = i + 1;
        return s;
    }

    /**
     * Adds an epoch's shadow group to the estimate, on every rank: {@code local} is the group on rank 0 and null on the
     * others; rank 0's curve reaches every rank through {@code gather} (which every rank calls).
     */
    void observe(ShadowGroup.Sampled local, GrpoTrainer.RewardGather gather) {
        int n = configured.totalSteps() - 1;
        double[] send = new double[0];
        if (local != null) {
            double[][] c = ScheduleAgreement.curve(local.proxies(), local.finals());
            send = new double[2 * n];
            System.arraycopy(c[0], 0, send, 0, n);
            System.arraycopy(c[1], 0, send, n, n);
        }
        List<double[]> all = gather.gather(send);
        double[] got = all.isEmpty() ? null : all.get(0);
        if (got == null || got.length != 2 * n) {
            throw new IllegalStateException("rank 0 sends the shadow group's curve of " + 2 * n + " values (Spearman and Pearson at "
                    + "steps 1.." + n + "), got " + (got == null ? "nothing" : got.length + " values"));
        }
        agreement.add(java.util.Arrays.copyOfRange(got, 0, n), java.util.Arrays.copyOfRange(got, n, 2 * n));
    }

    /** The funnel of the next epoch: the configured one before any estimate, else the chooser's. */
    ScheduleChooser.Decision decide() {
        double[] curve = agreement.spearman();
        if (!agreement.hasEstimate()) return ScheduleChooser.initial(configured, curve, tau, cost, rho);
        return ScheduleChooser.choose(curve, tau, configured.finalGroupSize(), configured.initialGroupSize(), cost, rho);
    }

    /** The running means per step ({@link ScheduleAgreement#toMetrics()}) and the shadow groups behind them. */
    List<Map<String, Object>> agreementMetrics() {
        return agreement.toMetrics();
    }

    int shadowGroups() {
        return agreement.shadowGroups();
    }

    /** What a checkpoint keeps ({@link ScheduleAgreement#state()}). */
    Map<String, Object> state() {
        return agreement.state();
    }

    /**
     * Continues from a checkpoint's state.
     *
     * @throws IllegalArgumentException naming the field, when the state is invalid or for another T
     */
    void restore(JsonNode state) {
        this.agreement = ScheduleAgreement.fromState(state, configured.totalSteps());
    }
}
