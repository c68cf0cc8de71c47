package io.progrpo.app.torchscript;

import io.progrpo.pruning.ExpandAndPruneDriver;
import io.progrpo.sampler.Decoder;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.jit.ScriptModule;

import java.util.Arrays;

/**
 * The decoder of a latent generator exported to TorchScript (e.g. a VAE's decode with its scaling folded in):
 * {@code images [B, 3, H, W] = module.method(latents [B, ...])}, values in [0, 1]. Decodes both the x0 previews at
 * Pro-GRPO's checkpoints and the final latents. The module is frozen (requires_grad false, eval mode) and called
 * under no-grad; its output is clamped to [0, 1], the range rewards read. The module is borrowed: close it after the
 * trainer.
 */
public final class TorchScriptDecoder implements Decoder {
    private final ScriptModule module;
    private final String method;

    /**
     * @throws IllegalArgumentException naming the file and the method when the module has no such method
     */
    public TorchScriptDecoder(ScriptModule module, String method) {
        if (module == null) throw new IllegalArgumentException("decoder module is null");
        this.module = module;
        this.method = method;
        module.requireMethod(method);
        module.requiresGrad(false).eval();
    }

    public ScriptModule module() {
        return module;
    }

    /**
     * @throws IllegalStateException naming the file and the method when the images are not {@code [B, 3, H, W]} for
     *                               B latents
     */
    @Override
    public Tensor decode(Tensor latents) {
        try (var ng = Autograd.noGrad(); Scope s = Scope.open()) {
            Tensor images = module.callTensor(method, latents);
            long[] shape = images.shape();
            if (shape.length != 4 || shape[0] != latents.size(0) || shape[1] != 3) {
                throw new IllegalStateException("decoder " + module.file() + " " + method + " returned shape " + Arrays.toString(shape)
                        + " for latents " + Arrays.toString(latents.shape()) + "; expected [" + latents.size(0) + ", 3, H, W]");
            }
            return s.keep(images.to(images.device(), io.progrpo.tensor.DType.FLOAT32).clamp(0, 1));
        }
    }
}
