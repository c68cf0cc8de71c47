package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Runs every test inside a {@link Scope} and checks afterwards that the test left no live tensor behind, so the whole
 * suite doubles as a leak check of the ops it exercises.
 */
public abstract class TensorTestBase {
    protected Scope scope;
    private long baselineTensors;

    @BeforeEach
    final void openScope() {
        Torch.ensureAvailable();
        baselineTensors = MemoryLedger.liveTensors();
        scope = Scope.open();
    }

    @AfterEach
    final void closeScopeAndCheckLeaks() {
        scope.close();
        assertEquals(baselineTensors, MemoryLedger.liveTensors(), "live tensors after the test's scope closed");
    }
}
