package io.progrpo.trainer;

import io.progrpo.tensor.Tensor;

import java.util.List;
import java.util.Map;

/**
 * A second judge of the evaluation samples, never trained on: the GenEval-style rule-based evaluator of the scene
 * world, for example, beside the learned reward a run trains on, so that gains on the training reward which the
 * held-out judge does not confirm (reward hacking) show in the metrics. {@link TrainingRun#heldOut} calls it on the
 * same decoded images the evaluation reward scores, once per evaluation; the metrics row gets the map under
 * {@code eval_<name>}.
 */
public interface HeldOutEvaluation {
    /** The metrics key suffix ({@code eval_<name>}): lower case letters, digits and underscores. */
    String name();

    /** The headline value (logged beside the eval reward), one of {@link #evaluate}'s keys. */
    String headline();

    /**
     * Named figures of the images (decoded, in [0, 1], one per prompt), for example the mean success per category and
     * {@code overall}; every value finite or NaN (a category without images).
     */
    Map<String, Double> evaluate(Tensor images, List<String> prompts);
}
