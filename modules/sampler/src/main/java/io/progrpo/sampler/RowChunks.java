package io.progrpo.sampler;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/** The chunk loop of {@link VelocityModel#rowChunked} and {@link Decoder#rowChunked}. */
final class RowChunks {
    private RowChunks() {}

    /** The output of rows {@code start .. start + n - 1}, made in the chunk's scope or handed to the caller. */
    @FunctionalInterface
    interface Chunk {
        Tensor apply(long start, long n);
    }

    /**
     * {@code chunk} over rows 0 .. rows - 1, at most {@code maxRows} at a time, each call in a scope of its own so that
     * what it makes besides its output is freed before the next; the outputs concatenated along dimension 0, a new
     * tensor of the caller's scope. {@code closeOutput}: the output is the caller's to close (a {@link Decoder}'s), so
     * it is closed once copied out; otherwise it is left to the chunk's scope. A null output is an
     * IllegalStateException naming {@code what} and the rows.
     */
    static Tensor concat(long rows, int maxRows, String what, boolean closeOutput, Chunk chunk) {
        List<Tensor> parts = new ArrayList<>((int) ((rows + maxRows - 1) / maxRows));
        try {
            for (long start = 0; start < rows; start += maxRows) {
                long n = Math.min(maxRows, rows - start);
                try (Scope s = Scope.open()) {
                    Tensor out = chunk.apply(start, n);
                    if (out == null) throw new IllegalStateException(what + " returned null for rows " + start + " to " + (start + n - 1));
                    // a new handle made in this scope (an alias), so keep() works whoever made the output
                    parts.add(s.keep(out.to(out.device(), out.dtype())));
                    if (closeOutput) out.close();
                }
            }
            return Tensor.cat(parts, 0);
        } finally {
            parts.forEach(Tensor::close);
        }
    }
}
