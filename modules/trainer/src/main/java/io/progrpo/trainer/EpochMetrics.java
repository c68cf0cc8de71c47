package io.progrpo.trainer;

import io.progrpo.reward.Correlation;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.trainer.config.Method;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place that writes an epoch's metrics line (the keys of {@code metrics.jsonl} that the trainer fills; the
 * run adds timing and evaluation). Reward and count metrics cover all ranks; training metrics are this rank's.
 */
final class EpochMetrics {
    private final Map<String, Object> m = new LinkedHashMap<>();
    private final Device device;
    private final long bytesBefore;

    /** Starts the line and the memory ledger's peaks of the epoch. */
    EpochMetrics(int epoch, Method method, Device device) {
        m.put("epoch", epoch);
        m.put("method", method.configName());
        this.device = device;
        MemoryLedger.resetPeaks();
        this.bytesBefore = MemoryLedger.bytes(device);
    }

    /**
     * The final rewards' mean and std, the within-group std (the clustering signal), the zero-std group fraction, each
     * reward of a multi-reward, the checkpoints, the sampling counters and the data-parallel shape.
     */
    void rewards(EpochRewards r, GrpoTrainer.DataParallel dp) {
        m.put("reward_mean", mean(r.scores));
        m.put("reward_std", std(r.scores));
        m.put("within_group_std", GroupAdvantages.withinGroupStd(r.scores, r.groupOf));
        m.put("zero_std_group_fraction", GroupAdvantages.zeroStdGroupFraction(r.scores, r.groupOf));
        r.perReward.forEach((k, v) -> {
            m.put("reward_" + k + "_mean", mean(v));
            m.put("reward_" + k + "_std", std(v));
        });
        List<Map<String, Object>> cps = new ArrayList<>();
        for (int i = 0; i < r.checkpoints.size(); i++) {
            EpochRewards.Checkpoint c = r.checkpoints.get(i);
            Map<String, Object> cm = new LinkedHashMap<>();
            cm.put("step", c.step());
            cm.put("size_before", c.sizeBefore());
            cm.put("size_after", c.sizeAfter());
            cm.put("within_group_std_before", c.withinGroupStdBefore());
            cm.put("within_group_std_after", c.withinGroupStdAfter());
            // pooled over every survivor of the epoch, so it mostly measures prompt difficulty; the within-group
            // figures are the shadow group's
            double corr = Correlation.pearson(r.survivorProxy[i], r.scores);
            cm.put("proxy_final_correlation_pooled", Double.isNaN(corr) ? null : corr);
            cps.add(cm);
        }
        m.put("checkpoints", cps);
        EpochRewards.Counts n = r.counts;
        m.put("trajectories_sampled", n.trajectoriesSampled());
        m.put("trajectories_trained", n.trajectoriesTrained());
        m.put("nfe_sampling", n.nfeSampling());
        m.put("previews", n.previews());
        m.put("reward_calls", n.rewardCalls());
        m.put("rewarded_images", n.rewardedImages());
        m.put("trajectory_bytes", n.trajectoryBytes());
        m.put("world_size", dp.worldSize());
        m.put("groups_per_step", dp.groupsPerStep());
    }

    /**
     * The shadow group's figures ({@code shadow}), its own network evaluations ({@code shadow_nfe}, = shadow.nfe) and,
     * for the adaptive method, its within-group agreement after every step ({@code shadow_curve}, null for the others).
     */
    void shadow(ShadowGroup.Measurement s, List<Map<String, Object>> curve) {
        m.put("shadow", s.toMetrics());
        m.put("shadow_nfe", s.nfe());
        if (curve != null) m.put("shadow_curve", curve);
    }

    /**
     * The adaptive method's funnel of the epoch ({@code schedule}, a spec such as {@code 48>12@6}) and why
     * ({@code schedule_decision}: the decision's figures, the running agreement per step it was made from
     * ({@code agreement_curve}) and the shadow groups behind it).
     */
    void schedule(ScheduleChooser.Decision d, List<Map<String, Object>> agreementCurve, int shadowGroups) {
        m.put("schedule", d.schedule().spec());
        Map<String, Object> dm = d.toMetrics();
        dm.put("shadow_groups", shadowGroups);
        dm.put("agreement_curve", agreementCurve);
        m.put("schedule_decision", dm);
    }

    /** The TRAINING phase's figures. */
    void training(PolicyUpdate.Stats s) {
        m.put("trained_steps", s.trainedSteps());
        m.put("trained_rows", s.trainedRows());
        m.put("skipped_zero_advantage", s.skippedZeroAdvantage());
        m.put("optimizer_steps", s.optimizerSteps());
        m.put("loss", s.loss());
        m.put("kl", s.kl());
        m.put("clip_fraction", s.clipFraction());
        m.put("ratio_mean", s.ratioMean());
        m.put("grad_norm", s.gradNorm());
        m.put("nfe_training", s.nfeTraining());
    }

    /**
     * Adds the epoch's peak memory (the ledger's and, on CUDA, the caching allocator's: the maximum over the epoch's
     * phases, whose starts reset the allocator's peaks) and returns the line.
     */
    Map<String, Object> finish(Phases phases) {
        m.put("peak_bytes", MemoryLedger.peakBytes(device));
        m.put("bytes_before_epoch", bytesBefore);
        if (device.isCuda()) {
            long[] c = phases.cudaPeaks();
            m.put("cuda_allocated_peak", c[0]);
            m.put("cuda_reserved_peak", c[1]);
        }
        return m;
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    static double std(double[] v) {
        double mu = mean(v);
        double s = 0;
        for (double x : v) s += (x - mu) * (x - mu);
        return v.length == 0 ? Double.NaN : Math.sqrt(s / v.length);
    }
}
