package io.progrpo.app.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

/** The FLOP count of an epoch, recomputed term by term from random counters. */
class ModelFlopsTest {
    @Test
    void countsForwardsBackwardsAndDecodes() {
        Random rnd = new Random(11);
        for (int i = 0; i < 200; i++) {
            long f = 1 + rnd.nextInt(50_000_000);
            long d = rnd.nextInt(30_000_000);
            boolean cfg = rnd.nextBoolean();
            boolean detach = rnd.nextBoolean();
            long nfeS = rnd.nextInt(10_000);
            long nfeT = 2L * rnd.nextInt(5_000);
            long images = rnd.nextInt(2_000);
            long shadow = rnd.nextBoolean() ? 0 : rnd.nextInt(1_000);   // an epoch without a shadow group has no key
            Map<String, Object> row = shadow == 0 ? Map.of("nfe_sampling", nfeS, "nfe_training", nfeT, "rewarded_images", images)
                    : Map.of("nfe_sampling", nfeS, "nfe_training", nfeT, "rewarded_images", images, "shadow_nfe", shadow);
            double grad = cfg && detach ? nfeT / 2.0 : nfeT;
            double expected = 2.0 * f * (nfeS + shadow) + 6.0 * f * grad + 2.0 * f * (nfeT - grad) + 2.0 * d * images;
            assertEquals(expected, new ModelFlops(f, d, cfg, detach).epoch(row), 1e-9 * expected);
        }
    }

    @Test
    void missingCountersCountZeroAndBadCostsAreRefused() {
        assertEquals(0.0, new ModelFlops(10, 5, true, true).epoch(Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new ModelFlops(0, 5, true, true));
        assertThrows(IllegalArgumentException.class, () -> new ModelFlops(10, -1, true, true));
    }
}
