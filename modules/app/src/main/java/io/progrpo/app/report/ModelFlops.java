package io.progrpo.app.report;

import java.util.Map;

/**
 * Model FLOPs of an epoch from its metrics row, as the paper counts compute (its Table 1: the generator's forward and
 * backward passes, classifier-free guidance included), plus the decoder passes that turn previews and final latents
 * into images. A forward is 2 FLOPs per multiply-accumulate; a backward costs two forwards; with guidance and a
 * detached unconditional branch, half of the training NFE (the unconditional rows) are forwards without backward.
 * The reward model's own cost is not counted (the paper does not either).
 *
 * <pre>
 *   sampling = (nfe_sampling + shadow_nfe) x 2 F          (shadow_nfe: the epoch's shadow group, when it has one)
 *   training = nfe_grad x 3 x 2 F + nfe_nograd x 2 F      (nfe_grad = nfe_training / 2 when detached CFG, else all)
 *   decoding = rewarded_images x 2 D                        (previews and final images)
 * </pre>
 *
 * @param forwardMacsPerRow   F: multiply-accumulates of one generator forward of one row (text encoder included)
 * @param decoderMacsPerImage D: of decoding one image (0 for a world without a decoder, such as the pixel world)
 * @param cfg                 classifier-free guidance on (w != 1)
 * @param detachUncond        the unconditional branch trained without gradient
 */
public record ModelFlops(long forwardMacsPerRow, long decoderMacsPerImage, boolean cfg, boolean detachUncond) {
    public ModelFlops {
        if (forwardMacsPerRow <= 0) throw new IllegalArgumentException("forwardMacsPerRow must be > 0, got " + forwardMacsPerRow);
        if (decoderMacsPerImage < 0) throw new IllegalArgumentException("decoderMacsPerImage must be >= 0, got " + decoderMacsPerImage);
    }

    /** {sampling, training, decoding} FLOPs of the epoch whose metrics row is {@code m} (missing counters count 0). */
    public double[] parts(Map<String, Object> m) {
        double fwd = 2.0 * forwardMacsPerRow;
        double nfeT = num(m, "nfe_training");
        double withGrad = cfg && detachUncond ? nfeT / 2 : nfeT;
        return new double[] {(num(m, "nfe_sampling") + num(m, "shadow_nfe")) * fwd, withGrad * 3 * fwd + (nfeT - withGrad) * fwd,
                num(m, "rewarded_images") * 2.0 * decoderMacsPerImage};
    }

    /** The epoch's total model FLOPs. */
    public double epoch(Map<String, Object> m) {
        double[] p = parts(m);
        return p[0] + p[1] + p[2];
    }

    private static double num(Map<String, Object> m, String k) {
        return m.get(k) instanceof Number v ? v.doubleValue() : 0;
    }
}
