package io.progrpo.app.study;

import io.progrpo.app.job.LatentJobs;
import io.progrpo.app.report.ModelFlops;
import io.progrpo.pruning.PruneSchedule;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.Tokenizer;
import io.progrpo.world.latent.LatentAutoencoder;
import io.progrpo.world.latent.LatentConfig;
import io.progrpo.world.latent.LatentFlowTransformer;
import io.progrpo.world.latent.SceneWorldScenes;
import io.progrpo.world.latent.TextEncoder;
import io.progrpo.world.model.WorldModel;

import java.util.List;
import java.util.Map;

/**
 * The study's compute: {@link ModelFlops} of an epoch's metrics row plus its shadow group (the adaptive method's
 * measurement of preview agreement, whose cost counts), and the same figures predicted from a config alone (for
 * {@code --dry-run} and the plan's estimate, before any model is built).
 *
 * <pre>
 *   epoch   = ModelFlops.epoch(row) + shadow
 *   shadow  = G_max x (checkpoints + 1) x 2 D      (every preview and final image decoded once; the shadow group's
 *                                                 forwards, shadow_nfe x 2 F, are in ModelFlops' sampling term)
 * </pre>
 * G_max of a shadow group is read from its first checkpoint as size / overlap_chance (overlap_chance = k / G_max).
 */
public final class StudyFlops {
    private StudyFlops() {}

    /**
     * The FLOP accounting of a job of {@code c}, from the models' analytic formulas without building them: the same
     * figures as {@code Jobs.Job.flops()} (a LoRA policy's forward in the latent world, the pixel world's U-Net).
     */
    public static ModelFlops of(TrainConfig c) {
        boolean cfg = c.guidanceScale() != 1;
        if (c.latentWorld()) {
            LatentConfig lc = LatentJobs.latentConfig(c, new SceneWorldScenes());
            long f = LatentFlowTransformer.forwardMacs(lc.generator(), true) + TextEncoder.macsPerRow(lc.text());
            return new ModelFlops(f, LatentAutoencoder.decoderMacsPerImage(lc.autoencoder()), cfg, c.detachUncond());
        }
        return new ModelFlops(WorldModel.forwardMacs(c.imageSize(), c.modelWidth(), Tokenizer.SEQUENCE_LENGTH), 0, cfg, c.detachUncond());
    }

    /** The measured FLOPs of the epoch whose metrics row is {@code m}, its shadow group included. */
    public static double epoch(ModelFlops f, Map<String, Object> m) {
        return f.epoch(m) + shadow(f, m);
    }

    /** The shadow group's decoder FLOPs in metrics row {@code m} (its forwards are ModelFlops'); 0 when it had none. */
    public static double shadow(ModelFlops f, Map<String, Object> m) {
        double nfe = m.get("shadow_nfe") instanceof Number n ? n.doubleValue() : 0;
        if (nfe == 0) return 0;
        double decodes = 0;
        if (m.get("shadow") instanceof Map<?, ?> s && s.get("checkpoints") instanceof List<?> cps && !cps.isEmpty()
                && cps.get(0) instanceof Map<?, ?> first && first.get("size") instanceof Number size
                && first.get("overlap_chance") instanceof Number chance && chance.doubleValue() > 0) {
            long gMax = Math.round(size.doubleValue() / chance.doubleValue());
            decodes = (double) gMax * (cps.size() + 1);
        }
        // its forwards (shadow_nfe x 2 F) are already in ModelFlops.epoch's sampling term: only its decodes are added
        return decodes * 2.0 * f.decoderMacsPerImage();
    }

    /**
     * The model FLOPs that epoch {@code epoch} of {@code c} should cost by its schedule: every row-step of the funnel
     * sampled (x2 with guidance), the survivors' trained steps, every preview and final image decoded, and a shadow
     * group of G_max on the epochs that have one. Zero-advantage rows (skipped in training) are not foreseen.
     */
    public static double predictedEpoch(TrainConfig c, ModelFlops f, int epoch) {
        PruneSchedule s = c.samplingSchedule();
        int cfg = c.usesCfg() ? 2 : 1;
        int groups = c.groupsPerEpoch();
        int[] cps = s.checkpoints();
        long decodes = 0;
        int size = s.initialGroupSize();
        boolean scoredAtEnd = false;
        for (int i = 0; i < cps.length; i++) {
            decodes += size;
            if (cps[i] == s.totalSteps()) scoredAtEnd = true;
            size = s.survivors()[i];
        }
        if (!scoredAtEnd) decodes += s.finalGroupSize();
        Map<String, Object> row = new java.util.HashMap<>();
        row.put("nfe_sampling", s.nfe() * groups * cfg);
        row.put("nfe_training", (long) s.finalGroupSize() * c.trainedStepsPerTrajectory() * groups * cfg);
        row.put("rewarded_images", decodes * groups);
        double total = f.epoch(row);
        if (c.prunes() && c.shadowEvery() > 0 && epoch % c.shadowEvery() == 0) {
            long gMax = s.initialGroupSize();
            total += (double) gMax * s.totalSteps() * cfg * 2.0 * f.forwardMacsPerRow()
                    + (double) gMax * (cps.length + 1) * 2.0 * f.decoderMacsPerImage();
        }
        return total;
    }

    /** The predicted FLOPs of epochs 0 .. epochs - 1 of {@code c} together. */
    public static double predictedTotal(TrainConfig c, ModelFlops f, int epochs) {
        double t = 0;
        for (int e = 0; e < epochs; e++) t += predictedEpoch(c, f, e);
        return t;
    }

    /**
     * The FLOPs of one evaluation: {@code rows} deterministic chains of {@code c.evalSteps()} steps (x2 with guidance)
     * and their decoded images.
     */
    public static double evaluation(TrainConfig c, ModelFlops f, int rows) {
        int cfg = c.usesCfg() ? 2 : 1;
        return (double) rows * c.evalSteps() * cfg * 2.0 * f.forwardMacsPerRow() + (double) rows * 2.0 * f.decoderMacsPerImage();
    }
}
