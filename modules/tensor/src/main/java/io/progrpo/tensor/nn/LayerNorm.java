package io.progrpo.tensor.nn;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Tensor;

/** Layer normalisation over the last dimension, with affine weight (1) and bias (0). */
public final class LayerNorm extends Module {
    private final long features;
    private final double eps;

    public LayerNorm(long features, double eps, Device device) {
        this.features = features;
        this.eps = eps;
        registerParameter("weight", Tensor.ones(DType.FLOAT32, device, features));
        registerParameter("bias", Tensor.zeros(DType.FLOAT32, device, features));
    }

    public Tensor forward(Tensor x) {
        return Functional.layerNorm(x, new long[] {features}, parameter("weight"), parameter("bias"), eps);
    }
}
