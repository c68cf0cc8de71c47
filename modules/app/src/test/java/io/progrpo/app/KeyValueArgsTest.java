package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The measurement mains' argument parsing: known keys with defaults, the rest as overrides, errors that name the key. */
class KeyValueArgsTest {
    @Test
    void knownKeysAreTakenAndTheRestPassOnInOrder() {
        KeyValueArgs kv = KeyValueArgs.parse("groups=8", "lr=1e-4", "preset=pro-grpo+quick", "seed=7", "groupSize=12");
        assertEquals(8, kv.integer("groups", 16));
        assertEquals(7L, kv.longValue("seed", 1));
        assertEquals("pro-grpo+quick", kv.string("preset", "flow-grpo"));
        assertEquals(-1, kv.integer("groupsPerRun", -1), "absent: the default");
        assertTrue(kv.has("lr"));
        assertFalse(kv.has("groups"), "a taken key is no longer among the rest");
        assertEquals(List.of("lr=1e-4", "groupSize=12"), kv.rest());
    }

    @Test
    void aValueMayHoldEqualsSignsAndALaterKeyWins() {
        KeyValueArgs kv = KeyValueArgs.parse("pruneSchedule=48>24@5", "note=a=b", "pruneSchedule=48>12@9");
        assertEquals("a=b", kv.string("note", null));
        assertEquals(List.of("pruneSchedule=48>12@9"), kv.rest());
    }

    @Test
    void badArgumentsNameWhatWasExpected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KeyValueArgs.parse("groups"));
        assertEquals("arguments are key=value, got 'groups'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KeyValueArgs.parse("=3"));
        KeyValueArgs kv = KeyValueArgs.parse("groups=many", "lr=fast", "seed=1.5");
        assertEquals("groups: expected an integer, got 'many'", assertThrows(IllegalArgumentException.class, () -> kv.integer("groups", 1)).getMessage());
        assertEquals("lr: expected a number, got 'fast'", assertThrows(IllegalArgumentException.class, () -> kv.number("lr", 1)).getMessage());
        assertEquals("seed: expected an integer, got '1.5'", assertThrows(IllegalArgumentException.class, () -> kv.longValue("seed", 1)).getMessage());
    }
}
