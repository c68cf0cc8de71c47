package io.progrpo.tensor.nn;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;

/** 2-d convolution over [N, C, H, W] with square kernels, PyTorch's default initialisation. */
public final class Conv2d extends Module {
    private final long inChannels;
    private final int stride;
    private final int padding;

    public Conv2d(long inChannels, long outChannels, int kernel, int stride, int padding, Generator gen, Device device) {
        if (inChannels < 1 || outChannels < 1 || kernel < 1 || stride < 1 || padding < 0) {
            throw new IllegalArgumentException("Conv2d needs channels, kernel, stride >= 1 and padding >= 0, got in " + inChannels
                    + ", out " + outChannels + ", kernel " + kernel + ", stride " + stride + ", padding " + padding);
        }
        this.inChannels = inChannels;
        this.stride = stride;
        this.padding = padding;
        double bound = 1 / Math.sqrt(inChannels * kernel * kernel);
        registerParameter("weight", uniform(gen, bound, device, outChannels, inChannels, kernel, kernel));
        registerParameter("bias", uniform(gen, bound, device, outChannels));
    }

    public Tensor forward(Tensor x) {
        if (x.dim() != 4 || x.size(1) != inChannels) {
            throw new IllegalArgumentException("Conv2d expects [N, " + inChannels + ", H, W], got " + x);
        }
        return Functional.conv2d(x, parameter("weight"), parameter("bias"), stride, padding);
    }
}
