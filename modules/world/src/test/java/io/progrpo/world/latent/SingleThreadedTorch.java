package io.progrpo.world.latent;

import io.progrpo.tensor.Torch;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** One libtorch intra-op thread for a test class (the machine's cores are shared), restored afterwards. */
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
