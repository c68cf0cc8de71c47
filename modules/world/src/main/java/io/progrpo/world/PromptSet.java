package io.progrpo.world;

import io.progrpo.world.Vocabulary.Color;
import io.progrpo.world.Vocabulary.Position;
import io.progrpo.world.Vocabulary.Shape;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * All 120 prompts of the world and a seeded train / held-out split. The held-out prompts are unseen combinations of
 * words that all occur in training (every color, shape and position keeps at least one training prompt), so
 * held-out scores measure compositional generalisation.
 */
public final class PromptSet {
    /** Default held-out fraction: 24 of 120 prompts. */
    public static final double DEFAULT_HELD_OUT_FRACTION = 0.2;

    private static final List<Prompt> ALL;

    static {
        List<Prompt> all = new ArrayList<>();
        for (Color c : Color.values()) {
            for (Shape s : Shape.values()) {
                for (Position p : Position.values()) all.add(new Prompt(c, s, p));
            }
        }
        ALL = List.copyOf(all);
    }

    private final long seed;
    private final List<Prompt> train;
    private final List<Prompt> heldOut;

    private PromptSet(long seed, List<Prompt> train, List<Prompt> heldOut) {
        this.seed = seed;
        this.train = train;
        this.heldOut = heldOut;
    }

    /** Every prompt, in a fixed order (color-major, then shape, then position). */
    public static List<Prompt> all() {
        return ALL;
    }

    /** The split with the default held-out fraction. */
    public static PromptSet split(long seed) {
        return split(seed, DEFAULT_HELD_OUT_FRACTION);
    }

    /**
     * A deterministic split: the prompts are shuffled with {@code new Random(seed)} and taken in that order into the
     * held-out set, skipping any whose removal would leave a color, shape or position without a training prompt.
     *
     * @param heldOutFraction in [0, 0.5]
     */
    public static PromptSet split(long seed, double heldOutFraction) {
        if (!(heldOutFraction >= 0 && heldOutFraction <= 0.5)) {
            throw new IllegalArgumentException("heldOutFraction must be in [0, 0.5], got " + heldOutFraction);
        }
        int want = (int) Math.round(ALL.size() * heldOutFraction);
        List<Prompt> order = new ArrayList<>(ALL);
        Collections.shuffle(order, new Random(seed));
        int[] colorLeft = new int[Color.values().length];
        int[] shapeLeft = new int[Shape.values().length];
        int[] posLeft = new int[Position.values().length];
        for (Prompt p : ALL) {
            colorLeft[p.color().ordinal()]++;
            shapeLeft[p.shape().ordinal()]++;
            posLeft[p.position().ordinal()]++;
        }
        List<Prompt> held = new ArrayList<>();
        for (Prompt p : order) {
            if (held.size() == want) break;
            if (colorLeft[p.color().ordinal()] > 1 && shapeLeft[p.shape().ordinal()] > 1 && posLeft[p.position().ordinal()] > 1) {
                held.add(p);
                colorLeft[p.color().ordinal()]--;
                shapeLeft[p.shape().ordinal()]--;
                posLeft[p.position().ordinal()]--;
            }
        }
        List<Prompt> train = new ArrayList<>(ALL);
        train.removeAll(held);
        held.sort((a, b) -> Integer.compare(ALL.indexOf(a), ALL.indexOf(b)));
        return new PromptSet(seed, List.copyOf(train), List.copyOf(held));
    }

    public long seed() {
        return seed;
    }

    /** Training prompts, in the fixed order of {@link #all()}. */
    public List<Prompt> train() {
        return train;
    }

    /** Held-out prompts, in the fixed order of {@link #all()}. */
    public List<Prompt> heldOut() {
        return heldOut;
    }
}
