package io.progrpo.trainer.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-epoch totals implied by a {@link TrainConfig}, printed before the first step so a budget mistake shows up
 * before it costs an epoch.
 *
 * @param sampledGroupSize             trajectories started per prompt group (G, or G_max when pruning)
 * @param trainedGroupSize             trajectories per group that reach training (G, k, or the funnel's last size)
 * @param trajectoriesSampledPerEpoch  sampledGroupSize * groupsPerEpoch
 * @param trajectoriesTrainedPerEpoch  trainedGroupSize * groupsPerEpoch
 * @param trainedStepsPerTrajectory    leading sampler steps trained per trajectory
 * @param transitionsTrainedPerEpoch   trajectoriesTrainedPerEpoch * trainedStepsPerTrajectory
 * @param backwardPassesPerEpoch       ceil(transitionsTrainedPerEpoch / microBatch)
 * @param samplingNfePerEpochUnpruned  model evaluations to sample every trajectory to the end:
 *                                     G * T * groupsPerEpoch * (2 with CFG, else 1); pruning spends less, and the
 *                                     trainer measures that count itself
 * @param cfgFactor                    2 when classifier-free guidance is on, else 1
 */
public record DerivedTotals(
        int sampledGroupSize,
        int trainedGroupSize,
        long trajectoriesSampledPerEpoch,
        long trajectoriesTrainedPerEpoch,
        int trainedStepsPerTrajectory,
        long transitionsTrainedPerEpoch,
        long backwardPassesPerEpoch,
        long samplingNfePerEpochUnpruned,
        int cfgFactor) {

    /** @return the totals as label to value, in print order */
    public Map<String, Long> asRows() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("trajectories sampled / epoch", trajectoriesSampledPerEpoch);
        m.put("trajectories trained / epoch", trajectoriesTrainedPerEpoch);
        m.put("trained steps / trajectory", (long) trainedStepsPerTrajectory);
        m.put("transitions trained / epoch", transitionsTrainedPerEpoch);
        m.put("backward passes / epoch", backwardPassesPerEpoch);
        m.put("sampling NFE / epoch (unpruned)", samplingNfePerEpochUnpruned);
        return m;
    }
}
