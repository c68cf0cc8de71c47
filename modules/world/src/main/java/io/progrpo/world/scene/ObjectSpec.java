package io.progrpo.world.scene;

import java.util.Objects;

/**
 * One object a prompt asks for: a shape and, except in single-object prompts, a colour.
 *
 * @param color null for "any colour" ("a circle")
 */
public record ObjectSpec(SceneColor color, SceneShape shape) {
    public ObjectSpec {
        Objects.requireNonNull(shape, "shape");
    }

    /** "a red circle", "an orange square", "a circle". */
    public String phrase() {
        if (color == null) return "a " + shape.word();
        String c = color.word();
        return (startsWithVowel(c) ? "an " : "a ") + c + " " + shape.word();
    }

    public ObjectSpec withColor(SceneColor c) {
        return new ObjectSpec(c, shape);
    }

    public ObjectSpec withShape(SceneShape s) {
        return new ObjectSpec(color, s);
    }

    static boolean startsWithVowel(String w) {
        return "aeiou".indexOf(w.charAt(0)) >= 0;
    }

    @Override
    public String toString() {
        return phrase();
    }
}
