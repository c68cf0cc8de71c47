package io.progrpo.app.study;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code study.csv}: one row per finished (arm, seed) run, appended atomically (the whole file is written to
 * {@code study.csv.tmp}, forced to the device and renamed over the old one), so a kill leaves either the old file or
 * the new one, never half a row. A study skips the (arm, seed) pairs it finds here.
 */
public final class StudyCsv {
    public static final String FILE = "study.csv";

    /** The columns, in order. {@code _me} = at matched epochs (E), {@code _mc} = at matched compute. */
    public static final List<String> COLUMNS = List.of("arm", "seed_index", "seed", "world",
            "epochs_me", "eval_me", "se_noise_me", "se_prompts_me", "overall_me", "gflop_me", "wall_s_me", "compute_ratio_me",
            "epochs_mc", "eval_mc", "se_noise_mc", "se_prompts_mc", "overall_mc", "gflop_mc", "wall_s_mc", "compute_ratio_mc",
            "run_wall_s", "schedule", "finished_utc");

    /**
     * An arm's figures at one evaluation point.
     *
     * @param epochs       epochs trained
     * @param eval         mean eval reward over every held-out sample
     * @param seNoise      its standard error over the noise draws (prompts fixed)
     * @param sePrompts    its standard error over prompts (of the per-prompt means)
     * @param overall      the held-out evaluator's overall (NaN where the world has none)
     * @param gflop        cumulative model GFLOPs of training up to this point ({@link StudyFlops})
     * @param wallSeconds  cumulative training wall time (sampling, reward, training, shadow groups)
     * @param computeRatio gflop / flow-grpo's gflop at E epochs, same seed
     */
    public record Point(int epochs, double eval, double seNoise, double sePrompts, double overall, double gflop, double wallSeconds,
                        double computeRatio) {}

    /** One finished run. {@code schedule}: the funnel(s) it sampled with, e.g. {@code 48>24@5>12@7 x24}. */
    public record Row(String arm, int seedIndex, long seed, String world, Point matchedEpochs, Point matchedCompute, double runWallSeconds,
                      String schedule, String finishedUtc) {
        List<String> fields() {
            List<String> f = new ArrayList<>(List.of(arm, Integer.toString(seedIndex), Long.toString(seed), world));
            for (Point p : List.of(matchedEpochs, matchedCompute)) {
                f.addAll(List.of(Integer.toString(p.epochs()), num(p.eval(), 6), num(p.seNoise(), 6), num(p.sePrompts(), 6),
                        num(p.overall(), 6), num(p.gflop(), 3), num(p.wallSeconds(), 2), num(p.computeRatio(), 4)));
            }
            f.addAll(List.of(num(runWallSeconds, 1), schedule, finishedUtc));
            return f;
        }

        static Row parse(List<String> f) {
            Point[] pts = new Point[2];
            for (int k = 0; k < 2; k++) {
                int o = 4 + 8 * k;
                pts[k] = new Point(Integer.parseInt(f.get(o)), dbl(f.get(o + 1)), dbl(f.get(o + 2)), dbl(f.get(o + 3)), dbl(f.get(o + 4)),
                        dbl(f.get(o + 5)), dbl(f.get(o + 6)), dbl(f.get(o + 7)));
            }
            return new Row(f.get(0), Integer.parseInt(f.get(1)), Long.parseLong(f.get(2)), f.get(3), pts[0], pts[1], dbl(f.get(20)),
                    f.get(21), f.get(22));
        }
    }

    private StudyCsv() {}

    private static String num(double v, int decimals) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static double dbl(String s) {
        return s.isEmpty() ? Double.NaN : Double.parseDouble(s);
    }

    /**
     * The rows of {@code out/study.csv} (none when the file does not exist).
     *
     * @throws IOException naming the file and line when the header is not {@link #COLUMNS}, a row has another number
     *                     of fields, a number does not parse, or an (arm, seed) pair appears twice
     */
    public static List<Row> read(Path out) throws IOException {
        Path file = out.resolve(FILE);
        if (!Files.exists(file)) return List.of();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !split(lines.get(0)).equals(COLUMNS)) {
            throw new IOException(file + " line 1: expected the header " + String.join(",", COLUMNS) + ", got "
                    + (lines.isEmpty() ? "an empty file" : "'" + lines.get(0) + "'"));
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            List<String> f = split(lines.get(i));
            if (f.size() != COLUMNS.size()) {
                throw new IOException(file + " line " + (i + 1) + ": expected " + COLUMNS.size() + " fields, got " + f.size());
            }
            Row r;
            try {
                r = Row.parse(f);
            } catch (NumberFormatException e) {
                throw new IOException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
            }
            for (Row o : rows) {
                if (o.arm().equals(r.arm()) && o.seedIndex() == r.seedIndex()) {
                    throw new IOException(file + " line " + (i + 1) + ": arm " + r.arm() + " seed index " + r.seedIndex() + " appears twice");
                }
            }
            rows.add(r);
        }
        return rows;
    }

    /** The row of ({@code arm}, seed index {@code s}) in {@code rows}, or null. */
    public static Row find(List<Row> rows, String arm, int s) {
        for (Row r : rows) if (r.arm().equals(arm) && r.seedIndex() == s) return r;
        return null;
    }

    /**
     * Appends {@code row} to {@code out/study.csv} (creating it with its header) by an atomic replace.
     *
     * @throws IOException when the file already holds a row for the same (arm, seed), or a write fails
     */
    public static void append(Path out, Row row) throws IOException {
        Files.createDirectories(out);
        Path file = out.resolve(FILE);
        StringBuilder text = new StringBuilder();
        if (Files.exists(file)) {
            if (find(read(out), row.arm(), row.seedIndex()) != null) {
                throw new IOException(file + " already holds arm " + row.arm() + " seed index " + row.seedIndex());
            }
            text.append(Files.readString(file, StandardCharsets.UTF_8));
            if (!text.isEmpty() && text.charAt(text.length() - 1) != '\n') text.append('\n');
        } else {
            text.append(join(COLUMNS)).append('\n');
        }
        text.append(join(row.fields())).append('\n');
        writeAtomically(file, text.toString());
    }

    /** Writes {@code text} to {@code file} through a forced temporary file and an atomic rename. */
    static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String join(List<String> fields) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            String f = fields.get(i);
            if (i > 0) s.append(',');
            if (f.contains(",") || f.contains("\"") || f.contains("\n")) s.append('"').append(f.replace("\"", "\"\"")).append('"');
            else s.append(f);
        }
        return s.toString();
    }

    /** Splits one CSV line (RFC 4180 quoting, no line breaks inside fields). */
    static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
