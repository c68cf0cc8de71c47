package io.progrpo.world.scene;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

class SceneTokenizerTest {
    @Test
    void everyPromptEncodesToItsWordsThenPaddingAndDecodesBack() {
        Set<String> seen = new HashSet<>();
        for (ScenePrompt p : SceneGrammar.all()) {
            long[] ids = SceneTokenizer.encode(p);
            assertEquals(SceneTokenizer.SEQUENCE_LENGTH, ids.length);
            String[] words = p.text().split(" ");
            for (int i = 0; i < ids.length; i++) {
                if (i < words.length) {
                    assertTrue(ids[i] >= 1 && ids[i] < SceneTokenizer.vocabularySize());
                    assertEquals(words[i], SceneTokenizer.word(ids[i]));
                } else {
                    assertEquals(SceneTokenizer.PAD, ids[i]);
                }
            }
            assertEquals(p.text(), SceneTokenizer.decode(ids));
            assertTrue(seen.add(java.util.Arrays.toString(ids)), "two prompts share ids: " + p);
        }
        assertEquals(SceneTokenizer.WORD_COUNT + 1, SceneTokenizer.vocabularySize());
        assertEquals(SceneTokenizer.WORD_COUNT, new HashSet<>(SceneTokenizer.words()).size());
        assertArrayEquals(new long[SceneTokenizer.SEQUENCE_LENGTH], SceneTokenizer.nullPrompt());
        assertEquals("", SceneTokenizer.decode(SceneTokenizer.nullPrompt()));
    }

    @Test
    void longestPromptFillsTheSequence() {
        int longest = SceneGrammar.all().stream().mapToInt(p -> p.text().split(" ").length).max().orElseThrow();
        assertEquals(SceneTokenizer.SEQUENCE_LENGTH, longest);
    }

    @Test
    void badInputNamesWhatWasExpected() {
        var e = assertThrows(IllegalArgumentException.class, () -> SceneTokenizer.encode("a red blob"));
        assertTrue(e.getMessage().contains("'blob'") && e.getMessage().contains("vocabulary"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SceneTokenizer.encode("a red circle and a red circle and a blue square"));
        assertTrue(e.getMessage().contains("more than 8 words"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SceneTokenizer.encode((String) null));
        e = assertThrows(IllegalArgumentException.class, () -> SceneTokenizer.word(SceneTokenizer.vocabularySize()));
        assertTrue(e.getMessage().contains("[0, " + SceneTokenizer.vocabularySize() + ")"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SceneTokenizer.decode(new long[] {1, 0, 2, 0, 0, 0, 0, 0}));
        assertTrue(e.getMessage().contains("after padding"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SceneTokenizer.decode(new long[3]));
    }

    @Test
    void tensorsAreInt64RowsAndTheNullRowIsPadding() {
        try (Scope scope = Scope.open()) {
            Tensor t = SceneTokenizer.tensor(List.of("a circle", "two red circles"), Device.CPU);
            assertEquals(DType.INT64, t.dtype());
            assertArrayEquals(new long[] {2, SceneTokenizer.SEQUENCE_LENGTH}, t.shape());
            long[] v = t.toLongArray();
            assertEquals(SceneTokenizer.id("a"), v[0]);
            assertEquals(SceneTokenizer.id("circles"), v[SceneTokenizer.SEQUENCE_LENGTH + 2]);
            Tensor n = SceneTokenizer.nullTensor(Device.CPU);
            assertArrayEquals(new long[] {1, SceneTokenizer.SEQUENCE_LENGTH}, n.shape());
            assertArrayEquals(new long[SceneTokenizer.SEQUENCE_LENGTH], n.toLongArray());
        }
    }
}
