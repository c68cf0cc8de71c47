package io.progrpo.app.study;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One arm of the pre-registered study: a method preset with the overrides that make it this arm, run on
 * {@code seeds} paired seeds (seed index s is the same seed in every arm).
 *
 * @param name      the arm's name in the CSV, the report and the run directory ({@code runs/<name>/seed-<s>})
 * @param preset    the method preset it starts from ({@code progrpo presets})
 * @param overrides {@code key=value} config overrides applied after the study's common settings
 * @param role      {@link Role#BASELINE} (flow-grpo), {@link Role#HEADLINE} (>= 10 seeds in the full study) or
 *                  {@link Role#ABLATION} (>= 5)
 * @param seeds     how many paired seeds it runs, >= 1
 * @param what      one line for the plan and the report
 */
public record StudyArm(String name, String preset, List<String> overrides, Role role, int seeds, String what) {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");

    /** What an arm is for: the baseline, a headline contrast against it, or an ablation. */
    public enum Role {
        BASELINE, HEADLINE, ABLATION;

        /** Lower-case name, as written in plan.json. */
        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public StudyArm {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("arm name must be lower-case letters, digits and '-' (a directory name), got '" + name + "'");
        }
        Objects.requireNonNull(preset, "preset");
        overrides = List.copyOf(overrides);
        for (String o : overrides) {
            if (o.indexOf('=') <= 0) throw new IllegalArgumentException("override of arm " + name + " must be key=value, got '" + o + "'");
        }
        Objects.requireNonNull(role, "role");
        if (seeds < 1) throw new IllegalArgumentException("seeds of arm " + name + " must be >= 1, got " + seeds);
        Objects.requireNonNull(what, "what");
    }

    /** The arm as plan.json records it (what the plan guard compares). */
    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("preset", preset);
        m.put("overrides", overrides);
        m.put("role", role.key());
        m.put("seeds", seeds);
        m.put("what", what);
        return m;
    }
}
