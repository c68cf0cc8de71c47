package io.progrpo.app.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report's table of a held-out judge (GenEval's layout: one row per method, Overall and then one column per
 * category), read from the runs' metrics rows: each run's last evaluation ({@code eval_<name>}), mean ± std over the
 * seeds; the base model's row from the evaluation before training (epoch -1) of the first run.
 */
public final class HeldOutTables {
    private HeldOutTables() {}

    /** Runs of one method: each a list of metrics rows (as {@code metrics.jsonl} holds them). */
    public static String markdown(Map<String, List<List<Map<String, Object>>>> histories, String key) {
        List<String> columns = null;
        Map<String, Object> base = null;
        Map<String, List<Map<String, Object>>> finals = new LinkedHashMap<>();
        for (var e : histories.entrySet()) {
            List<Map<String, Object>> perSeed = new ArrayList<>();
            for (List<Map<String, Object>> run : e.getValue()) {
                Map<String, Object> last = null;
                for (Map<String, Object> row : run) {
                    if (!(row.get(key) instanceof Map<?, ?> m)) continue;
                    @SuppressWarnings("unchecked")
                    Map<String, Object> fig = (Map<String, Object>) m;
                    if (base == null && row.get("epoch") instanceof Number n && n.intValue() < 0) base = fig;
                    last = fig;
                }
                if (last != null) perSeed.add(last);
                if (columns == null && last != null) columns = List.copyOf(last.keySet());
            }
            if (!perSeed.isEmpty()) finals.put(e.getKey(), perSeed);
        }
        if (columns == null) return "";
        StringBuilder sb = new StringBuilder("| method | seeds |");
        for (String c : columns) sb.append(' ').append(c).append(" |");
        sb.append("\n|---|---|").append("---|".repeat(columns.size())).append('\n');
        if (base != null) {
            sb.append("| base model | - |");
            for (String c : columns) sb.append(' ').append(cell(new double[] {value(base, c)})).append(" |");
            sb.append('\n');
        }
        for (var e : finals.entrySet()) {
            sb.append("| ").append(e.getKey()).append(" | ").append(e.getValue().size()).append(" |");
            for (String c : columns) {
                double[] v = e.getValue().stream().mapToDouble(m -> value(m, c)).toArray();
                sb.append(' ').append(cell(v)).append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Each run's last value of {@code key}'s figure {@code figure}, per method, in run order (NaN where absent). */
    public static Map<String, double[]> finals(Map<String, List<List<Map<String, Object>>>> histories, String key, String figure) {
        Map<String, double[]> out = new LinkedHashMap<>();
        histories.forEach((method, runs) -> out.put(method, runs.stream().mapToDouble(run -> {
            double last = Double.NaN;
            for (Map<String, Object> row : run) if (row.get(key) instanceof Map<?, ?> m) last = value(m, figure);
            return last;
        }).toArray()));
        return out;
    }

    private static double value(Map<?, ?> m, String c) {
        return m.get(c) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** "0.62" for one value, "0.62 ± 0.03" (std over seeds) for several, "-" when none is finite. */
    static String cell(double[] v) {
        int n = 0;
        double sum = 0;
        for (double x : v) if (Double.isFinite(x)) { n++; sum += x; }
        if (n == 0) return "-";
        double mean = sum / n;
        if (n == 1) return String.format(Locale.ROOT, "%.3f", mean);
        double ss = 0;
        for (double x : v) if (Double.isFinite(x)) ss += (x - mean) * (x - mean);
        return String.format(Locale.ROOT, "%.3f ± %.3f", mean, Math.sqrt(ss / n));
    }

    /**
     * The sentence under a held-out table that says how few images stand behind each cell: "Images per cell and run:
     * single_object 4, ...; one image moves a cell by 1 / its count." Empty for no categories.
     */
    public static String cellSizes(Map<String, Integer> imagesPerCategory) {
        if (imagesPerCategory == null || imagesPerCategory.isEmpty()) return "";
        StringBuilder sb = new StringBuilder("Images per cell and run: ");
        imagesPerCategory.forEach((k, v) -> sb.append(k).append(' ').append(v).append(", "));
        sb.setLength(sb.length() - 2);
        return sb.append("; one image moves a cell by 1 / its count, so a category of 4 images moves in steps of 0.25.").toString();
    }
}
