package io.progrpo.tensor;

import io.progrpo.tensor.internal.TensorAccess;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.Supplier;

/** What io.progrpo.tensor lends the module's other packages through {@link TensorAccess}; installed by {@link Tensor}. */
final class TensorBridge implements TensorAccess.Bridge {
    @Override
    public MemorySegment handle(Tensor t) {
        return t.handle();
    }

    @Override
    public Tensor adopt(MemorySegment h) {
        return Tensor.adopt(h);
    }

    @Override
    public void check(int status, Supplier<String> what) {
        Native.check(status, what);
    }

    @Override
    public MemorySegment handles(List<Tensor> ts) {
        return Native.scratch().handles(ts);
    }

    @Override
    public MemorySegment out() {
        return Native.scratch().out;
    }

    @Override
    public MemorySegment doubles() {
        return Native.scratch().doubles;
    }

    @Override
    public void ensureLoaded() {
        Native.ensureLoaded();
    }

    @Override
    public void release(Tensor t) {
        t.checkOpen();
        t.checkThread();
        t.moveTo(null);
    }

    @Override
    public String lastError() {
        return Native.lastError();
    }

    @Override
    public TensorAccess.Identity identity(Tensor t) {
        return TensorData.identity(t);
    }
}
