package io.progrpo.app.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.List;

/** What every rank concludes from the ranks' views of where training starts (the collective's payload). */
class StartAgreementTest {
    static final String RESUME = "resume at epoch 3 from checkpoint 9f2c";

    @Test
    void equalViewsAgree() {
        assertNull(DistributedGrpo.disagreement("where training starts", List.of(RESUME, RESUME, RESUME)));
        assertNull(DistributedGrpo.disagreement("where training starts", List.of("fresh start at epoch 0")));
    }

    @Test
    void eachDifferentRankIsNamedWithBothViews() {
        String m = DistributedGrpo.disagreement("where training starts", List.of(RESUME, "fresh start at epoch 0", RESUME,
                "resume at epoch 2 from checkpoint 11aa"));
        assertTrue(m.contains("disagree on where training starts"), m);
        assertTrue(m.contains("rank 0: " + RESUME + ", but rank 1: fresh start at epoch 0"), m);
        assertTrue(m.contains("but rank 3: resume at epoch 2 from checkpoint 11aa"), m);
        assertTrue(!m.contains("rank 2:"), "rank 2 agrees: " + m);
    }

    @Test
    void aRankThatCannotStartStopsAllNamingItsReason() {
        String m = DistributedGrpo.disagreement("the run directory", List.of("error: run directory /r is in use by another progrpo run (pid 7)", "ok"));
        assertEquals("a rank cannot start (the run directory): rank 0: run directory /r is in use by another progrpo run (pid 7)", m);
    }
}
