package io.progrpo.reward;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.jit.ScriptModule;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A reward model exported to TorchScript (e.g. a CLIP-, PickScore- or HPS-like two-tower scorer):
 * {@code scores [N] = module.method(images [N, 3, H, W] float32 in [0, 1], token_ids [N, L] int64)}. The module does
 * its own resizing and normalisation (export them inside it, see docs/torchscript.md); the prompts become token ids
 * through the given {@link PromptTokenizer}. Runs under no-grad on the module's device (images are moved there), in the
 * module's eval mode; {@code [N, 1]} outputs are accepted as {@code [N]}.
 *
 * <p>The scorer is borrowed: the caller closes the {@link ScriptModule} after the last score. Like every reward it
 * may run on {@link AsyncReward}'s worker thread; it only calls the module there.
 */
public final class TorchScriptReward implements RewardFunction {
    /** Turns prompts into a rectangular array of token ids {@code [N][L]} (one row per prompt, equal lengths). */
    @FunctionalInterface
    public interface PromptTokenizer {
        long[][] encode(List<String> prompts);
    }

    private final String name;
    private final ScriptModule scorer;
    private final String method;
    private final PromptTokenizer tokenizer;

    /**
     * @throws IllegalArgumentException naming the file and the method when the module has no such method
     */
    public TorchScriptReward(String name, ScriptModule scorer, String method, PromptTokenizer tokenizer) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("reward name must not be blank, got '" + name + "'");
        if (scorer == null) throw new IllegalArgumentException("reward '" + name + "': scorer module is null");
        if (tokenizer == null) throw new IllegalArgumentException("reward '" + name + "': tokenizer is null");
        this.name = name;
        this.scorer = scorer;
        this.method = method;
        this.tokenizer = tokenizer;
        scorer.requireMethod(method);
        scorer.eval();
    }

    /** A scorer called through {@code forward}. */
    public TorchScriptReward(String name, ScriptModule scorer, PromptTokenizer tokenizer) {
        this(name, scorer, "forward", tokenizer);
    }

    @Override
    public String name() {
        return name;
    }

    public ScriptModule scorer() {
        return scorer;
    }

    /**
     * @throws IllegalArgumentException naming this reward when the images are not {@code [N, 3, H, W]} floating point,
     *                                  or the token ids are not N rows of one length
     * @throws IllegalStateException naming this reward and the scorer's file when the scores are not {@code [N]}
     */
    @Override
    public RewardOutput score(Tensor images, List<String> prompts) {
        int n = RewardFunction.checkInputs(name, images, prompts);
        long[] shape = images.shape();
        if (shape.length != 4 || shape[1] != 3) {
            throw new IllegalArgumentException("reward '" + name + "' expects images [N, 3, H, W], got " + Arrays.toString(shape));
        }
        if (images.dtype() != DType.FLOAT32 && images.dtype() != DType.FLOAT64 && images.dtype() != DType.FLOAT16
                && images.dtype() != DType.BFLOAT16) {
            throw new IllegalArgumentException("reward '" + name + "' expects floating-point images in [0, 1], got " + images.dtype());
        }
        long[][] ids = tokenizer.encode(prompts);
        if (ids == null || ids.length != n) {
            throw new IllegalArgumentException("reward '" + name + "': the tokenizer returned " + (ids == null ? "null" : ids.length + " rows")
                    + " for " + n + " prompts");
        }
        int len = n == 0 ? 0 : ids[0].length;
        long[] flat = new long[n * len];
        for (int i = 0; i < n; i++) {
            if (ids[i].length != len) {
                throw new IllegalArgumentException("reward '" + name + "': token row " + i + " has " + ids[i].length
                        + " ids, row 0 has " + len + "; the tokenizer must pad to one length");
            }
            System.arraycopy(ids[i], 0, flat, i * len, len);
        }
        try (var ng = Autograd.noGrad(); Scope s = Scope.open()) {
            Tensor img = images.to(scorer.device(), DType.FLOAT32);
            Tensor tok = Tensor.of(flat, n, len).to(scorer.device(), DType.INT64);
            Tensor out = scorer.callTensor(method, img, tok);
            long[] os = out.shape();
            boolean ok = (os.length == 1 && os[0] == n) || (os.length == 2 && os[0] == n && os[1] == 1);
            if (!ok) {
                throw new IllegalStateException("reward '" + name + "': " + scorer.file() + " " + method + " returned shape "
                        + Arrays.toString(os) + ", expected [" + n + "] (one score per image)");
            }
            float[] f = out.to(io.progrpo.tensor.Device.CPU, DType.FLOAT32).toFloatArray();
            double[] scores = new double[n];
            for (int i = 0; i < n; i++) scores[i] = f[i];
            return new RewardOutput(scores, Map.of());
        }
    }
}
