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

    /**
     * A pairwise sigmoid term (SigLIP's, class-balanced) that gives the scores an absolute meaning the softmax lacks: a
     * matching pair should score above a learned threshold -b for every caption, a mismatched one below it. With
     * z = s x_i . y_j + b over the same pairs as {@link #infoNce} (image i with each of the T captions, its own the
     * positive, masked pairs left out) and each hard-negative image z_i with caption i (a negative):
     * <pre>
     * L_sig = (1/2) mean_{positive pairs} softplus(-z) + (1/2) mean_{negative pairs} softplus(z)
     * </pre>
     * softplus(u) = log(1 + e^u), computed as relu(u) + log1p(exp(-|u|)).
     *
     * @param negImages [B, D] (one per own caption) or null
     * @param bias      the scalar b (a training-only parameter; the reward does not use it)
     */
    public static Tensor sigmoid(Tensor images, Tensor captions, Tensor negImages, Tensor scale, Tensor bias, boolean[][] maskI2T) {
        int b = (int) images.size(0);
        int t = (int) captions.size(0);
        if (t < b || captions.size(1) != images.size(1)) {
            throw new IllegalArgumentException("the sigmoid term needs at least as many captions as images, of the same dimension; got images "
                    + java.util.Arrays.toString(images.shape()) + ", captions " + java.util.Arrays.toString(captions.shape()));
        }
        if (negImages != null && negImages.size(0) != b) {
            throw new IllegalArgumentException("the sigmoid term needs one hard-negative image per own caption (" + b + "), got " + negImages.size(0));
        }
        int e = negImages == null ? 0 : b;
        int negatives = e;
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) if (j != i && (maskI2T == null || !maskI2T[i][j])) negatives++;
        if (negatives == 0) throw new IllegalArgumentException("the sigmoid term has no negative pair (every pair is masked)");
        // sign: -1 on a positive (softplus(-z)), +1 on a negative; weight: 1/(2B) per positive, 1/(2 negatives) per negative, 0 masked
        float[] sign = new float[b * t + e];
        float[] weight = new float[b * t + e];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                boolean pos = i == j;
                if (!pos && maskI2T != null && maskI2T[i][j]) continue;
                sign[i * t + j] = pos ? -1 : 1;
                weight[i * t + j] = pos ? 0.5f / b : 0.5f / negatives;
            }
        }
        for (int i = 0; i < e; i++) {
            sign[b * t + i] = 1;
            weight[b * t + i] = 0.5f / negatives;
        }
        try (Scope scope = Scope.open()) {
            Device dev = images.device();
            Tensor z = images.matmul(captions.transpose(0, 1)).mul(scale).reshape(b * t);
            if (e > 0) z = Tensor.cat(List.of(z, negImages.mul(captions.narrow(0, 0, b)).sum(false, 1).mul(scale)), 0);
            Tensor u = z.add(bias).mul(Tensor.of(sign, b * t + e).to(dev));
            Tensor softplus = u.relu().add(u.abs().neg().exp().log1p());
            return scope.keep(softplus.mul(Tensor.of(weight, b * t + e).to(dev)).sum());
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
