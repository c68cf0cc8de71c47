package io.progrpo.world.scene;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One prompt of the scene world, in one of six {@link Category categories}:
 * <pre>
 * single_object  "a circle"
 * colors         "a red circle"
 * position       "a red circle at the left"              (left, right, top, bottom, center)
 * two_object     "a red circle and a blue square"
 * relation       "a red circle left of a blue square"    (left of, right of, above, below)
 * counting       "three green crosses"                   (two, three, four)
 * </pre>
 * {@link #text()} writes the canonical text and {@link #parse(String)} reads it back.
 *
 * @param objects  one object, or two for two_object and relation; the first object is the relation's subject
 * @param position only for position prompts, else null
 * @param relation only for relation prompts, else null
 * @param count    the number of objects asked for: 1, or 2 to 4 for counting prompts
 */
public record ScenePrompt(Category category, List<ObjectSpec> objects, ScenePosition position, Relation relation, int count) {
    /** The smallest and largest count of a counting prompt. */
    public static final int MIN_COUNT = 2;
    public static final int MAX_COUNT = 4;
    private static final List<String> COUNT_WORDS = List.of("two", "three", "four");

    public ScenePrompt {
        Objects.requireNonNull(category, "category");
        objects = List.copyOf(Objects.requireNonNull(objects, "objects"));
        int wantObjects = category == Category.TWO_OBJECT || category == Category.RELATION ? 2 : 1;
        if (objects.size() != wantObjects) {
            throw new IllegalArgumentException(category.key() + " prompts have " + wantObjects + " object(s), got " + objects);
        }
        for (ObjectSpec o : objects) {
            if ((o.color() == null) != (category == Category.SINGLE_OBJECT)) {
                throw new IllegalArgumentException(category == Category.SINGLE_OBJECT
                        ? "single_object prompts name no colour, got " + o : category.key() + " prompts name each object's colour, got " + o);
            }
        }
        if (wantObjects == 2 && objects.get(0).equals(objects.get(1))) {
            throw new IllegalArgumentException(category.key() + " prompts need two different objects, got " + objects.get(0) + " twice");
        }
        if ((position != null) != (category == Category.POSITION)) {
            throw new IllegalArgumentException("only position prompts have a position; " + category.key() + " got " + position);
        }
        if ((relation != null) != (category == Category.RELATION)) {
            throw new IllegalArgumentException("only relation prompts have a relation; " + category.key() + " got " + relation);
        }
        if (category == Category.COUNTING ? count < MIN_COUNT || count > MAX_COUNT : count != 1) {
            throw new IllegalArgumentException(category == Category.COUNTING
                    ? "counting prompts count " + MIN_COUNT + " to " + MAX_COUNT + " objects, got " + count
                    : category.key() + " prompts have count 1, got " + count);
        }
    }

    public static ScenePrompt single(SceneShape s) {
        return new ScenePrompt(Category.SINGLE_OBJECT, List.of(new ObjectSpec(null, s)), null, null, 1);
    }

    public static ScenePrompt colored(SceneColor c, SceneShape s) {
        return new ScenePrompt(Category.COLORS, List.of(new ObjectSpec(c, s)), null, null, 1);
    }

    public static ScenePrompt positioned(SceneColor c, SceneShape s, ScenePosition p) {
        return new ScenePrompt(Category.POSITION, List.of(new ObjectSpec(c, s)), p, null, 1);
    }

    public static ScenePrompt twoObjects(ObjectSpec a, ObjectSpec b) {
        return new ScenePrompt(Category.TWO_OBJECT, List.of(a, b), null, null, 1);
    }

    public static ScenePrompt related(ObjectSpec a, Relation r, ObjectSpec b) {
        return new ScenePrompt(Category.RELATION, List.of(a, b), null, r, 1);
    }

    public static ScenePrompt counting(int n, SceneColor c, SceneShape s) {
        return new ScenePrompt(Category.COUNTING, List.of(new ObjectSpec(c, s)), null, null, n);
    }

    /** The first (or only) object. */
    public ObjectSpec first() {
        return objects.get(0);
    }

    /** The second object of two_object and relation prompts. */
    public ObjectSpec second() {
        if (objects.size() < 2) throw new IllegalStateException(category.key() + " prompt '" + text() + "' has one object");
        return objects.get(1);
    }

    /** How many objects the scene of this prompt shows: 2 for two_object and relation, the count for counting. */
    public int objectCount() {
        return category == Category.COUNTING ? count : objects.size();
    }

    /** The canonical text. */
    public String text() {
        return switch (category) {
            case SINGLE_OBJECT, COLORS -> first().phrase();
            case POSITION -> first().phrase() + " at the " + position.word();
            case TWO_OBJECT -> first().phrase() + " and " + second().phrase();
            case RELATION -> first().phrase() + " " + relation.words() + " " + second().phrase();
            case COUNTING -> COUNT_WORDS.get(count - MIN_COUNT) + " " + first().color().word() + " " + first().shape().plural();
        };
    }

    @Override
    public String toString() {
        return text();
    }

    /**
     * Reads a prompt of the grammar: case-insensitive, words separated by spaces or punctuation.
     *
     * @throws IllegalArgumentException naming the text, where it stops following the grammar and what was expected
     */
    public static ScenePrompt parse(String text) {
        Objects.requireNonNull(text, "prompt text");
        try {
            return parseWords(text);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("prompt '")) throw e;
            throw bad(text, e.getMessage());
        }
    }

    private static ScenePrompt parseWords(String text) {
        List<String> w = new ArrayList<>();
        for (String s : text.toLowerCase(Locale.ROOT).split("[^a-z]+")) if (!s.isEmpty()) w.add(s);
        if (w.isEmpty()) throw bad(text, "no words; expected e.g. 'a red circle at the left'");
        int countIdx = COUNT_WORDS.indexOf(w.get(0));
        if (countIdx >= 0) {
            if (w.size() != 3) throw bad(text, "a counting prompt is '<two|three|four> <colour> <shapes>'");
            SceneColor c = SceneColor.of(w.get(1)).orElseThrow(() -> bad(text, "'" + w.get(1) + "' is not a colour " + SceneGrammar.colorWords()));
            SceneShape s = SceneShape.of(w.get(2)).filter(x -> x.plural().equals(w.get(2)))
                    .orElseThrow(() -> bad(text, "'" + w.get(2) + "' is not a plural shape " + SceneGrammar.pluralWords()));
            return counting(countIdx + MIN_COUNT, c, s);
        }
        int[] at = {0};
        ObjectSpec a = object(text, w, at);
        if (at[0] == w.size()) return a.color() == null ? single(a.shape()) : colored(a.color(), a.shape());
        if (a.color() == null) throw bad(text, "only a lone object ('a circle') may leave out its colour");
        String next = w.get(at[0]);
        if (next.equals("at")) {
            if (w.size() != at[0] + 3 || !w.get(at[0] + 1).equals("the")) throw bad(text, "expected 'at the <position>' at the end");
            ScenePosition p = ScenePosition.of(w.get(at[0] + 2))
                    .orElseThrow(() -> bad(text, "'" + w.get(at[0] + 2) + "' is not a position " + SceneGrammar.positionWords()));
            return positioned(a.color(), a.shape(), p);
        }
        if (next.equals("and")) {
            at[0]++;
            ObjectSpec b = colouredObject(text, w, at);
            return twoObjects(a, b);
        }
        Relation r;
        if ((next.equals("left") || next.equals("right")) && at[0] + 1 < w.size() && w.get(at[0] + 1).equals("of")) {
            r = Relation.of(next + " of").orElseThrow();
            at[0] += 2;
        } else if (next.equals("above") || next.equals("below")) {
            r = Relation.of(next).orElseThrow();
            at[0]++;
        } else {
            throw bad(text, "after '" + a.phrase() + "' expected the end, 'at the <position>', 'and <object>' or a relation "
                    + SceneGrammar.relationWords() + ", got '" + next + "'");
        }
        ObjectSpec b = colouredObject(text, w, at);
        return related(a, r, b);
    }

    private static ObjectSpec colouredObject(String text, List<String> w, int[] at) {
        ObjectSpec b = object(text, w, at);
        if (b.color() == null) throw bad(text, "the second object needs a colour, got '" + b.phrase() + "'");
        if (at[0] != w.size()) throw bad(text, "unexpected words after '" + b.phrase() + "': " + w.subList(at[0], w.size()));
        return b;
    }

    /** "a|an [colour] shape" starting at at[0]; advances at[0]. */
    private static ObjectSpec object(String text, List<String> w, int[] at) {
        int i = at[0];
        if (i >= w.size() || !(w.get(i).equals("a") || w.get(i).equals("an"))) {
            throw bad(text, "expected 'a' or 'an' at word " + (i + 1) + ", got " + (i < w.size() ? "'" + w.get(i) + "'" : "the end"));
        }
        i++;
        if (i >= w.size()) throw bad(text, "expected a colour or a shape after '" + w.get(i - 1) + "'");
        SceneColor c = SceneColor.of(w.get(i)).orElse(null);
        if (c != null) i++;
        if (i >= w.size()) throw bad(text, "expected a shape " + SceneGrammar.shapeWords() + " at the end");
        String sw = w.get(i);
        SceneShape s = SceneShape.of(sw).filter(x -> x.word().equals(sw))
                .orElseThrow(() -> bad(text, "'" + sw + "' is not a " + (c == null ? "colour " + SceneGrammar.colorWords() + " or a " : "")
                        + "shape " + SceneGrammar.shapeWords()));
        at[0] = i + 1;
        return new ObjectSpec(c, s);
    }

    private static IllegalArgumentException bad(String text, String what) {
        return new IllegalArgumentException("prompt '" + text + "' is not in the scene grammar: " + what);
    }
}
