package io.progrpo.sampler;

import static io.progrpo.sampler.FlowSdeSamplerTest.assertMessage;
import static io.progrpo.sampler.FlowSdeSamplerTest.randomArray;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** {@link VelocityModel#rowChunked} and {@link Decoder#rowChunked}: the same output chunk by chunk, intermediates freed per chunk, and their refusals. */
class RowChunkedVelocityTest {
    private static final int D = 5;

    /** v = 0.7 x - 1.3 cond + t (t per row); records the rows of every call; makes one intermediate per call. */
    private static VelocityModel model(List<Long> calls) {
        return (x, t, c) -> {
            calls.add(x.size(0));
            return x.mul(0.7).add(c.mul(-1.3)).add(t.reshape(x.size(0), 1));
        };
    }

    @Test
    void givesTheUnchunkedOutputInChunksOfAtMostMaxRows() {
        Random r = new Random(11);
        for (int rows : new int[] {1, 3, 7, 9}) {
            float[] xs = randomArray(r, rows * D);
            float[] cs = randomArray(r, rows * D);
            float[] ts = randomArray(r, rows);
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.of(xs, rows, D);
                Tensor c = Tensor.of(cs, rows, D);
                Tensor t = Tensor.of(ts, rows);
                List<Long> calls = new ArrayList<>();
                float[] v = VelocityModel.rowChunked(model(calls), 3).predict(x, t, c).toFloatArray();
                for (int i = 0; i < rows * D; i++) {
                    // recomputed in double from the inputs, row by row
                    double expected = 0.7 * xs[i] - 1.3 * cs[i] + ts[i / D];
                    assertEquals(expected, v[i], 1e-5 * (1 + Math.abs(expected)), rows + " rows, element " + i);
                }
                List<Long> expectedCalls = new ArrayList<>();
                for (int left = rows; left > 0; left -= 3) expectedCalls.add((long) Math.min(3, left));
                assertEquals(expectedCalls, calls, rows + " rows in chunks of at most 3 (a batch of at most 3 goes straight through)");
                float[] whole = model(new ArrayList<>()).predict(x, t, c).toFloatArray();
                for (int i = 0; i < whole.length; i++) assertEquals(whole[i], v[i], 0f, "row-independent ops: the unchunked output bit for bit");
            }
        }
    }

    @Test
    void freesEachChunksIntermediatesAndLeavesTheCallerOnlyTheResult() {
        try (Scope outer = Scope.open()) {
            Tensor x = Tensor.zeros(8, D);
            Tensor c = Tensor.zeros(8, D);
            Tensor t = Tensor.zeros(8);
            int before = outer.size();
            VelocityModel.rowChunked(model(new ArrayList<>()), 2).predict(x, t, c);
            assertEquals(before + 1, outer.size(), "the chunks' intermediates and parts are closed; only the output is the caller's");
            int beforePlain = outer.size();
            model(new ArrayList<>()).predict(x, t, c);
            assertEquals(true, outer.size() > beforePlain + 1, "unchunked, the forward's intermediates live in the caller's scope");
        }
    }

    @Test
    void acceptsAnOutputTheModelDidNotCreateAndAConditioningOfNull() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 6, 1);
            VelocityModel identity = (xx, t, c) -> xx;   // hands back a view it did not make in the chunk's scope
            float[] v = VelocityModel.rowChunked(identity, 4).predict(x, Tensor.zeros(6), null).toFloatArray();
            assertEquals(List.of(1f, 2f, 3f, 4f, 5f, 6f), List.of(v[0], v[1], v[2], v[3], v[4], v[5]));
        }
    }

    @Test
    void refusesBadArgumentsAndSaysWhichRows() {
        assertMessage(IllegalArgumentException.class, () -> VelocityModel.rowChunked(model(new ArrayList<>()), 0), "maxRows must be >= 1", "got 0");
        assertMessage(IllegalArgumentException.class, () -> VelocityModel.rowChunked(null, 4), "model must not be null");
        try (Scope s = Scope.open()) {
            VelocityModel chunked = VelocityModel.rowChunked(model(new ArrayList<>()), 2);
            assertMessage(IllegalArgumentException.class, () -> chunked.predict(Tensor.zeros(5, D), Tensor.zeros(5), Tensor.zeros(4, D)),
                    "conditioning has 4 rows, the latents 5");
            assertMessage(IllegalArgumentException.class, () -> chunked.predict(Tensor.zeros(5, D), Tensor.zeros(3), Tensor.zeros(5, D)),
                    "times have 3 rows, the latents 5");
            VelocityModel nothing = VelocityModel.rowChunked((x, t, c) -> null, 2);
            assertMessage(IllegalStateException.class, () -> nothing.predict(Tensor.zeros(5, D), Tensor.zeros(5), null),
                    "model returned null for rows 0 to 1");
        }
    }

    @Test
    void decodesInChunksToTheSameImagesAndClosesWhatTheDecoderReturned() {
        List<Long> calls = new ArrayList<>();
        Decoder clamp = z -> {
            calls.add(z.size(0));
            try (Scope s = Scope.open()) {
                return s.keep(z.mul(0.5).add(0.5).clamp(0, 1));
            }
        };
        Random r = new Random(5);
        float[] zs = randomArray(r, 7 * D);
        try (Scope outer = Scope.open()) {
            Tensor z = Tensor.of(zs, 7, D);
            int before = outer.size();
            float[] chunked = Decoder.rowChunked(clamp, 3).decode(z).toFloatArray();
            assertEquals(before + 1, outer.size(), "only the images are left to the caller");
            assertEquals(List.of(3L, 3L, 1L), calls);
            float[] whole = clamp.decode(z).toFloatArray();
            for (int i = 0; i < whole.length; i++) {
                assertEquals(Math.min(1, Math.max(0, 0.5 * zs[i] + 0.5)), chunked[i], 1e-6, "element " + i);
                assertEquals(whole[i], chunked[i], 0f, "the one-batch images bit for bit");
            }
        }
        assertMessage(IllegalArgumentException.class, () -> Decoder.rowChunked(clamp, 0), "maxRows must be >= 1", "got 0");
        assertMessage(IllegalArgumentException.class, () -> Decoder.rowChunked(null, 2), "decoder must not be null");
        try (Scope s = Scope.open()) {
            assertMessage(IllegalStateException.class, () -> Decoder.rowChunked(zz -> null, 2).decode(Tensor.zeros(5, D)),
                    "decoder returned null for rows 0 to 1");
        }
    }
}
