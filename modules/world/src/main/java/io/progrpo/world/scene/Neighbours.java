package io.progrpo.world.scene;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The prompts one attribute away from a prompt: another colour or shape of one object, another position, another
 * relation (the converse among them: the objects swapped), another count. The evaluator's tests render them as
 * images that must fail the prompt; the reward model trains on them as hard-negative captions.
 */
public final class Neighbours {
    /** Which attribute a neighbour changes. */
    public enum Kind { COLOR, SHAPE, POSITION, RELATION, COUNT }

    /** A neighbouring prompt and the attribute it changes. */
    public record Neighbour(ScenePrompt prompt, Kind kind) {
    }

    private Neighbours() {
    }

    /** Every valid one-attribute neighbour of {@code p} (none equal to it), in a fixed order. */
    public static List<Neighbour> of(ScenePrompt p) {
        List<Neighbour> out = new ArrayList<>();
        List<ObjectSpec> objs = p.objects();
        for (int i = 0; i < objs.size(); i++) {
            ObjectSpec o = objs.get(i);
            if (o.color() != null) {
                for (SceneColor c : SceneColor.values()) if (c != o.color()) add(out, p, i, o.withColor(c), Kind.COLOR);
            }
            for (SceneShape s : SceneShape.values()) if (s != o.shape()) add(out, p, i, o.withShape(s), Kind.SHAPE);
        }
        if (p.category() == Category.POSITION) {
            for (ScenePosition q : ScenePosition.values()) {
                if (q != p.position()) out.add(new Neighbour(ScenePrompt.positioned(p.first().color(), p.first().shape(), q), Kind.POSITION));
            }
        }
        if (p.category() == Category.RELATION) {
            for (Relation r : Relation.values()) {
                if (r != p.relation()) out.add(new Neighbour(ScenePrompt.related(p.first(), r, p.second()), Kind.RELATION));
            }
        }
        if (p.category() == Category.COUNTING) {
            for (int n = ScenePrompt.MIN_COUNT; n <= ScenePrompt.MAX_COUNT; n++) {
                if (n != p.count()) out.add(new Neighbour(ScenePrompt.counting(n, p.first().color(), p.first().shape()), Kind.COUNT));
            }
        }
        return out;
    }

    /**
     * A random neighbour: first a kind uniformly among those {@code p} has, then a neighbour of that kind uniformly
     * (so a relation prompt's wrong relation is drawn as often as its wrong colour, though it has fewer variants).
     */
    public static Neighbour random(ScenePrompt p, Random rnd) {
        List<Neighbour> all = of(p);
        List<Kind> kinds = all.stream().map(Neighbour::kind).distinct().toList();
        Kind k = kinds.get(rnd.nextInt(kinds.size()));
        List<Neighbour> ofKind = all.stream().filter(n -> n.kind() == k).toList();
        return ofKind.get(rnd.nextInt(ofKind.size()));
    }

    private static void add(List<Neighbour> out, ScenePrompt p, int index, ObjectSpec replacement, Kind kind) {
        List<ObjectSpec> objs = new ArrayList<>(p.objects());
        objs.set(index, replacement);
        if (objs.size() == 2 && objs.get(0).equals(objs.get(1))) return;
        out.add(new Neighbour(new ScenePrompt(p.category(), objs, p.position(), p.relation(), p.count()), kind));
    }
}
