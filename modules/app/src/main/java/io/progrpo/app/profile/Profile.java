package io.progrpo.app.profile;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code progrpo profile RUN_OR_JFR [--out DIR]}: a recording ({@code .jfr}, recorded with progrpo.jfc) becomes a memory
 * timeline figure ({@code memory-timeline.png}) and a table of peaks per phase ({@code memory-peaks.md}); a run directory
 * becomes the table of its {@code metrics.jsonl}'s per-phase memory (the {@code memory} key of every epoch line).
 */
public final class Profile {
    private Profile() {}

    /** What {@link #run} wrote and the table it printed. */
    public record Output(String table, List<Path> files) {}

    /**
     * Profiles {@code source} into {@code out} (null: beside the source).
     *
     * @throws IOException naming the source when it is neither a recording nor a run directory with memory figures
     */
    public static Output run(Path source, Path out) throws IOException {
        if (Files.isDirectory(source)) return fromRun(source, out == null ? source : out);
        Path dir = out != null ? out : source.toAbsolutePath().getParent();
        MemoryTimeline t = MemoryTimeline.read(source);
        Files.createDirectories(dir);
        Path png = dir.resolve("memory-timeline.png");
        t.plot(png, "memory timeline: " + source.getFileName());
        String table = t.peaksTable();
        Path md = dir.resolve("memory-peaks.md");
        Files.writeString(md, "# Memory per phase: " + source.getFileName() + "\n\n![timeline](memory-timeline.png)\n\n" + table);
        return new Output(table, List.of(png, md));
    }

    private static Output fromRun(Path run, Path out) throws IOException {
        Path metrics = run.resolve("metrics.jsonl");
        if (!Files.isRegularFile(metrics)) throw new IOException(run + " is a directory without metrics.jsonl: give a run directory or a .jfr file");
        ObjectMapper json = new ObjectMapper();
        Map<String, long[]> by = new TreeMap<>();
        int lines = 0;
        long released = 0;
        for (String l : Files.readAllLines(metrics)) {
            if (l.isBlank()) continue;
            Map<?, ?> m = json.readValue(l, Map.class);
            if (!(m.get("memory") instanceof Map<?, ?> mem)) continue;
            lines++;
            for (Map.Entry<?, ?> e : mem.entrySet()) {
                if (e.getKey().equals("prunes") && e.getValue() instanceof List<?> ps) {
                    for (Object o : ps) if (o instanceof Map<?, ?> pm) released += num(pm.get("bytes_released"));
                    continue;
                }
                if (!(e.getValue() instanceof Map<?, ?> v)) continue;
                long[] a = by.computeIfAbsent(String.valueOf(e.getKey()), k -> new long[] {0, 0, -1, -1});
                a[0] = Math.max(a[0], num(v.get("ledger_peak_bytes")));
                a[1] = Math.max(a[1], Math.max(num(v.get("rss_peak_bytes")), num(v.get("rss_end_bytes"))));
                if (v.containsKey("cuda_allocated_peak_bytes")) a[2] = Math.max(a[2], num(v.get("cuda_allocated_peak_bytes")));
                if (v.containsKey("cuda_reserved_peak_bytes")) a[3] = Math.max(a[3], num(v.get("cuda_reserved_peak_bytes")));
            }
        }
        if (lines == 0) throw new IOException(metrics + " has no per-phase memory (the 'memory' key): the run predates it");
        boolean cuda = by.values().stream().anyMatch(a -> a[2] >= 0);
        StringBuilder s = new StringBuilder("| phase | ledger peak (MiB) | RSS peak (MiB) |" + (cuda ? " CUDA allocated peak (MiB) | CUDA reserved peak (MiB) |" : "")
                + "\n|---|---:|---:|" + (cuda ? "---:|---:|" : "") + "\n");
        by.forEach((k, a) -> s.append(String.format(Locale.ROOT, "| %s | %.2f | %.1f |", k, a[0] / 1048576.0, a[1] / 1048576.0))
                .append(cuda ? String.format(Locale.ROOT, " %.1f | %.1f |", Math.max(0, a[2]) / 1048576.0, Math.max(0, a[3]) / 1048576.0) : "")
                .append('\n'));
        s.append(String.format(Locale.ROOT, "%nthe largest over %d epoch lines of %s", lines, metrics));
        s.append(released > 0 ? String.format(Locale.ROOT, "; the prune checkpoints released %.2f MiB of the ledger in all%n", released / 1048576.0) : "\n");
        Files.createDirectories(out);
        Path md = out.resolve("memory-peaks.md");
        Files.writeString(md, "# Memory per phase: " + run.getFileName() + "\n\n" + s);
        return new Output(s.toString(), List.of(md));
    }

    private static long num(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }

    /** {@code Profile RUN_OR_JFR [--out DIR]}; exit 2 on bad arguments, 1 when the source cannot be read. */
    public static void main(String[] args) {
        Path src = null;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out") && i + 1 < args.length) out = Path.of(args[++i]);
            else if (args[i].startsWith("-")) usage("unknown option " + args[i]);
            else if (src == null) src = Path.of(args[i]);
            else usage("one source only, got " + src + " and " + args[i]);
        }
        if (src == null) usage("no source given");
        try {
            Output o = run(src, out);
            System.out.print(o.table());
            for (Path f : o.files()) System.out.println("wrote " + f);
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void usage(String why) {
        System.err.println("error: " + why + "\nusage: progrpo profile RUN_DIR|RECORDING.jfr [--out DIR]");
        System.exit(2);
    }
}
