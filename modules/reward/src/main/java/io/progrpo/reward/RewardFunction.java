package io.progrpo.reward;

import io.progrpo.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Scores a batch of images with their prompts: R(x_0, c) of the GRPO objective, one number per image.
 *
 * <p>Images are a tensor [N, C, H, W] of floats with values in [0,1] (read them with {@link ImageBatch#of}); the
 * prompt list has N entries. The tensor belongs to the caller: an implementation reads it and never closes it, and
 * frees every tensor it creates itself. Implementations obtained from {@link RewardRegistry} have their outputs
 * checked ({@link RewardOutput#check}); {@link #scoreChecked} does the same for any instance.
 *
 * <p>A caller that knows the prompt groups (the expand-and-prune driver does) calls the group-aware entry point
 * {@link #score(Tensor, List, int[])}: images with equal ids were sampled for one prompt group. Its default ignores
 * the ids and calls {@link #score(Tensor, List)}; a reward that normalises within groups ({@link MultiReward}'s
 * ADVANTAGE_SUM) overrides it.
 */
public interface RewardFunction {
    /** The registry name, e.g. "jpeg_compressibility"; metrics are reported under it. */
    String name();

    /** The rewards of the N images, plus optional per-image metrics. */
    RewardOutput score(Tensor images, List<String> prompts);

    /**
     * The rewards of the N images of one or several prompt groups: {@code groupIds[i]} is the group of image i
     * (arbitrary ints; equal ids, one group). The array is the caller's: read it, do not keep or change it. The
     * default ignores the groups and calls {@link #score(Tensor, List)}.
     */
    default RewardOutput score(Tensor images, List<String> prompts, int[] groupIds) {
        return score(images, prompts);
    }

    /**
     * {@link #score} with its contract enforced: N prompts for N images on the way in, N finite scores on the way out.
     *
     * @throws IllegalArgumentException when the prompt count differs from the image count
     * @throws IllegalStateException naming this reward, the index and the value of a non-finite score, or a wrong count
     */
    default RewardOutput scoreChecked(Tensor images, List<String> prompts) {
        int n = checkInputs(name(), images, prompts);
        return checkOutput(name(), score(images, prompts), n);
    }

    /**
     * {@link #score(Tensor, List, int[])} with its contract enforced: N prompts and N group ids for N images on the
     * way in, N finite scores on the way out.
     *
     * @throws IllegalArgumentException when the prompt or group id count differs from the image count
     * @throws IllegalStateException naming this reward, the index and the value of a non-finite score, or a wrong count
     */
    default RewardOutput scoreChecked(Tensor images, List<String> prompts, int[] groupIds) {
        int n = checkInputs(name(), images, prompts, groupIds);
        return checkOutput(name(), score(images, prompts, groupIds.clone()), n);
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

    /** {@link #checkInputs(String, Tensor, List)}, and N group ids. */
    static int checkInputs(String reward, Tensor images, List<String> prompts, int[] groupIds) {
        int n = checkInputs(reward, images, prompts);
        if (groupIds == null) {
            throw new IllegalArgumentException("reward '" + reward + "' got null group ids for " + n + " images; expected one group id per image");
        }
        if (groupIds.length != n) {
            throw new IllegalArgumentException("reward '" + reward + "' got " + n + " images and " + groupIds.length
                    + " group ids " + (groupIds.length <= 16 ? Arrays.toString(groupIds) + " " : "") + "; expected one group id per image");
        }
        return n;
    }

    /** {@code out} checked against N images: not null, N finite scores and metrics, else the reward is named. */
    private static RewardOutput checkOutput(String reward, RewardOutput out, int n) {
        if (out == null) throw new IllegalStateException("reward '" + reward + "' returned null for " + n + " images");
        return out.check(reward, n);
    }
}
