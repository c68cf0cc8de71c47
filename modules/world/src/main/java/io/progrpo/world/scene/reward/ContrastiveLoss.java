package io.progrpo.world.scene.reward;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.List;

/**
 * CLIP's symmetric InfoNCE loss with hard negatives and masked false negatives. For B images with unit embeddings
 * x_i whose own captions are the first B of T >= B unit caption embeddings y_j (the other T - B are hard-negative
 * captions), E >= 0 extra hard-negative images z_e, a scale s and masks (true = leave that pair out of the softmax,
 * because the image also satisfies the caption or the caption repeats the image's own; never on the diagonal):
 * <pre>
 * L_i2t = -(1/B) sum_i log softmax_j( s x_i . y_j  over unmasked j in [0, T) )[i]
 * L_t2i = -(1/B) sum_i log softmax_k( s y_i . w_k  over unmasked k in [0, B + E) )[i],   w = [x; z]
 * L     = (L_i2t + L_t2i) / 2
 * </pre>
 * A masked pair's logit gets {@value #MASKED} added, which takes it out of the softmax in float32.
 */
public final class ContrastiveLoss {
    /** What a masked logit gets added. */
    public static final double MASKED = -1e4;

    private ContrastiveLoss() {
    }

    /**
     * @param images     [B, D] unit image embeddings
     * @param captions   [T, D] unit caption embeddings, T >= B, the first B the images' own
     * @param negImages  [E, D] unit embeddings of hard-negative images, or null for none
     * @param scale      the scalar s
     * @param maskI2T    B x T, true where image i must not see caption j as a negative (may be null)
     * @param maskT2I    B x (B + E), true where caption i must not see image k as a negative (may be null)
     * @return the scalar loss L
     */
    public static Tensor infoNce(Tensor images, Tensor captions, Tensor negImages, Tensor scale, boolean[][] maskI2T, boolean[][] maskT2I) {
        long b = images.size(0);
        long t = captions.size(0);
        if (t < b || captions.size(1) != images.size(1)) {
            throw new IllegalArgumentException("InfoNCE needs at least as many captions as images, of the same dimension; got images "
                    + java.util.Arrays.toString(images.shape()) + ", captions " + java.util.Arrays.toString(captions.shape()));
        }
        long e = negImages == null ? 0 : negImages.size(0);
        try (Scope scope = Scope.open()) {
            Device dev = images.device();
            Tensor labels = Tensor.arange(0, b, 1, DType.INT64, dev).reshape(b, 1);
            Tensor i2t = images.matmul(captions.transpose(0, 1)).mul(scale);
            if (maskI2T != null) i2t = i2t.add(additive(maskI2T, b, t, dev));
            Tensor lossI2T = i2t.logSoftmax(1).gather(1, labels).mean().neg();
            Tensor all = e == 0 ? images : Tensor.cat(List.of(images, negImages), 0);
            Tensor t2i = captions.narrow(0, 0, b).matmul(all.transpose(0, 1)).mul(scale);
            if (maskT2I != null) t2i = t2i.add(additive(maskT2I, b, b + e, dev));
            Tensor lossT2I = t2i.logSoftmax(1).gather(1, labels).mean().neg();
            return scope.keep(lossI2T.add(lossT2I).mul(0.5));
        }
    }

    private static Tensor additive(boolean[][] mask, long rows, long cols, Device dev) {
        if (mask.length != rows) throw new IllegalArgumentException("mask has " + mask.length + " rows, expected " + rows);
        float[] v = new float[(int) (rows * cols)];
        for (int i = 0; i < rows; i++) {
            if (mask[i].length != cols) throw new IllegalArgumentException("mask row " + i + " has " + mask[i].length + " columns, expected " + cols);
            if (mask[i][i]) throw new IllegalArgumentException("mask row " + i + " masks its own positive pair");
            for (int j = 0; j < cols; j++) if (mask[i][j]) v[(int) (i * cols + j)] = (float) MASKED;
        }
        try (Tensor cpu = Tensor.of(v, rows, cols)) {
            return cpu.to(dev);
        }
    }
}
