package io.progrpo.world.scene;

import java.util.List;

/**
 * Whether a scene, as laid out (its objects' colours, shapes and centroids, not its pixels), satisfies a prompt, by
 * the evaluator's rules: an object of the shape (and colour); the position's or the relation's margin positive;
 * exactly the count. Rendered scenes often satisfy prompts other than their own ("a red circle at the left" also
 * shows "a circle"); the reward model's training uses this to keep such captions out of an image's negatives.
 */
public final class SceneTruth {
    private SceneTruth() {
    }

    public static boolean satisfies(Scene s, ScenePrompt p) {
        List<PlacedObject> os = s.objects();
        return switch (p.category()) {
            case SINGLE_OBJECT, COLORS -> os.stream().anyMatch(o -> matches(o, p.first()));
            case POSITION -> os.stream().anyMatch(o -> matches(o, p.first()) && p.position().margin(o.cx(), o.cy()) > 0);
            case COUNTING -> os.stream().filter(o -> matches(o, p.first())).count() == p.count();
            case TWO_OBJECT, RELATION -> {
                for (PlacedObject a : os) {
                    if (!matches(a, p.first())) continue;
                    for (PlacedObject b : os) {
                        if (a == b || !matches(b, p.second())) continue;
                        if (p.category() == Category.TWO_OBJECT || p.relation().margin(a.cx(), a.cy(), b.cx(), b.cy()) > 0) yield true;
                    }
                }
                yield false;
            }
        };
    }

    private static boolean matches(PlacedObject o, ObjectSpec spec) {
        return o.shape() == spec.shape() && (spec.color() == null || o.color() == spec.color());
    }
}
