package io.progrpo.reward;

import io.progrpo.tensor.Tensor;

import java.util.List;

/**
 * Scores a batch of images with their prompts: R(x_0, c) of the GRPO objective, one number per image.
 *
 * <p>Images are a tensor [N, C, H, W] of floats with values in [0,1] (read them with {@link ImageBatch#of}); the
 * prompt list has N entries. The tensor belongs to the caller: an implementation reads it and never closes it, and
 * frees every tensor it creates itself. Implementations obtained from {@link RewardRegistry} have their outputs
 * checked ({@link RewardOutput#check}); {@link #scoreChecked} does the same for any instance.
 */
public interface RewardFunction {
    /** The registry name, e.g. "jpeg_compressibility"; metrics are reported under it. */
    String name();

    /** The rewards of the N images, plus optional per-image metrics. */
    RewardOutput score(Tensor images, List<String> prompts);

    /**
     * {@link #score} with its contract enforced: N prompts for N images on the way in, N finite scores on the way out.
     *
     * @throws IllegalArgumentException when the prompt count differs from the image count
     * @throws IllegalStateException naming this reward, the index and the value of a non-finite score, or a wrong count
     */
    default RewardOutput scoreChecked(Tensor images, List<String> prompts) {
        int n = checkInputs(name(), images, prompts);
        RewardOutput out = score(images, prompts);
        if (out == null) throw new IllegalStateException("reward '" + name() + "' returned null for " + n + " images");
        return out.check(name(), n);
    }

    /** The image count N after checking that there are N prompts; shared by the checked entry points. */
    static int checkInputs(String reward, Tensor images, List<String> prompts) {
        if (images == null) throw new IllegalArgumentException("reward '" + reward + "' got null images");
        if (prompts == null) throw new IllegalArgumentException("reward '" + reward + "' got a null prompt list");
        if (images.dim() < 1) throw new IllegalArgumentException("reward '" + reward + "' expects images [N, 3, H, W], got a scalar tensor");
        long n = images.size(0);
        if (prompts.size() != n) {
            throw new IllegalArgumentException("reward '" + reward + "' got " + n + " images and " + prompts.size() + " prompts; expected one prompt per image");
        }
        return (int) n;
    }
}
