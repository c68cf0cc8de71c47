package io.progrpo.sampler;

import io.progrpo.tensor.Tensor;

/**
 * {@link VelocityModel#rowChunked}: the model run on at most {@code maxRows} rows at a time, each chunk in a scope of
 * its own, so that a forward's intermediate tensors are freed chunk by chunk instead of living until the caller's
 * scope closes. The rows are independent in every model progrpo ships (the transformer attends within an image and
 * to its own text tokens), so the output is the unchunked one; what changes is the peak native memory of a large
 * batch without gradient (sampling, previews, evaluation). Under autograd a chunk's graph must survive until the
 * backward anyway, so the trainer bounds training memory with {@code microBatch} instead.
 */
final class RowChunkedVelocity implements VelocityModel {
    private final VelocityModel model;
    private final int maxRows;

    RowChunkedVelocity(VelocityModel model, int maxRows) {
        if (model == null) throw new IllegalArgumentException("model must not be null");
        if (maxRows < 1) throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
        this.model = model;
        this.maxRows = maxRows;
    }

    @Override
    public Tensor predict(Tensor x, Tensor t, Tensor cond) {
        long rows = x.size(0);
        if (rows <= maxRows) return model.predict(x, t, cond);
        if (t.size(0) != rows) {
            throw new IllegalArgumentException("row-chunked model: the times have " + t.size(0) + " rows, the latents " + rows);
        }
        if (cond != null && cond.size(0) != rows) {
            throw new IllegalArgumentException("row-chunked model: the conditioning has " + cond.size(0) + " rows, the latents " + rows);
        }
        return RowChunks.concat(rows, maxRows, "model", false,
                (start, n) -> model.predict(x.narrow(0, start, n), t.narrow(0, start, n), cond == null ? null : cond.narrow(0, start, n)));
    }
}
