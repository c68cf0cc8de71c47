package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Grad-mode guards closed in any order (family 14 of issue 15): on the old code closing an outer guard before an inner
 * one left the inner guard's previous mode in force, e.g. grad disabled after every guard was closed. The model: the
 * mode is the one set by the innermost guard still open, else the mode before the first guard.
 */
class GradModeOrderTest extends TensorTestBase {
    static final int GUARDS = 4;

    /** Every permutation of 0..n-1. */
    static List<int[]> permutations(int n) {
        List<int[]> out = new ArrayList<>();
        permute(new int[n], new boolean[n], 0, out);
        return out;
    }

    private static void permute(int[] p, boolean[] used, int k, List<int[]> out) {
        if (k == p.length) {
            out.add(p.clone());
            return;
        }
        for (int i = 0; i < p.length; i++) {
            if (used[i]) continue;
            used[i] = true;
            p[k] = i;
            permute(p, used, k + 1, out);
            used[i] = false;
        }
    }

    @Test
    void everyCloseOrderRestoresTheModeOfTheInnermostGuardStillOpen() {
        int cases = 0;
        for (boolean initial : new boolean[] {true, false}) {
            for (int modes = 0; modes < 1 << GUARDS; modes++) {
                for (int[] order : permutations(GUARDS)) {
                    try (var start = initial ? Autograd.enableGrad() : Autograd.noGrad()) {
                        Autograd.GradMode[] g = new Autograd.GradMode[GUARDS];
                        boolean[] open = new boolean[GUARDS];
                        for (int i = 0; i < GUARDS; i++) {
                            g[i] = (modes >> i & 1) == 1 ? Autograd.enableGrad() : Autograd.noGrad();
                            open[i] = true;
                        }
                        for (int k : order) {
                            g[k].close();
                            for (int j = k; j < GUARDS; j++) open[j] = false; // closing k closes the ones opened after it
                            boolean expected = initial;
                            for (int j = 0; j < GUARDS; j++) if (open[j]) expected = (modes >> j & 1) == 1;
                            assertEquals(expected, Autograd.isGradEnabled(), "initial " + initial + ", modes " + Integer.toBinaryString(modes)
                                    + ", close order " + java.util.Arrays.toString(order) + ", after closing " + k);
                        }
                        assertEquals(initial, Autograd.isGradEnabled(), "all closed");
                        cases++;
                    }
                }
            }
        }
        assertEquals(2 * 16 * 24, cases);
    }

    @Test
    void closingOnAnotherThreadThrowsAndChangesNothing() throws Exception {
        boolean before = Autograd.isGradEnabled();
        Autograd.GradMode ng = Autograd.noGrad();
        ExecutorService ex = Executors.newSingleThreadExecutor(r -> new Thread(r, "other"));
        try {
            var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> ex.submit(() -> {
                ng.close();
                return null;
            }).get());
            assertTrue(e.getCause() instanceof WrongThreadException, String.valueOf(e.getCause()));
            assertEquals(false, Autograd.isGradEnabled(), "still in no-grad mode");
        } finally {
            ex.shutdown();
            ng.close();
        }
        assertEquals(before, Autograd.isGradEnabled());
    }
}
