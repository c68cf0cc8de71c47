package io.progrpo.trainer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint's {@code state.json}, validated field by field: a value out of range is an {@link IOException} naming
 * the file, the field, what was expected and what came, never a silent wrap or truncation.
 *
 * @param epoch          the last epoch the checkpoint completed (0-based)
 * @param elapsedSeconds wall time of the run up to it
 * @param groupsPerStep  prompt groups per optimizer step it was trained with; null in checkpoints older than the field
 * @param config         the resolved config of the run that wrote it
 * @param scheduleAgreement the adaptive method's agreement estimate ({@code schedule_agreement}, validated where it is
 *                       restored: {@link ScheduleAgreement#fromState}); null for the other methods and older checkpoints
 */
record CheckpointState(int epoch, double elapsedSeconds, Integer groupsPerStep, JsonNode config, JsonNode scheduleAgreement) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses and validates {@code text}, read from {@code file} (named in the messages). */
    static CheckpointState parse(Path file, String text) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IOException("checkpoint " + file + " is not valid JSON: " + e.getOriginalMessage().replace('\n', ' '), e);
        }
        if (root == null || !root.isObject()) throw bad(file, "the file", "a JSON object", root == null ? "nothing" : root.toString());
        JsonNode config = root.get("config");
        if (config == null || !config.isObject()) throw bad(file, "config", "the run's config as a JSON object", show(config));
        JsonNode runEpochs = config.get("epochs");
        if (runEpochs == null || !runEpochs.canConvertToInt() || !runEpochs.isIntegralNumber() || runEpochs.intValue() < 1) {
            throw bad(file, "config.epochs", "an integer >= 1", show(runEpochs));
        }
        int total = runEpochs.intValue();
        JsonNode e = root.get("epoch");
        if (e == null || !e.isIntegralNumber() || !e.canConvertToInt() || e.intValue() < 0 || e.intValue() >= total) {
            throw bad(file, "epoch", "an integer in [0, " + (total - 1) + "] (the last epoch the checkpoint completed; "
                    + "the run that wrote it trains " + total + " epochs)", show(e));
        }
        JsonNode s = root.get("elapsed_seconds");
        if (s == null || !s.isNumber() || !Double.isFinite(s.doubleValue()) || s.doubleValue() < 0) {
            throw bad(file, "elapsed_seconds", "a finite number of seconds >= 0", show(s));
        }
        JsonNode g = root.get("groups_per_step");
        Integer groups = null;
        if (g != null) {
            if (!g.isIntegralNumber() || !g.canConvertToInt() || g.intValue() < 1) {
                throw bad(file, "groups_per_step", "an integer >= 1 (prompt groups per optimizer step)", show(g));
            }
            groups = g.intValue();
        }
        return new CheckpointState(e.intValue(), s.doubleValue(), groups, config, root.get("schedule_agreement"));
    }

    private static String show(JsonNode n) {
        if (n == null) return "no such field";
        String s = n.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    private static IOException bad(Path file, String field, String expected, String got) {
        return new IOException("checkpoint " + file + " is invalid: '" + field + "' must be " + expected + ", got " + got);
    }
}
