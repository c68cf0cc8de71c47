package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Every field of state.json is validated: a bad value is an error naming the file, the field, the expectation and the value. */
class CheckpointStateTest {
    static final Path FILE = Path.of("run", "checkpoint", "state.json");

    static String state(String epoch, String elapsed, String groups, String config) {
        StringBuilder s = new StringBuilder("{");
        if (epoch != null) s.append("\"epoch\":").append(epoch).append(',');
        if (elapsed != null) s.append("\"elapsed_seconds\":").append(elapsed).append(',');
        if (groups != null) s.append("\"groups_per_step\":").append(groups).append(',');
        if (config != null) s.append("\"config\":").append(config).append(',');
        return s.substring(0, s.length() - 1) + "}";
    }

    static final String CONFIG = "{\"method\":\"flow-grpo\",\"epochs\":5}";

    @Test
    void aValidStateIsRead() throws IOException {
        CheckpointState s = CheckpointState.parse(FILE, state("3", "12.5", "2", CONFIG));
        assertEquals(3, s.epoch());
        assertEquals(12.5, s.elapsedSeconds());
        assertEquals(2, s.groupsPerStep());
        assertEquals("flow-grpo", s.config().get("method").asText());
        assertNull(CheckpointState.parse(FILE, state("0", "0", null, CONFIG)).groupsPerStep(), "older checkpoints have no groups_per_step");
        assertEquals(4, CheckpointState.parse(FILE, state("4", "1", null, CONFIG)).epoch(), "the last epoch of the run");
    }

    @Test
    void everyBadValueIsNamed() {
        // {state.json text, the field, a piece of the expectation, what came}
        List<String[]> bad = List.of(
                new String[] {state("-1", "1", "2", CONFIG), "'epoch'", "an integer in [0, 4]", "got -1"},
                new String[] {state("5", "1", "2", CONFIG), "'epoch'", "trains 5 epochs", "got 5"},
                new String[] {state("1.5", "1", "2", CONFIG), "'epoch'", "an integer", "got 1.5"},
                new String[] {state("2.0", "1", "2", CONFIG), "'epoch'", "an integer", "got 2.0"},
                new String[] {state("1e12", "1", "2", CONFIG), "'epoch'", "an integer", "got 1.0E12"},
                new String[] {state("2147483648", "1", "2", CONFIG), "'epoch'", "an integer", "got 2147483648"},
                new String[] {state("99999999999999999999999", "1", "2", CONFIG), "'epoch'", "an integer", "got 99999999999999999999999"},
                new String[] {state("\"1\"", "1", "2", CONFIG), "'epoch'", "an integer", "got \"1\""},
                new String[] {state("null", "1", "2", CONFIG), "'epoch'", "an integer", "got null"},
                new String[] {state(null, "1", "2", CONFIG), "'epoch'", "an integer", "got no such field"},
                new String[] {state("1", "-0.5", "2", CONFIG), "'elapsed_seconds'", ">= 0", "got -0.5"},
                new String[] {state("1", "1e400", "2", CONFIG), "'elapsed_seconds'", "finite", "got "},
                new String[] {state("1", "\"NaN\"", "2", CONFIG), "'elapsed_seconds'", "finite", "got \"NaN\""},
                new String[] {state("1", null, "2", CONFIG), "'elapsed_seconds'", "a finite number", "got no such field"},
                new String[] {state("1", "1", "0", CONFIG), "'groups_per_step'", "an integer >= 1", "got 0"},
                new String[] {state("1", "1", "1.5", CONFIG), "'groups_per_step'", "an integer >= 1", "got 1.5"},
                new String[] {state("1", "1", "2", null), "'config'", "a JSON object", "got no such field"},
                new String[] {state("1", "1", "2", "[1]"), "'config'", "a JSON object", "got [1]"},
                new String[] {state("1", "1", "2", "{\"epochs\":0}"), "'config.epochs'", "an integer >= 1", "got 0"},
                new String[] {state("1", "1", "2", "{\"epochs\":2.5}"), "'config.epochs'", "an integer >= 1", "got 2.5"},
                new String[] {"[1, 2]", "'the file'", "a JSON object", "got [1,2]"});
        for (String[] b : bad) {
            IOException e = assertThrows(IOException.class, () -> CheckpointState.parse(FILE, b[0]), b[0]);
            String m = e.getMessage();
            assertTrue(m.contains(FILE.toString()) && m.contains(b[1]) && m.contains(b[2]) && m.contains(b[3]), b[0] + " -> " + m);
        }
        IOException e = assertThrows(IOException.class, () -> CheckpointState.parse(FILE, "{\"epoch\": 1,"));
        assertTrue(e.getMessage().contains(FILE.toString()) && e.getMessage().contains("not valid JSON"), e.getMessage());
    }
}
