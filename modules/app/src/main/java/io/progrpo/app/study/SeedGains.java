package io.progrpo.app.study;

import io.progrpo.app.report.PairedComparison;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The figures of issue 17's criterion and of the research record, from finished runs ({@link SeedRun}): per seed the
 * gain g_s = eval_s(epoch) - eval_s(base), and over an arm's n seeds
 * <pre>
 *   mean gain ± SE                 (StudyStats.summary: sample std, n - 1)
 *   population seed std  sigma  = sqrt( (1/n) sum_s (g_s - mean)^2 )
 *   ratio                 rho   = mean / sigma       (the criterion's "gain in seed standard deviations")
 *   bootstrap 95 % of rho       = the 2.5 and 97.5 percentiles (linear interpolation between order statistics) of
 *                                 rho over B resamples of the n seeds with replacement; a resample whose sigma is 0 (all
 *                                 its gains equal) has no ratio and is left out (counted in {@link Interval#used()})
 * </pre>
 * and for two arms on the same seeds the paired gain difference ({@link PairedComparison}) and the ratio difference
 * rho_arm - rho_baseline with a paired bootstrap (one draw of seeds for both arms).
 *
 * <p>Gains are taken against each run's own base evaluation; the runs of an arm, and two compared arms, must share the
 * base model (base eval rewards within {@value #BASE_TOLERANCE}), or they are refused: pooling two base models would
 * be a silent wrong result.
 */
public final class SeedGains {
    /** Largest difference between two runs' base eval rewards that still counts as the same base model. */
    public static final double BASE_TOLERANCE = 1e-3;
    /** Bootstrap resamples unless a caller says otherwise ({@code progrpo gains --resamples}, the demo report). */
    public static final int DEFAULT_RESAMPLES = 20_000;
    /** Seed of the bootstrap draws unless a caller says otherwise ({@code progrpo gains --bootstrap-seed}, the demo report). */
    public static final long DEFAULT_BOOTSTRAP_SEED = 1;

    private SeedGains() {}

    /**
     * A bootstrap percentile interval.
     *
     * @param low       2.5th percentile (NaN when no resample had a ratio)
     * @param high      97.5th percentile
     * @param resamples resamples drawn
     * @param used      resamples that had a ratio (a population std above 0)
     */
    public record Interval(double low, double high, int resamples, int used) {}

    /**
     * One arm at one epoch.
     *
     * @param label         what the user called it (its directories)
     * @param runs          its runs, in the order given
     * @param epoch         the epoch whose evaluation is compared with the base's
     * @param gains         g_s, in the order of {@code runs}
     * @param gain          mean, sample std, SE and t interval of the gains
     * @param populationStd sigma
     * @param ratio         mean / sigma (NaN when sigma is 0)
     * @param ratioInterval its bootstrap interval
     * @param ratioByEpoch  the ratio at every epoch >= 0 that all runs evaluated
     */
    public record Arm(String label, List<SeedRun> runs, int epoch, double[] gains, StudyStats.Summary gain,
                      double populationStd, double ratio, Interval ratioInterval, NavigableMap<Integer, Double> ratioByEpoch) {
        /** The base eval reward (the first run's; all agree within the tolerance). */
        public double base() {
            return runs.getFirst().base();
        }
    }

    /**
     * Two arms on their common seeds.
     *
     * @param seeds                   the paired seeds, ascending
     * @param gain                    arm minus baseline, seed by seed
     * @param ratioDifference         rho_arm - rho_baseline over the paired seeds
     * @param ratioDifferenceInterval its paired bootstrap interval
     * @param armOnly                 seeds only the arm ran (left out)
     * @param baselineOnly            seeds only the baseline ran (left out)
     */
    public record Paired(long[] seeds, PairedComparison gain, double ratioDifference, Interval ratioDifferenceInterval,
                         List<Long> armOnly, List<Long> baselineOnly) {}

    /** sigma: the population standard deviation (divisor n); NaN for no value. */
    public static double populationStd(double[] g) {
        if (g.length == 0) return Double.NaN;
        double mean = mean(g);
        double ss = 0;
        for (double x : g) ss += (x - mean) * (x - mean);
        return Math.sqrt(ss / g.length);
    }

    /**
     * rho = mean / sigma; NaN when there is no value or sigma is 0: every gain the same, which in floating point means
     * sigma at most 1e-12 of the largest |gain| (three equal gains leave a sigma of about 1e-17, not 0).
     */
    public static double ratio(double[] g) {
        double sd = populationStd(g);
        double largest = 0;
        for (double x : g) largest = Math.max(largest, Math.abs(x));
        return sd > 1e-12 * largest ? mean(g) / sd : Double.NaN;
    }

    /** The bootstrap interval of {@link #ratio} over {@code resamples} draws of the seeds, from {@code seed}. */
    public static Interval bootstrapRatio(double[] g, int resamples, long seed) {
        return bootstrap(g, null, resamples, seed);
    }

    /**
     * The paired bootstrap interval of ratio(arm) - ratio(baseline): each resample draws one set of seed indices and
     * applies it to both arms.
     */
    public static Interval bootstrapRatioDifference(double[] arm, double[] baseline, int resamples, long seed) {
        if (arm.length != baseline.length) {
            throw new IllegalArgumentException("paired seeds: the arm has " + arm.length + " gains and the baseline " + baseline.length);
        }
        return bootstrap(arm, baseline, resamples, seed);
    }

    private static Interval bootstrap(double[] a, double[] b, int resamples, long seed) {
        if (resamples < 1) throw new IllegalArgumentException("bootstrap resamples must be >= 1, got " + resamples);
        int n = a.length;
        if (n == 0) throw new IllegalArgumentException("a bootstrap needs at least one seed, got none");
        SplittableRandom rng = new SplittableRandom(seed);
        double[] stats = new double[resamples];
        double[] ra = new double[n];
        double[] rb = b == null ? null : new double[n];
        int used = 0;
        for (int r = 0; r < resamples; r++) {
            for (int i = 0; i < n; i++) {
                int k = rng.nextInt(n);
                ra[i] = a[k];
                if (rb != null) rb[i] = b[k];
            }
            double v = rb == null ? ratio(ra) : ratio(ra) - ratio(rb);
            if (!Double.isNaN(v)) stats[used++] = v;
        }
        if (used == 0) return new Interval(Double.NaN, Double.NaN, resamples, 0);
        double[] sorted = Arrays.copyOf(stats, used);
        Arrays.sort(sorted);
        return new Interval(percentile(sorted, 0.025), percentile(sorted, 0.975), resamples, used);
    }

    /** The p-quantile of ascending {@code sorted}, interpolating linearly between order statistics (h = p (n - 1)). */
    static double percentile(double[] sorted, double p) {
        double h = p * (sorted.length - 1);
        int lo = (int) Math.floor(h);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /**
     * Summarises one arm.
     *
     * @param epoch the epoch to compare with the base, or null for the last evaluated one, which every run must share
     * @throws IllegalArgumentException when there is no run, two runs share a seed or differ in method or base model,
     *                                  or a run lacks the epoch
     */
    public static Arm arm(String label, List<SeedRun> runs, Integer epoch, int resamples, long seed) {
        Objects.requireNonNull(runs, "runs");
        if (runs.isEmpty()) throw new IllegalArgumentException(label + ": no run to summarise");
        SeedRun first = runs.getFirst();
        for (SeedRun r : runs) {
            if (!r.method().equals(first.method())) {
                throw new IllegalArgumentException(label + ": runs of two methods (" + first.method() + " in " + first.dir() + ", "
                        + r.method() + " in " + r.dir() + "); choose one with --method");
            }
        }
        Map<Long, SeedRun> bySeed = new HashMap<>();
        for (SeedRun r : runs) {
            SeedRun other = bySeed.putIfAbsent(r.seed(), r);
            if (other != null) {
                throw new IllegalArgumentException(label + ": seed " + r.seed() + " is run twice (" + other.dir() + " and " + r.dir()
                        + "); an arm counts each seed once");
            }
            checkSameBase(first, r);
        }
        int at = epoch != null ? epoch : first.lastEvalEpoch();
        if (at <= SeedRun.BASE_EPOCH) throw new IllegalArgumentException("the epoch must be >= 0 (after an update), got " + at);
        if (epoch == null) {
            for (SeedRun r : runs) {
                if (r.lastEvalEpoch() != at) {
                    throw new IllegalArgumentException(label + ": the runs end at different epochs (" + first.dir() + " after epoch " + at
                            + ", " + r.dir() + " after epoch " + r.lastEvalEpoch() + "): an unfinished run or another budget; choose "
                            + "an epoch with --epoch");
                }
            }
        }
        for (SeedRun r : runs) {
            if (!r.evals().containsKey(at)) {
                throw new IllegalArgumentException(label + ": run " + r.dir() + " has no evaluation at epoch " + at + " (its evaluations: "
                        + r.evals().keySet() + ")" + (epoch == null ? "; it is unfinished or ran another budget, or choose an epoch with --epoch" : ""));
            }
        }
        double[] g = gains(runs, at);
        NavigableMap<Integer, Double> byEpoch = new TreeMap<>();
        for (int e : first.evals().keySet()) {
            if (e <= SeedRun.BASE_EPOCH || runs.stream().anyMatch(r -> !r.evals().containsKey(e))) continue;
            byEpoch.put(e, ratio(gains(runs, e)));
        }
        return new Arm(label, List.copyOf(runs), at, g, StudyStats.summary(g), populationStd(g), ratio(g),
                bootstrapRatio(g, resamples, seed), byEpoch);
    }

    /**
     * Pairs {@code arm} with {@code baseline} on the seeds both ran.
     *
     * @throws IllegalArgumentException when the two arms' base models differ or they share no seed
     */
    public static Paired paired(Arm arm, Arm baseline, int resamples, long seed) {
        checkSameBase(baseline.runs().getFirst(), arm.runs().getFirst());
        NavigableMap<Long, Double> base = new TreeMap<>();
        for (int i = 0; i < baseline.runs().size(); i++) base.put(baseline.runs().get(i).seed(), baseline.gains()[i]);
        NavigableMap<Long, Double> mine = new TreeMap<>();
        for (int i = 0; i < arm.runs().size(); i++) mine.put(arm.runs().get(i).seed(), arm.gains()[i]);
        List<Long> common = new ArrayList<>();
        List<Long> armOnly = new ArrayList<>();
        for (long s : mine.keySet()) (base.containsKey(s) ? common : armOnly).add(s);
        List<Long> baselineOnly = base.keySet().stream().filter(s -> !mine.containsKey(s)).toList();
        if (common.isEmpty()) {
            throw new IllegalArgumentException("the arm (seeds " + mine.keySet() + ") and the baseline (seeds " + base.keySet()
                    + ") share no seed: a paired comparison needs the same seeds");
        }
        double[] a = new double[common.size()];
        double[] b = new double[common.size()];
        long[] seeds = new long[common.size()];
        for (int i = 0; i < seeds.length; i++) {
            seeds[i] = common.get(i);
            a[i] = mine.get(seeds[i]);
            b[i] = base.get(seeds[i]);
        }
        return new Paired(seeds, PairedComparison.of(a, b), ratio(a) - ratio(b), bootstrapRatioDifference(a, b, resamples, seed),
                List.copyOf(armOnly), baselineOnly);
    }

    private static double[] gains(List<SeedRun> runs, int epoch) {
        double[] g = new double[runs.size()];
        for (int i = 0; i < g.length; i++) g[i] = runs.get(i).gainAt(epoch);
        return g;
    }

    private static void checkSameBase(SeedRun a, SeedRun b) {
        if (Math.abs(a.base() - b.base()) > BASE_TOLERANCE) {
            throw new IllegalArgumentException("runs " + a.dir() + " and " + b.dir() + " start from different base models (base eval reward "
                    + a.base() + " against " + b.base() + ", more than " + BASE_TOLERANCE + " apart); their gains cannot be pooled or paired");
        }
    }

    private static double mean(double[] g) {
        double s = 0;
        for (double x : g) s += x;
        return s / g.length;
    }
}
