package io.progrpo.world;

import io.progrpo.world.Vocabulary.Color;
import io.progrpo.world.Vocabulary.Position;
import io.progrpo.world.Vocabulary.Shape;

import java.util.List;

/**
 * A fixed word-to-id map over the world's vocabulary. Id 0 is padding; colors take ids 1..6, shapes 7..10, positions
 * 11..15 (in {@link Vocabulary} order). A prompt encodes to {@link #SEQUENCE_LENGTH} ids: color, shape, position.
 */
public final class Tokenizer {
    public static final long PAD = 0;
    /** Ids per encoded prompt: color, shape, position. */
    public static final int SEQUENCE_LENGTH = 3;

    private static final int COLOR_BASE = 1;
    private static final int SHAPE_BASE = COLOR_BASE + Color.values().length;
    private static final int POSITION_BASE = SHAPE_BASE + Shape.values().length;
    private static final int VOCABULARY_SIZE = POSITION_BASE + Position.values().length;
    private static final List<String> WORDS = Vocabulary.words();

    private Tokenizer() {
    }

    /** Number of distinct ids, padding included (16): the size of the generator's embedding table. */
    public static int vocabularySize() {
        return VOCABULARY_SIZE;
    }

    /** The id of a vocabulary word. */
    public static long id(String word) {
        int i = WORDS.indexOf(word.toLowerCase(java.util.Locale.ROOT));
        if (i < 0) throw new IllegalArgumentException("unknown word '" + word + "'; vocabulary: " + Vocabulary.describe());
        return i + 1;
    }

    /** The word of an id; {@code "<pad>"} for {@link #PAD}. */
    public static String word(long id) {
        if (id == PAD) return "<pad>";
        if (id < 1 || id >= VOCABULARY_SIZE) throw new IllegalArgumentException("token id must be in [0, " + VOCABULARY_SIZE + "), got " + id);
        return WORDS.get((int) id - 1);
    }

    /** [color id, shape id, position id]. */
    public static long[] encode(Prompt p) {
        return new long[] {COLOR_BASE + p.color().ordinal(), SHAPE_BASE + p.shape().ordinal(), POSITION_BASE + p.position().ordinal()};
    }

    /** The ids of every prompt, concatenated: a row-major [N, SEQUENCE_LENGTH] array. */
    public static long[] encode(List<Prompt> prompts) {
        long[] out = new long[prompts.size() * SEQUENCE_LENGTH];
        for (int i = 0; i < prompts.size(); i++) System.arraycopy(encode(prompts.get(i)), 0, out, i * SEQUENCE_LENGTH, SEQUENCE_LENGTH);
        return out;
    }

    /** Parses and encodes a prompt text. */
    public static long[] encode(String text) {
        return encode(Prompt.parse(text));
    }

    /** The inverse of {@link #encode(Prompt)}. */
    public static Prompt decode(long[] ids) {
        if (ids.length != SEQUENCE_LENGTH) {
            throw new IllegalArgumentException("expected " + SEQUENCE_LENGTH + " ids (color, shape, position), got " + ids.length);
        }
        long c = ids[0] - COLOR_BASE;
        long s = ids[1] - SHAPE_BASE;
        long p = ids[2] - POSITION_BASE;
        if (c < 0 || c >= Color.values().length) throw new IllegalArgumentException("id " + ids[0] + " is not a color");
        if (s < 0 || s >= Shape.values().length) throw new IllegalArgumentException("id " + ids[1] + " is not a shape");
        if (p < 0 || p >= Position.values().length) throw new IllegalArgumentException("id " + ids[2] + " is not a position");
        return new Prompt(Color.values()[(int) c], Shape.values()[(int) s], Position.values()[(int) p]);
    }
}
