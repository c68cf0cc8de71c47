package io.progrpo.world.scene;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The word-level tokenizer of the scene world: a fixed vocabulary of the grammar's {@link #WORD_COUNT} words, id 0
 * for padding, every prompt encoded to {@link #SEQUENCE_LENGTH} ids (its words in order, then padding). The null
 * prompt of classifier-free guidance is the all-padding row. Any text made of vocabulary words encodes (the
 * hard-negative captions of the reward model, say), so encoding does not check the grammar; {@link ScenePrompt#parse}
 * does.
 */
public final class SceneTokenizer {
    /** The padding id (and the whole null prompt). */
    public static final long PAD = 0;
    /** Ids per encoded prompt: the longest prompt of the grammar ("an orange circle left of an orange square") has 8. */
    public static final int SEQUENCE_LENGTH = 8;

    private static final List<String> WORDS;
    /** Vocabulary words, padding excluded. */
    public static final int WORD_COUNT;

    static {
        List<String> w = new ArrayList<>(List.of("a", "an", "and", "at", "the", "of", "above", "below", "two", "three", "four"));
        for (ScenePosition p : ScenePosition.values()) w.add(p.word());
        for (SceneColor c : SceneColor.values()) w.add(c.word());
        for (SceneShape s : SceneShape.values()) w.add(s.word());
        for (SceneShape s : SceneShape.values()) w.add(s.plural());
        WORDS = List.copyOf(w);
        WORD_COUNT = WORDS.size();
    }

    private SceneTokenizer() {
    }

    /** Distinct ids, padding included: the size of an embedding table over them. */
    public static int vocabularySize() {
        return WORD_COUNT + 1;
    }

    /** The vocabulary words in id order (the word of id i is element i - 1). */
    public static List<String> words() {
        return WORDS;
    }

    /** The id of a word. */
    public static long id(String word) {
        int i = WORDS.indexOf(word.toLowerCase(Locale.ROOT));
        if (i < 0) throw new IllegalArgumentException("unknown word '" + word + "'; the scene vocabulary is " + WORDS);
        return i + 1;
    }

    /** The word of an id; {@code "<pad>"} for {@link #PAD}. */
    public static String word(long id) {
        if (id == PAD) return "<pad>";
        if (id < 1 || id > WORD_COUNT) throw new IllegalArgumentException("token id must be in [0, " + vocabularySize() + "), got " + id);
        return WORDS.get((int) id - 1);
    }

    /**
     * The ids of a text: its words (lower-cased, split at anything but letters) then padding, {@link #SEQUENCE_LENGTH}
     * in all.
     *
     * @throws IllegalArgumentException for an unknown word or more than {@link #SEQUENCE_LENGTH} words
     */
    public static long[] encode(String text) {
        if (text == null) throw new IllegalArgumentException("cannot tokenize a null prompt");
        long[] ids = new long[SEQUENCE_LENGTH];
        int n = 0;
        for (String w : text.toLowerCase(Locale.ROOT).split("[^a-z]+")) {
            if (w.isEmpty()) continue;
            if (n == SEQUENCE_LENGTH) {
                throw new IllegalArgumentException("prompt '" + text + "' has more than " + SEQUENCE_LENGTH + " words, the tokenizer's sequence length");
            }
            int i = WORDS.indexOf(w);
            if (i < 0) throw new IllegalArgumentException("prompt '" + text + "' has the unknown word '" + w + "'; the scene vocabulary is " + WORDS);
            ids[n++] = i + 1;
        }
        return ids;
    }

    public static long[] encode(ScenePrompt p) {
        return encode(p.text());
    }

    /** The ids of every text, a row-major [N, SEQUENCE_LENGTH] array. */
    public static long[] encode(List<String> texts) {
        long[] out = new long[texts.size() * SEQUENCE_LENGTH];
        for (int i = 0; i < texts.size(); i++) System.arraycopy(encode(texts.get(i)), 0, out, i * SEQUENCE_LENGTH, SEQUENCE_LENGTH);
        return out;
    }

    /** The null prompt: {@link #SEQUENCE_LENGTH} padding ids. */
    public static long[] nullPrompt() {
        return new long[SEQUENCE_LENGTH];
    }

    /** The texts' ids as an int64 tensor [N, SEQUENCE_LENGTH] on {@code device} (the caller owns it). */
    public static Tensor tensor(List<String> texts, Device device) {
        try (Tensor cpu = Tensor.of(encode(texts), texts.size(), SEQUENCE_LENGTH)) {
            return cpu.to(device);
        }
    }

    /** The null prompt as an int64 tensor [1, SEQUENCE_LENGTH] on {@code device} (the caller owns it). */
    public static Tensor nullTensor(Device device) {
        try (Tensor cpu = Tensor.of(nullPrompt(), 1, SEQUENCE_LENGTH)) {
            return cpu.to(device);
        }
    }

    /** The words of {@code ids} up to the first padding, joined by spaces ("" for the null prompt). */
    public static String decode(long[] ids) {
        if (ids.length != SEQUENCE_LENGTH) throw new IllegalArgumentException("expected " + SEQUENCE_LENGTH + " ids, got " + ids.length + ": " + Arrays.toString(ids));
        StringBuilder sb = new StringBuilder();
        boolean padded = false;
        for (long id : ids) {
            if (id == PAD) {
                padded = true;
                continue;
            }
            if (padded) throw new IllegalArgumentException("a word id after padding in " + Arrays.toString(ids) + "; padding only trails");
            if (!sb.isEmpty()) sb.append(' ');
            sb.append(word(id));
        }
        return sb.toString();
    }
}
