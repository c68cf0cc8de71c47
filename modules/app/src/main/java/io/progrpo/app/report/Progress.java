package io.progrpo.app.report;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.Console;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Progress of one long phase (sampling, reward, training, evaluation): a live bar on a terminal, and plain log lines
 * elsewhere (CI, a redirected stdout, a log file), at most one every {@link #LOG_INTERVAL_NANOS} plus a final one.
 *
 * <pre>{@code
 * try (Progress p = Progress.start("sample", groups)) {
 *     for (...) { ...; p.message("reward " + mean).step(); }
 * }
 * }</pre>
 *
 * The mode is chosen by {@link Mode#AUTO}: a bar when {@link Console#isTerminal()} says stdout is a terminal;
 * the system property {@code progrpo.progress=bar|log} forces one. Not thread-safe: one phase, one thread.
 */
public final class Progress implements AutoCloseable {

    /** How progress is shown. */
    public enum Mode {
        /** {@link #BAR} on a terminal, {@link #LOG} otherwise (or as the {@code progrpo.progress} property says). */
        AUTO,
        /** A live progress bar (me.tongfei.progressbar) redrawn in place. */
        BAR,
        /** Periodic plain lines: task, count, percentage, rate, elapsed, ETA and the extra message. */
        LOG
    }

    /** Minimum time between two log lines in {@link Mode#LOG}: 5 seconds. */
    public static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final String task;
    private final long total;
    private final ProgressBar bar;           // null in LOG mode
    private final PrintStream out;           // LOG mode sink
    private final LongSupplier clock;
    private final long interval;
    private final long startNanos;
    private long lastLineNanos;
    private long current;
    private String message = "";
    private boolean closed;

    private Progress(String task, long total, ProgressBar bar, PrintStream out, LongSupplier clock, long interval) {
        this.task = task;
        this.total = total;
        this.bar = bar;
        this.out = out;
        this.clock = clock;
        this.interval = interval;
        this.startNanos = clock.getAsLong();
        this.lastLineNanos = startNanos;
    }

    /** Starts a phase of {@code total} units (0 or less: unknown total) on stdout, mode chosen automatically. */
    public static Progress start(String task, long total) {
        return start(task, total, Mode.AUTO);
    }

    /** Starts a phase of {@code total} units (0 or less: unknown total) on stdout in the given mode. */
    public static Progress start(String task, long total, Mode mode) {
        Objects.requireNonNull(task, "task");
        Mode m = mode == Mode.AUTO ? autoMode() : mode;
        if (m == Mode.BAR) {
            ProgressBar pb = new ProgressBarBuilder()
                    .setTaskName(task)
                    .setInitialMax(total > 0 ? total : -1)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                    .setConsumer(new ConsoleProgressBarConsumer(System.out))
                    .setUpdateIntervalMillis(200)
                    .showSpeed()
                    .build();
            return new Progress(task, total, pb, null, System::nanoTime, LOG_INTERVAL_NANOS);
        }
        return logging(task, total, System.out, System::nanoTime, LOG_INTERVAL_NANOS);
    }

    /** LOG mode with an explicit sink, clock and interval (tests drive the clock by hand). */
    static Progress logging(String task, long total, PrintStream out, LongSupplier clock, long intervalNanos) {
        return new Progress(task, total, null, out, clock, intervalNanos);
    }

    static Mode autoMode() {
        String forced = System.getProperty("progrpo.progress", "");
        if (forced.equalsIgnoreCase("bar")) {
            return Mode.BAR;
        }
        if (forced.equalsIgnoreCase("log")) {
            return Mode.LOG;
        }
        Console c = System.console();
        return c != null && c.isTerminal() ? Mode.BAR : Mode.LOG;
    }

    /** Advances by one unit. */
    public Progress step() {
        return step(1);
    }

    /** Advances by {@code n} units (n >= 0). */
    public Progress step(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("progress step must be >= 0, got " + n);
        }
        ensureOpen();
        current += n;
        if (bar != null) {
            bar.stepBy(n);
        } else {
            long now = clock.getAsLong();
            if (now - lastLineNanos >= interval) {
                lastLineNanos = now;
                out.println(line(now, false));
            }
        }
        return this;
    }

    /** Sets the extra text shown after the counters, such as {@code "reward 0.512"}. */
    public Progress message(String extra) {
        ensureOpen();
        message = extra == null ? "" : extra;
        if (bar != null) {
            bar.setExtraMessage(message.isEmpty() ? "" : " " + message); // the bar prints it flush after the rate
        }
        return this;
    }

    /** @return units done so far */
    public long current() {
        return current;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("progress of '" + task + "' is closed");
        }
    }

    /** The log line at {@code now}; {@code done} formats the final summary. */
    String line(long now, boolean done) {
        double elapsed = (now - startNanos) / 1e9;
        double rate = elapsed > 0 ? current / elapsed : 0;
        StringBuilder sb = new StringBuilder(task).append(done ? " done " : " ");
        sb.append(current);
        if (total > 0) {
            sb.append('/').append(total)
              .append(String.format(Locale.ROOT, " (%.0f%%)", 100.0 * current / total));
        }
        sb.append(String.format(Locale.ROOT, " %.2f/s elapsed %s", rate, clockTime(elapsed)));
        if (!done && total > 0 && current > 0) {
            sb.append(" ETA ").append(clockTime((total - current) / rate));
        }
        if (!message.isEmpty()) {
            sb.append(' ').append(message);
        }
        return sb.toString();
    }

    static String clockTime(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** Finishes the bar, or prints the final summary line; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (bar != null) {
            bar.close();
        } else {
            out.println(line(clock.getAsLong(), true));
        }
    }
}
