package io.progrpo.app.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.report.ModelFlops;
import io.progrpo.trainer.config.TrainConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The study's FLOP figures against the schedules' row-steps counted by hand. */
class StudyFlopsTest {
    private static final StudyPlan PIXEL = StudyPlan.of("pixel", false, null);
    private static final StudyPlan LATENT = StudyPlan.of("latent", false, null);

    private static TrainConfig config(StudyPlan p, String arm) {
        return p.config(p.arm(arm), 0, Path.of("unused"));
    }

    /** FLOPs of an epoch of 8 groups, T = 10 (9 trained), guidance with a detached unconditional branch. */
    private static double byHand(ModelFlops f, long rowSteps, int trained, long decodedPerGroup) {
        double fwd = 2.0 * f.forwardMacsPerRow();
        double sampling = rowSteps * 8 * 2 * fwd;
        double trainRows = (double) trained * 9 * 8 * 2;       // conditional and unconditional rows of the trained steps
        double training = trainRows / 2 * 3 * fwd + trainRows / 2 * fwd;
        return sampling + training + decodedPerGroup * 8 * 2.0 * f.decoderMacsPerImage();
    }

    @Test
    void predictedEpochsAreTheSchedulesRowSteps() {
        for (StudyPlan p : List.of(PIXEL, LATENT)) {
            ModelFlops f = StudyFlops.of(config(p, "flow-grpo"));
            assertTrue(f.forwardMacsPerRow() > 0, "a forward costs something");
            assertEquals(p.world().equals("latent"), f.decoderMacsPerImage() > 0, "only the latent world decodes");
            assertEquals(byHand(f, 24 * 10, 24, 24), StudyFlops.predictedEpoch(config(p, "flow-grpo"), f, 0), 1e-3);
            assertEquals(byHand(f, 48 * 5 + 24 * 2 + 12 * 3, 12, 48 + 24 + 12), StudyFlops.predictedEpoch(config(p, "pro-grpo"), f, 0), 1e-3);
            assertEquals(byHand(f, 24 * 5 + 16 * 2 + 12 * 3, 12, 24 + 16 + 12), StudyFlops.predictedEpoch(config(p, "pro-grpo-flash"), f, 1), 1e-3);
            // subsets after sampling: every one of G sampled and scored, k trained
            assertEquals(byHand(f, 24 * 10, 12, 24), StudyFlops.predictedEpoch(config(p, "static-ovf"), f, 0), 1e-3);
            assertEquals(byHand(f, 48 * 10, 12, 48), StudyFlops.predictedEpoch(config(p, "oracle-ovf-48"), f, 0), 1e-3);
            assertEquals(byHand(f, 48 * 3 + 24 * 2 + 12 * 5, 12, 48 + 24 + 12), StudyFlops.predictedEpoch(config(p, "pro-grpo-early"), f, 0), 1e-3);
            assertEquals(byHand(f, 64 * 5 + 24 * 2 + 12 * 3, 12, 64 + 24 + 12), StudyFlops.predictedEpoch(config(p, "pro-grpo-gmax64"), f, 0), 1e-3);
            // the adaptive arm: a shadow group of G_max = 48 on epochs 0, 2, 4, ...: 48 x 10 row-steps, x2 guidance, 48 x 3 images
            TrainConfig ad = config(p, "pro-grpo-adaptive");
            double plain = StudyFlops.predictedEpoch(ad, f, 1);
            double shadow = 48.0 * 10 * 2 * 2 * f.forwardMacsPerRow() + 48.0 * 3 * 2 * f.decoderMacsPerImage();
            assertEquals(plain + shadow, StudyFlops.predictedEpoch(ad, f, 2), 1e-3);
            assertEquals(3 * plain + 2 * shadow, StudyFlops.predictedTotal(ad, f, 3), 1e-3);
        }
    }

    @Test
    void theIssuesComputeRatiosHold() {
        // issue 18's table (pixel world, demo sizes): pro-grpo 0.80x, flash 0.60x, subsets 0.68x, oracle 1.04x, late 0.98x
        ModelFlops f = StudyFlops.of(config(PIXEL, "flow-grpo"));
        double flow = StudyFlops.predictedEpoch(config(PIXEL, "flow-grpo"), f, 0);
        Map<String, Double> want = Map.of("pro-grpo", 0.80, "pro-grpo-flash", 0.60, "uniform-subsample", 0.68, "static-ovf", 0.68,
                "oracle-ovf-48", 1.04, "pro-grpo-late", 0.98);
        want.forEach((arm, r) -> assertEquals(r, StudyFlops.predictedEpoch(config(PIXEL, arm), f, 0) / flow, 0.005, arm));
    }

    @Test
    void measuredShadowGroupsCountTheirForwardsAndDecodes() {
        Random rnd = new Random(2);
        for (int trial = 0; trial < 50; trial++) {
            long fm = 1000 + rnd.nextInt(100000);
            long dm = rnd.nextInt(50000);
            ModelFlops f = new ModelFlops(fm, dm, true, true);
            int gMax = 8 * (1 + rnd.nextInt(8));
            int checkpoints = 1 + rnd.nextInt(3);
            long nfe = (long) gMax * 10 * 2;
            List<Map<String, Object>> cps = new java.util.ArrayList<>();
            for (int i = 0; i < checkpoints; i++) {
                int k = gMax >> (i + 1);
                cps.add(Map.of("step", 5 + i, "size", k, "overlap_chance", (double) k / gMax));
            }
            Map<String, Object> row = Map.of("nfe_sampling", 100L, "nfe_training", 40L, "rewarded_images", 12L, "shadow_nfe", nfe,
                    "shadow", Map.of("checkpoints", cps, "nfe", nfe));
            // ModelFlops counts the shadow group's forwards (once); StudyFlops adds its decodes
            double plain = (100 + nfe) * 2.0 * fm + (20 * 3 + 20) * 2.0 * fm + 12 * 2.0 * dm;
            double shadow = (double) gMax * (checkpoints + 1) * 2.0 * dm;
            assertEquals(plain, f.epoch(row), 1e-6);
            assertEquals(plain + shadow, StudyFlops.epoch(f, row), 1e-6);
        }
        ModelFlops f = new ModelFlops(10, 10, false, false);
        assertEquals(0, StudyFlops.shadow(f, Map.of("nfe_sampling", 5L)), "no shadow group, no cost");
    }
}
