package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SingleThreadedTorch.class)
class TextEncoderTest {

    @Test
    void givesTokenStatesAndTheirMeanAsThePooledVector() {
        for (TextEncoderConfig c : new TextEncoderConfig[] {Tiny.TEXT, TextEncoderConfig.of(40, 9), new TextEncoderConfig(12, 5, 16, 0, 4)}) {
            try (TextEncoder te = new TextEncoder(c, 3); Scope s = Scope.open(); var ng = Autograd.noGrad()) {
                long[] ids = new long[2 * c.tokens()];
                for (int i = 0; i < ids.length; i++) ids[i] = (i * 7L + 1) % c.vocabSize();
                TextEncoder.Encoded e = te.encode(Tensor.of(ids, 2, c.tokens()));
                assertArrayEquals(new long[] {2, c.tokens(), c.width()}, e.tokens().shape());
                assertArrayEquals(new long[] {2, c.width()}, e.pooled().shape());
                double[] t = e.tokens().toDoubleArray();
                double[] p = e.pooled().toDoubleArray();
                for (int b = 0; b < 2; b++)
                    for (int k = 0; k < c.width(); k++) {
                        double m = 0;
                        for (int l = 0; l < c.tokens(); l++) m += t[(b * c.tokens() + l) * c.width() + k] / c.tokens();
                        assertEquals(m, p[b * c.width() + k], 1e-5, "pooled = mean over the L positions");
                    }
            }
        }
    }

    @Test
    void eachWordAndItsPlaceChangeTheStatesAndTheNullPromptHasItsOwn() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 3); Scope s = Scope.open(); var ng = Autograd.noGrad()) {
            String p = Tiny.SCENES.trainPrompts().get(0);
            long[] a = Tiny.SCENES.encode(p);
            long[] swapped = {a[1], a[0], a[2]};
            Tensor ids = Tensor.of(concat(a, swapped, new long[3]), 3, 3);
            float[] pooled = te.encode(ids).pooled().toFloatArray();
            int w = Tiny.TEXT.width();
            float[] r0 = Arrays.copyOfRange(pooled, 0, w), r1 = Arrays.copyOfRange(pooled, w, 2 * w), r2 = Arrays.copyOfRange(pooled, 2 * w, 3 * w);
            assertFalse(Arrays.equals(r0, r1), "positions matter");
            assertFalse(Arrays.equals(r0, r2), "the null prompt differs from a prompt");
        }
    }

    @Test
    void macsMatchADirectCount() {
        for (TextEncoderConfig c : new TextEncoderConfig[] {Tiny.TEXT, TextEncoderConfig.of(40, 9)}) {
            try (TextEncoder te = new TextEncoder(c, 3); Scope s = Scope.open(); var ng = Autograd.noGrad()) {
                MacCounter.start();
                te.encode(Tensor.zeros(DType.INT64, Device.CPU, 3, c.tokens()));
                assertEquals(3 * te.macsPerRow(), MacCounter.stop(), c.toString());
            }
        }
    }

    @Test
    void badIdsNameWhatWasExpected() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 3); Scope s = Scope.open()) {
            var e = assertThrows(IllegalArgumentException.class, () -> te.encode(Tensor.zeros(2, 3)));
            assertTrue(e.getMessage().contains("int64 [B, 3]") && e.getMessage().contains("float32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> te.encode(Tensor.of(new long[] {1, 2, 3, 4}, 1, 4)));
            assertTrue(e.getMessage().contains("[1, 4]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> te.encode(Tensor.of(new long[] {1, 2, 99}, 1, 3)));
            assertTrue(e.getMessage().contains("[0, " + Tiny.TEXT.vocabSize() + ")") && e.getMessage().contains("99"), e.getMessage());
        }
    }

    private static long[] concat(long[]... parts) {
        return Arrays.stream(parts).flatMapToLong(Arrays::stream).toArray();
    }
}
