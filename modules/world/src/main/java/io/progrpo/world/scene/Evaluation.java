package io.progrpo.world.scene;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The evaluator's verdict on one image for one prompt.
 *
 * @param success GenEval's binary rule: every required object, attribute and relation is right
 * @param score   partial credit in [0, 1]: the mean of the soft checks (each above 0.5 exactly when its binary check
 *                passes) for the best assignment of detected objects to the prompt's objects
 * @param checks  the soft checks of that assignment by name ("shape", "color", "position", "shape2", "color2",
 *                "relation", "count")
 * @param objects what the detector found
 */
public record Evaluation(ScenePrompt prompt, boolean success, double score, Map<String, Double> checks, List<DetectedObject> objects) {
    public Evaluation {
        Objects.requireNonNull(prompt, "prompt");
        checks = Map.copyOf(checks);
        objects = List.copyOf(objects);
    }

    public Category category() {
        return prompt.category();
    }

    /** The soft value of a check, NaN when this prompt has no such check. */
    public double check(String name) {
        Double v = checks.get(name);
        return v == null ? Double.NaN : v;
    }
}
