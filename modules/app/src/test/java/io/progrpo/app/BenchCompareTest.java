package io.progrpo.app;

import io.progrpo.world.model.WorldModel;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCompareTest {

    /** MACs of a conv layer: output pixels x output channels x input channels x kernel area. */
    private static double conv(double pixels, double in, double out, double k) {
        return pixels * out * in * k * k;
    }

    /** The world model's MACs recomputed layer by layer in double precision, as WorldModel lays them out. */
    private static double reference(int s, int w, int tokens) {
        double full = (double) s * s;
        double half = full / 4;
        double e = 4.0 * w;
        double linear = tokens * w * e + w * e + e * e           // condProjection, timeIn, timeOut
                + 2 * (e * 2 * w) + 2 * (e * 2 * (2 * w));       // FiLM of the two w blocks and the two 2w blocks
        double convs = conv(full, 5, w, 3)                       // stem (x + 2 coordinate channels)
                + 2 * conv(full, w, w, 3)                        // down0, down1
                + conv(half, w, 2 * w, 3)                        // toHalf
                + 2 * conv(half, 2 * w, 2 * w, 3)                // mid0, mid1
                + conv(half, 2 * w, w, 1)                        // fromHalf
                + conv(full, 2 * w, w, 3)                        // fuse
                + conv(full, w, 3, 3);                           // out
        return linear + convs;
    }

    @Test
    void forwardMacsMatchesALayerByLayerCount() {
        Random rnd = new Random(9);
        for (int i = 0; i < 50; i++) {
            int s = 2 * (2 + rnd.nextInt(30));
            int w = 8 * (1 + rnd.nextInt(12));
            int tokens = 1 + rnd.nextInt(5);
            assertEquals(reference(s, w, tokens), WorldModel.forwardMacs(s, w, tokens), 0.0, "s=" + s + " w=" + w);
        }
        // the default world: 16 x 16, width 32, 3 tokens
        assertEquals(16_138_240L, WorldModel.forwardMacs(16, 32, 3));
    }

    @Test
    void epochFlopsCountsBackwardAsTwoForwardsAndTheDetachedBranchAsOne() {
        Random rnd = new Random(3);
        for (int i = 0; i < 20; i++) {
            long macs = 1 + rnd.nextInt(1_000_000);
            double nfeS = 2 * rnd.nextInt(5000);
            double nfeT = 2 * rnd.nextInt(5000);
            double f = 2.0 * macs;
            double[] detached = BenchCompare.epochFlops(macs, nfeS, nfeT, true, true);
            assertEquals(nfeS * f, detached[0], 1e-6 * nfeS * f + 1e-9);
            assertEquals(nfeT / 2 * 3 * f + nfeT / 2 * f, detached[1], 1e-6 * nfeT * f + 1e-9);
            double[] both = BenchCompare.epochFlops(macs, nfeS, nfeT, true, false);
            assertEquals(nfeT * 3 * f, both[1], 1e-6 * nfeT * f + 1e-9);
            double[] noCfg = BenchCompare.epochFlops(macs, nfeS, nfeT, false, true);
            assertEquals(nfeT * 3 * f, noCfg[1], 1e-6 * nfeT * f + 1e-9);
        }
    }

    @Test
    void argsParseAndDefaults() {
        BenchCompare.Args a = BenchCompare.Args.parse(new String[] {"--methods", "flow-grpo,pro-grpo", "--epochs", "4", "--warmup", "0",
                "--threads", "2", "--set", "groupsPerEpoch=3", "--reward", "config"});
        assertEquals(List.of("flow-grpo", "pro-grpo"), a.methods());
        assertEquals(4, a.epochs());
        assertEquals(0, a.warmup());
        assertEquals(2, a.threads());
        assertEquals("config", a.reward());
        assertEquals(List.of("groupsPerEpoch=3"), a.sets());
        assertEquals(3, BenchCompare.config(a, "flow-grpo").groupsPerEpoch());
        assertEquals(0, BenchCompare.config(a, "flow-grpo").evalEvery());
        assertEquals(2, TrainConfig.preset("pro-grpo+demo").shadowEvery(), "the demo overlay has shadow groups");
        assertEquals(0, BenchCompare.config(a, "pro-grpo").shadowEvery(), "the benchmark times training without them");
        assertEquals(List.of(), a.forwardRows());
        assertEquals(List.of(24, 96), BenchCompare.Args.parse(new String[] {"--forward-scaling", "24,96"}).forwardRows());
    }

    @Test
    void badArgsNameTheValue() {
        var e1 = assertThrows(IllegalArgumentException.class, () -> BenchCompare.Args.parse(new String[] {"--epochs", "zero"}));
        assertTrue(e1.getMessage().contains("'zero'"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> BenchCompare.Args.parse(new String[] {"--epochs", "0"}));
        assertTrue(e2.getMessage().contains("got 0"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> BenchCompare.Args.parse(new String[] {"--reward", "pickscore"}));
        assertTrue(e3.getMessage().contains("'pickscore'"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> BenchCompare.Args.parse(new String[] {"--bogus", "1"}));
        assertTrue(e4.getMessage().contains("--bogus"), e4.getMessage());
        var e6 = assertThrows(IllegalArgumentException.class,
                () -> BenchCompare.Args.parse(new String[] {"--forward-scaling", "24,x"}));
        assertTrue(e6.getMessage().contains("'x'"), e6.getMessage());
        var e5 = assertThrows(IllegalArgumentException.class, () -> BenchCompare.Args.parse(new String[] {"--threads"}));
        assertTrue(e5.getMessage().contains("--threads needs a value"), e5.getMessage());
    }
}
