package io.progrpo.tensor.nn;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Tensor;

/** Group normalisation over [N, C, ...] with affine weight (1) and bias (0). */
public final class GroupNorm extends Module {
    private final int groups;
    private final double eps;

    public GroupNorm(int groups, long channels, double eps, Device device) {
        if (groups < 1 || channels % groups != 0) {
            throw new IllegalArgumentException("GroupNorm needs channels divisible by groups, got " + channels + " channels, " + groups + " groups");
        }
        this.groups = groups;
        this.eps = eps;
        registerParameter("weight", Tensor.ones(DType.FLOAT32, device, channels));
        registerParameter("bias", Tensor.zeros(DType.FLOAT32, device, channels));
    }

    public Tensor forward(Tensor x) {
        return Functional.groupNorm(x, groups, parameter("weight"), parameter("bias"), eps);
    }
}
