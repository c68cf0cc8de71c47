package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.MemorySegment;

/** A tensor's autograd state: requires_grad, back-propagation, its gradient. The public methods are on {@link Tensor}. */
final class TensorGrad {
    private TensorGrad() {}

    static Tensor setRequiresGrad(Tensor t, boolean on) {
        Native.check(progrpo_torch_h.pt_set_requires_grad(t.handle(), on ? 1 : 0), () -> Tensor.describe("requires_grad_", t));
        return t;
    }

    static void backward(Tensor t, Tensor grad, boolean retainGraph) {
        if (grad == null && t.numel() != 1) {
            throw new IllegalStateException("backward() without a gradient needs a one-element tensor, got " + t.describe());
        }
        Native.check(progrpo_torch_h.pt_backward(t.handle(), Tensor.handleOrNull(grad), retainGraph ? 1 : 0),
                () -> Tensor.describe("backward", t));
    }

    static Tensor grad(Tensor t) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_grad(t.handle(), s.out), () -> Tensor.describe("grad", t));
        MemorySegment g = s.outAddress(0);
        return g.equals(MemorySegment.NULL) ? null : Tensor.adopt(g);
    }

    static void zeroGrad(Tensor t) {
        Native.check(progrpo_torch_h.pt_zero_grad(t.handle()), () -> Tensor.describe("zero_grad", t));
    }

    /** The version counter, which autograd uses to detect in-place changes of saved tensors. */
    static long version(Tensor t) {
        MemorySegment buf = Native.scratch().longs;
        Native.check(progrpo_torch_h.pt_tensor_version(t.handle(), buf), () -> Tensor.describe("_version", t));
        return buf.getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, 0);
    }
}
