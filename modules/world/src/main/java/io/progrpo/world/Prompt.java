package io.progrpo.world;

import io.progrpo.world.Vocabulary.Color;
import io.progrpo.world.Vocabulary.Position;
import io.progrpo.world.Vocabulary.Shape;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/** One prompt of the benchmark world: "a red circle at the left". */
public record Prompt(Color color, Shape shape, Position position) {
    /** Words that carry no attribute and are skipped by {@link #parse(String)}. */
    private static final Set<String> FILLERS = Set.of("a", "an", "the", "at", "in", "on", "of", "to");

    public Prompt {
        Objects.requireNonNull(color, "color");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(position, "position");
    }

    /** The canonical text, "a red circle at the left"; {@link #parse(String)} reads it back. */
    public String text() {
        return "a " + color.word() + " " + shape.word() + " at the " + position.word();
    }

    @Override
    public String toString() {
        return text();
    }

    /** This prompt with another color. */
    public Prompt withColor(Color c) {
        return new Prompt(c, shape, position);
    }

    public Prompt withShape(Shape s) {
        return new Prompt(color, s, position);
    }

    public Prompt withPosition(Position p) {
        return new Prompt(color, shape, p);
    }

    /**
     * Parses a prompt: case-insensitive, words separated by spaces or punctuation, filler words (a, the, at, ...)
     * ignored, exactly one color, one shape and one position in any order.
     *
     * @throws IllegalArgumentException naming the unknown, duplicate or missing word and listing the vocabulary
     */
    public static Prompt parse(String text) {
        Objects.requireNonNull(text, "prompt text");
        Color color = null;
        Shape shape = null;
        Position position = null;
        for (String raw : text.toLowerCase(Locale.ROOT).split("[^a-z]+")) {
            if (raw.isEmpty() || FILLERS.contains(raw)) continue;
            var c = Vocabulary.color(raw);
            var s = Vocabulary.shape(raw);
            var p = Vocabulary.position(raw);
            if (c.isPresent()) {
                if (color != null) throw bad(text, "two colors ('" + color.word() + "' and '" + raw + "')");
                color = c.get();
            } else if (s.isPresent()) {
                if (shape != null) throw bad(text, "two shapes ('" + shape.word() + "' and '" + raw + "')");
                shape = s.get();
            } else if (p.isPresent()) {
                if (position != null) throw bad(text, "two positions ('" + position.word() + "' and '" + raw + "')");
                position = p.get();
            } else {
                throw bad(text, "unknown word '" + raw + "'");
            }
        }
        if (color == null) throw bad(text, "no color");
        if (shape == null) throw bad(text, "no shape");
        if (position == null) throw bad(text, "no position");
        return new Prompt(color, shape, position);
    }

    private static IllegalArgumentException bad(String text, String what) {
        return new IllegalArgumentException("cannot parse prompt '" + text + "': " + what + "; expected one word of each of "
                + Vocabulary.describe());
    }
}
