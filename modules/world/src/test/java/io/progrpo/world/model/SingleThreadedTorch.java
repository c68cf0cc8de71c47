package io.progrpo.world.model;

import io.progrpo.tensor.Torch;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class with one libtorch intra-op thread and restores the previous count afterwards. On a shared
 * 2-core machine, two OpenMP threads that spin-wait (libgomp's default) made these small convolutions 7 to 10 times
 * slower whenever another process held a core (measured: the package's tests took 80 s instead of 8 s).
 */
final class SingleThreadedTorch implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SingleThreadedTorch.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NS).put("threads", Torch.numThreads());
        Torch.setNumThreads(1);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Integer previous = context.getStore(NS).get("threads", Integer.class);
        if (previous != null) Torch.setNumThreads(previous);
    }
}
