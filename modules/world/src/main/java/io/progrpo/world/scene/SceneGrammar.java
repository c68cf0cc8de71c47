package io.progrpo.world.scene;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Every prompt of the scene world, in a fixed order: 4 single_object, 28 colors, 140 position, 756 two_object
 * (ordered pairs of different objects), 3024 relation and 84 counting prompts, 4036 in all.
 */
public final class SceneGrammar {
    private static final List<ScenePrompt> ALL;
    private static final Map<Category, List<ScenePrompt>> BY_CATEGORY;

    static {
        Map<Category, List<ScenePrompt>> by = new EnumMap<>(Category.class);
        for (Category c : Category.values()) by.put(c, new ArrayList<>());
        List<ObjectSpec> objects = new ArrayList<>();
        for (SceneColor c : SceneColor.values()) for (SceneShape s : SceneShape.values()) objects.add(new ObjectSpec(c, s));
        for (SceneShape s : SceneShape.values()) by.get(Category.SINGLE_OBJECT).add(ScenePrompt.single(s));
        for (ObjectSpec o : objects) by.get(Category.COLORS).add(ScenePrompt.colored(o.color(), o.shape()));
        for (ObjectSpec o : objects) {
            for (ScenePosition p : ScenePosition.values()) by.get(Category.POSITION).add(ScenePrompt.positioned(o.color(), o.shape(), p));
        }
        for (ObjectSpec a : objects) {
            for (ObjectSpec b : objects) if (!a.equals(b)) by.get(Category.TWO_OBJECT).add(ScenePrompt.twoObjects(a, b));
        }
        for (ObjectSpec a : objects) {
            for (Relation r : Relation.values()) {
                for (ObjectSpec b : objects) if (!a.equals(b)) by.get(Category.RELATION).add(ScenePrompt.related(a, r, b));
            }
        }
        for (int n = ScenePrompt.MIN_COUNT; n <= ScenePrompt.MAX_COUNT; n++) {
            for (ObjectSpec o : objects) by.get(Category.COUNTING).add(ScenePrompt.counting(n, o.color(), o.shape()));
        }
        List<ScenePrompt> all = new ArrayList<>();
        Map<Category, List<ScenePrompt>> frozen = new EnumMap<>(Category.class);
        for (Category c : Category.values()) {
            all.addAll(by.get(c));
            frozen.put(c, List.copyOf(by.get(c)));
        }
        ALL = List.copyOf(all);
        BY_CATEGORY = Collections.unmodifiableMap(frozen);
    }

    private SceneGrammar() {
    }

    /** Every prompt, category by category in {@link Category} order. */
    public static List<ScenePrompt> all() {
        return ALL;
    }

    /** The prompts of one category, in the order of {@link #all()}. */
    public static List<ScenePrompt> of(Category c) {
        return BY_CATEGORY.get(c);
    }

    static String colorWords() {
        return Arrays.stream(SceneColor.values()).map(SceneColor::word).toList().toString();
    }

    static String shapeWords() {
        return Arrays.stream(SceneShape.values()).map(SceneShape::word).toList().toString();
    }

    static String pluralWords() {
        return Arrays.stream(SceneShape.values()).map(SceneShape::plural).toList().toString();
    }

    static String positionWords() {
        return Arrays.stream(ScenePosition.values()).map(ScenePosition::word).toList().toString();
    }

    static String relationWords() {
        return Arrays.stream(Relation.values()).map(Relation::words).toList().toString();
    }
}
