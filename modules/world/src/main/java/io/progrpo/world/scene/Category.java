package io.progrpo.world.scene;

import java.util.Locale;

/** The prompt categories, after GenEval's: each prompt belongs to one, and the evaluator reports each. */
public enum Category {
    /** "a circle": an object of the shape, any colour. */
    SINGLE_OBJECT,
    /** "a red circle and a blue square": both objects, each with its colour. */
    TWO_OBJECT,
    /** "three green crosses": exactly that many objects of the shape and colour. */
    COUNTING,
    /** "a red circle": the object with its colour. */
    COLORS,
    /** "a red circle at the left": the object, its colour and its absolute position. */
    POSITION,
    /** "a red circle left of a blue square": both objects, their colours and the relation between them. */
    RELATION;

    /** "single_object", as GenEval's tables name it. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
