package io.progrpo.world.scene.reward;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Conv2d;
import io.progrpo.tensor.nn.GroupNorm;
import io.progrpo.tensor.nn.Linear;
import io.progrpo.tensor.nn.Module;

import java.util.List;

/**
 * The reward model's image tower, a small CNN:
 * <pre>
 * [2x - 1, coord_y, coord_x]                   CoordConv: prompts name absolute positions
 *   -> conv3x3 (w)      -> GroupNorm(4), SiLU   full resolution
 *   -> conv3x3/2 (2w)   -> GroupNorm(4), SiLU   1/2
 *   -> conv3x3/2 (4w)   -> GroupNorm(4), SiLU   1/4
 *   -> conv3x3/2 (4w)   -> GroupNorm(4), SiLU   1/8
 *   -> flatten -> Linear to embedDim            the flatten keeps where things are
 * </pre>
 */
public final class ImageEncoder extends Module {
    private final RewardModelConfig config;
    private final Conv2d[] convs = new Conv2d[4];
    private final GroupNorm[] norms = new GroupNorm[4];
    private final Linear head;

    ImageEncoder(RewardModelConfig c, Generator g, Device device) {
        this.config = c;
        int w = c.width();
        long[] in = {5, w, 2L * w, 4L * w};
        long[] out = {w, 2L * w, 4L * w, 4L * w};
        for (int i = 0; i < 4; i++) {
            convs[i] = registerModule("conv" + i, new Conv2d(in[i], out[i], 3, i == 0 ? 1 : 2, 1, g, device));
            norms[i] = registerModule("norm" + i, new GroupNorm(4, out[i], 1e-5, device));
        }
        long side = c.featureSide();
        head = registerModule("head", new Linear(4L * w * side * side, c.embedDim(), true, g, device));
    }

    /** Unnormalised embeddings [N, embedDim] of images [N, 3, S, S] with values in [0, 1]. */
    public Tensor forward(Tensor images) {
        int s = config.imageSize();
        if (images.dim() != 4 || images.size(1) != 3 || images.size(2) != s || images.size(3) != s) {
            throw new IllegalArgumentException("the reward model's image encoder expects images [N, 3, " + s + ", " + s + "], got "
                    + java.util.Arrays.toString(images.shape()));
        }
        long n = images.size(0);
        try (Scope scope = Scope.open()) {
            Tensor x = images.mul(2).sub(1);
            Tensor ys = Tensor.linspace(-1, 1, s, x.dtype(), x.device()).reshape(1, 1, s, 1).expand(n, 1, s, s);
            Tensor xs = Tensor.linspace(-1, 1, s, x.dtype(), x.device()).reshape(1, 1, 1, s).expand(n, 1, s, s);
            Tensor h = Tensor.cat(List.of(x, ys, xs), 1);
            for (int i = 0; i < 4; i++) h = norms[i].forward(convs[i].forward(h)).silu();
            return scope.keep(head.forward(h.reshape(n, -1)));
        }
    }

    /** Multiply-accumulates of one image's forward pass (convolutions and the head). */
    public long macsPerImage() {
        int w = config.width();
        long[] in = {5, w, 2L * w, 4L * w};
        long[] out = {w, 2L * w, 4L * w, 4L * w};
        long side = config.imageSize();
        long macs = 0;
        for (int i = 0; i < 4; i++) {
            if (i > 0) side = (side + 1) / 2;
            macs += side * side * out[i] * in[i] * 9;
        }
        return macs + 4L * w * side * side * config.embedDim();
    }
}
