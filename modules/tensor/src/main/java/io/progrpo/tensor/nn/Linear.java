package io.progrpo.tensor.nn;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;

/** y = x W^T + b, with PyTorch's default initialisation U(-1/sqrt(in), 1/sqrt(in)). */
public final class Linear extends Module {
    private final long in;
    private final long out;
    private final boolean bias;

    public Linear(long in, long out, boolean bias, Generator gen, Device device) {
        if (in < 1 || out < 1) throw new IllegalArgumentException("Linear needs in, out >= 1, got " + in + ", " + out);
        this.in = in;
        this.out = out;
        this.bias = bias;
        double bound = 1 / Math.sqrt(in);
        registerParameter("weight", uniform(gen, bound, device, out, in));
        if (bias) registerParameter("bias", uniform(gen, bound, device, out));
    }

    public Linear(long in, long out, Generator gen) {
        this(in, out, true, gen, Device.CPU);
    }

    public Tensor forward(Tensor x) {
        if (x.size(-1) != in) throw new IllegalArgumentException("Linear(" + in + " -> " + out + ") expects last dimension " + in + ", got " + x);
        return Functional.linear(x, parameter("weight"), bias ? parameter("bias") : null);
    }

    public Tensor weight() {
        return parameter("weight");
    }

    public long inFeatures() {
        return in;
    }

    public long outFeatures() {
        return out;
    }
}
