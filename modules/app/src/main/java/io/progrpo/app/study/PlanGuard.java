package io.progrpo.app.study;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pre-registration: {@code plan.json} and {@code plan.md} are written into the study's directory before its first
 * run, and a later start with another plan is refused ({@link PlanChangedException}), naming each field that differs.
 * plan.json holds {@code registered} (what the guard compares: {@link StudyPlan#registered()}) and {@code notes}
 * (the reasons in words and the estimate, which may be reworded without changing the plan).
 */
public final class PlanGuard {
    public static final String JSON_FILE = "plan.json";
    public static final String MD_FILE = "plan.md";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PlanGuard() {}

    /** A study directory already holds another plan. */
    public static final class PlanChangedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PlanChangedException(String message) {
            super(message);
        }
    }

    /**
     * Writes the plan when {@code out} has none; otherwise checks that it is the same.
     *
     * @return true when this call registered the plan
     * @throws PlanChangedException when {@code out/plan.json} registers a different plan
     * @throws IOException          when plan.json cannot be read or parsed, or the files cannot be written
     */
    public static boolean registerOrVerify(StudyPlan plan, StudyEstimate estimate, Path out, String command, String utc) throws IOException {
        Path file = out.resolve(JSON_FILE);
        JsonNode now = JSON.valueToTree(plan.registered());
        if (Files.exists(file)) {
            JsonNode was;
            try {
                was = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8)).get("registered");
            } catch (IOException e) {
                throw new IOException("cannot read the registered plan " + file + ": " + e.getMessage(), e);
            }
            if (was == null) throw new IOException(file + " has no \"registered\" object: not a study plan");
            List<String> diff = differences(was, now);
            if (!diff.isEmpty()) {
                throw new PlanChangedException("the study in " + out + " was pre-registered with another plan (" + file + "); "
                        + "it differs in: " + String.join("; ", diff) + ". A registered plan does not change: run with the "
                        + "options it was registered with, or give a new --out");
            }
            return false;
        }
        Files.createDirectories(out);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("registered", plan.registered());
        Map<String, Object> notes = new LinkedHashMap<>();
        notes.put("registered", utc);
        notes.put("command", command);
        notes.put("budget", StudyNotes.budget(plan, estimate));
        notes.put("evaluation", StudyNotes.evaluation(plan));
        notes.put("matched_compute", StudyNotes.matchedCompute(plan));
        notes.put("cut", StudyNotes.cut(plan));
        notes.put("estimated_hours", Double.isNaN(estimate.totalSeconds()) ? null : estimate.totalSeconds() / 3600);
        doc.put("notes", notes);
        StudyCsv.writeAtomically(out.resolve(MD_FILE), markdown(plan, estimate, command, "Registered " + utc));
        StudyCsv.writeAtomically(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n");
        return true;
    }

    /** plan.md: the plan in words, with the arms, the rule, the budget and the estimate; {@code when} opens its first line. */
    static String markdown(StudyPlan p, StudyEstimate est, String command, String when) {
        StringBuilder s = new StringBuilder("# Pre-registered plan: progrpo study, " + p.world() + " world" + (p.quick() ? " (quick)" : "") + "\n\n");
        s.append(when).append(", `").append(command).append("`. Written before the first run; `plan.json` holds the same, and a ")
                .append("study that finds a different plan there refuses to run.\n\n");
        s.append("## Arms\n\nEvery run: preset `ARM_PRESET+").append(p.overlay()).append("`, then `").append(String.join(" ", p.commonSets()))
                .append("`, then the arm's overrides, then `seed=").append(p.seedBase()).append("+s`. Seed index s is the same seed in every arm.\n\n");
        s.append("| arm | preset | overrides | role | seeds | what |\n|---|---|---|---|---:|---|\n");
        for (StudyArm a : p.arms()) {
            s.append("| ").append(a.name()).append(" | ").append(a.preset()).append(" | `").append(String.join(" ", a.overrides())).append("` | ")
                    .append(a.role().key()).append(" | ").append(a.seeds()).append(" | ").append(a.what()).append(" |\n");
        }
        s.append("\n## Budget\n\n").append(StudyNotes.budget(p, est)).append("\n\n");
        s.append("## Evaluation\n\n").append(StudyNotes.evaluation(p)).append("\n\n");
        s.append("## Matched epochs and matched compute\n\n").append(StudyNotes.matchedCompute(p)).append("\n\n");
        String headline = String.join(", ", p.arms().stream().filter(a -> a.role() == StudyArm.Role.HEADLINE).map(StudyArm::name).toList());
        s.append("## Verdicts\n\nPaired over seeds against ").append(p.baseline()).append(" (index s with index s): the mean difference, its standard error and "
                + "the 95 % Student-t interval; \"held\" where the interval lies above 0, \"not held\" where it lies below, "
                + "\"inconclusive\" where it contains 0, \"not testable\" below 2 paired seeds. The headline contrasts (")
                .append(headline).append(" against ").append(p.baseline()).append(") are judged at matched compute.\n\n");
        s.append("## What was cut\n\n");
        for (String c : StudyNotes.cut(p)) s.append("- ").append(c).append('\n');
        s.append("\n## Estimate\n\n").append(est.markdown());
        return s.toString();
    }

    /** Each field path where {@code was} and {@code now} differ, as "path: was X, now Y" (arms keyed by name). */
    static List<String> differences(JsonNode was, JsonNode now) {
        Map<String, String> a = new LinkedHashMap<>();
        Map<String, String> b = new LinkedHashMap<>();
        flatten("", was, a);
        flatten("", now, b);
        List<String> out = new ArrayList<>();
        for (var e : a.entrySet()) {
            String v = b.get(e.getKey());
            if (v == null) out.add(e.getKey() + ": was " + e.getValue() + ", now absent");
            else if (!v.equals(e.getValue())) out.add(e.getKey() + ": was " + e.getValue() + ", now " + v);
        }
        for (var e : b.entrySet()) if (!a.containsKey(e.getKey())) out.add(e.getKey() + ": was absent, now " + e.getValue());
        return out;
    }

    private static void flatten(String prefix, JsonNode n, Map<String, String> out) {
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                var e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (n.isArray() && prefix.equals("arms")) {
            for (JsonNode arm : n) {
                String name = arm.path("name").asText("?");
                flatten("arms[" + name + "]", arm, out);
            }
        } else {
            out.put(prefix, n.toString());
        }
    }
}
