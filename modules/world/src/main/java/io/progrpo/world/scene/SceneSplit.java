package io.progrpo.world.scene;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A seeded train / held-out split of {@link SceneGrammar#all()} into unseen combinations (compositional
 * generalisation, as GenEval measures it): every word occurs in training, but
 * <ul>
 *   <li>{@link #HELD_OUT_PAIRS} colour-shape pairings, one per shape and each of another colour (e.g. "red
 *       triangle"), occur only in held-out prompts: every prompt with such an object is held out;</li>
 *   <li>{@value #HELD_OUT_ARRANGEMENTS} spatial arrangements of two different shapes (e.g. circle left of square)
 *       occur only in held-out relation prompts, in both phrasings ("a ... circle left of a ... square" and "a ...
 *       square right of a ... circle").</li>
 * </ul>
 * single_object prompts ("a circle") name no combination, so all of them are training prompts;
 * {@link #evalPrompts(int)} adds them to the held-out ones so that the per-category table has every category.
 */
public final class SceneSplit {
    /** The split the scene world uses (the reward model's default trains on its training prompts). */
    public static final long DEFAULT_SEED = 7;
    /** Colour-shape pairs seen only in held-out prompts. */
    public static final int HELD_OUT_PAIRS = SceneShape.values().length;
    /** Shape arrangements (shape, relation, other shape, with the converse) seen only in held-out relation prompts. */
    public static final int HELD_OUT_ARRANGEMENTS = 3;

    /** (subject shape, relation, object shape): a spatial arrangement of two shapes. */
    public record Arrangement(SceneShape subject, Relation relation, SceneShape object) {
        public Arrangement converse() {
            return new Arrangement(object, relation.converse(), subject);
        }
    }

    private final long seed;
    private final Set<ObjectSpec> heldOutPairs;
    private final Set<Arrangement> heldOutArrangements;
    private final List<ScenePrompt> train;
    private final List<ScenePrompt> heldOut;
    private final Map<Category, List<ScenePrompt>> trainByCategory = new EnumMap<>(Category.class);

    private SceneSplit(long seed) {
        this.seed = seed;
        Random rnd = new Random(seed);
        List<SceneColor> colors = new ArrayList<>(List.of(SceneColor.values()));
        Collections.shuffle(colors, rnd);
        Set<ObjectSpec> pairs = new LinkedHashSet<>();
        SceneShape[] shapes = SceneShape.values();
        for (int i = 0; i < shapes.length; i++) pairs.add(new ObjectSpec(colors.get(i), shapes[i]));
        List<Arrangement> candidates = new ArrayList<>();
        for (SceneShape a : shapes) {
            for (Relation r : Relation.values()) for (SceneShape b : shapes) if (a != b) candidates.add(new Arrangement(a, r, b));
        }
        Collections.shuffle(candidates, rnd);
        Set<Arrangement> arr = new LinkedHashSet<>();
        for (Arrangement a : candidates) {
            if (arr.size() == 2 * HELD_OUT_ARRANGEMENTS) break;
            if (arr.contains(a)) continue;
            arr.add(a);
            arr.add(a.converse());
        }
        this.heldOutPairs = Collections.unmodifiableSet(pairs);
        this.heldOutArrangements = Collections.unmodifiableSet(arr);
        List<ScenePrompt> tr = new ArrayList<>();
        List<ScenePrompt> ho = new ArrayList<>();
        for (Category c : Category.values()) trainByCategory.put(c, new ArrayList<>());
        for (ScenePrompt p : SceneGrammar.all()) {
            if (isHeldOut(p)) {
                ho.add(p);
            } else {
                tr.add(p);
                trainByCategory.get(p.category()).add(p);
            }
        }
        this.train = List.copyOf(tr);
        this.heldOut = List.copyOf(ho);
        trainByCategory.replaceAll((k, v) -> List.copyOf(v));
    }

    /** The split of this seed; the same seed always gives the same split. */
    public static SceneSplit of(long seed) {
        return new SceneSplit(seed);
    }

    public long seed() {
        return seed;
    }

    /** Whether the prompt holds a held-out pairing or arrangement. */
    public boolean isHeldOut(ScenePrompt p) {
        for (ObjectSpec o : p.objects()) if (o.color() != null && heldOutPairs.contains(o)) return true;
        return p.category() == Category.RELATION
                && heldOutArrangements.contains(new Arrangement(p.first().shape(), p.relation(), p.second().shape()));
    }

    /** The colour-shape pairs seen only in held-out prompts. */
    public Set<ObjectSpec> heldOutPairs() {
        return heldOutPairs;
    }

    /** The arrangements seen only in held-out relation prompts (each with its converse). */
    public Set<Arrangement> heldOutArrangements() {
        return heldOutArrangements;
    }

    /** The training prompts, in grammar order. */
    public List<ScenePrompt> train() {
        return train;
    }

    /** The held-out prompts (no single_object prompt among them), in grammar order. */
    public List<ScenePrompt> heldOut() {
        return heldOut;
    }

    public List<ScenePrompt> train(Category c) {
        return trainByCategory.get(c);
    }

    public List<ScenePrompt> heldOut(Category c) {
        return heldOut.stream().filter(p -> p.category() == c).toList();
    }

    /**
     * A training prompt drawn category-balanced: a category uniformly, then one of its training prompts uniformly
     * (so the 4 single_object prompts are drawn as often as the thousands of relation prompts together).
     */
    public ScenePrompt drawTrain(Random rnd) {
        Category c = Category.values()[rnd.nextInt(Category.values().length)];
        List<ScenePrompt> l = trainByCategory.get(c);
        return l.get(rnd.nextInt(l.size()));
    }

    /**
     * An evaluation list balanced over categories: up to {@code perCategory} held-out prompts of each category
     * (a seeded choice, the same for every call) plus the single_object prompts (up to {@code perCategory}), which
     * are training prompts (see the class comment). Grouped by category in {@link Category} order.
     */
    public List<ScenePrompt> evalPrompts(int perCategory) {
        if (perCategory < 1) throw new IllegalArgumentException("perCategory must be >= 1, got " + perCategory);
        List<ScenePrompt> out = new ArrayList<>();
        for (Category c : Category.values()) {
            List<ScenePrompt> pool = new ArrayList<>(c == Category.SINGLE_OBJECT ? trainByCategory.get(c) : heldOut(c));
            Collections.shuffle(pool, new Random(seed * 31 + c.ordinal()));
            out.addAll(pool.subList(0, Math.min(perCategory, pool.size())));
        }
        return out;
    }
}
