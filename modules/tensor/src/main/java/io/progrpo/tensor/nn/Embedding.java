package io.progrpo.tensor.nn;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;

/** A lookup table of {@code count} vectors of {@code dim} values, initialised N(0, 1) as in PyTorch. */
public final class Embedding extends Module {
    private final long count;

    public Embedding(long count, long dim, Generator gen, Device device) {
        if (count < 1 || dim < 1) throw new IllegalArgumentException("Embedding needs count, dim >= 1, got " + count + ", " + dim);
        this.count = count;
        registerParameter("weight", Tensor.randn(gen, DType.FLOAT32, device, count, dim));
    }

    /** Rows for int64 indices of any shape; the result has shape indices.shape + [dim]. */
    public Tensor forward(Tensor indices) {
        if (indices.dtype() != DType.INT64 && indices.dtype() != DType.INT32) {
            throw new IllegalArgumentException("Embedding expects int64 or int32 indices, got " + indices.dtype());
        }
        return Functional.embedding(parameter("weight"), indices);
    }

    public long count() {
        return count;
    }
}
