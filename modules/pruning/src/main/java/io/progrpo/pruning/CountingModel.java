package io.progrpo.pruning;

import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Tensor;

/** Counts rows and calls of the model it wraps. */
final class CountingModel implements VelocityModel {
    final VelocityModel inner;
    long rows;
    long calls;

    CountingModel(VelocityModel inner) {
        this.inner = inner;
    }

    @Override
    public Tensor predict(Tensor x, Tensor t, Tensor cond) {
        rows += x.size(0);
        calls++;
        return inner.predict(x, t, cond);
    }
}
