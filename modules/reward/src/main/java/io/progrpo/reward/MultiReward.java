package io.progrpo.reward;

import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Several rewards with weights, e.g. {@code {"alignment": 1.0, "jpeg_compressibility": 0.1}}, combined into one
 * score per image; itself a {@link RewardFunction}, so the trainer and the expand-and-prune driver call it like any
 * reward, with the group ids of the images ({@link #score(Tensor, List, int[])}).
 *
 * <ul>
 *   <li>{@link Aggregation#WEIGHTED_SUM}: R_i = sum_r w_r R_r,i (raw scores; the trainer then normalises R within
 *       each group as usual).</li>
 *   <li>{@link Aggregation#ADVANTAGE_SUM} (DanceGRPO's multi-reward rule): each reward is normalised within its
 *       group first, A_r,i = (R_r,i - mean_g(R_r)) / (std_g(R_r) + 1e-4) with the population std over the group g of
 *       image i ({@link GroupAdvantages}, {@link GroupAdvantages.Centring#PLAIN}), and the output is sum_r w_r A_r,i:
 *       rewards of different scales then weigh as their weights say. The outputs are already advantages; the
 *       trainer's clip to [-5, 5] still applies. Needs group ids.</li>
 * </ul>
 * Both report every reward's raw scores and their mean and std ({@link MultiRewardOutput#summary()}), as the
 * reference trainers log them.
 */
public final class MultiReward implements RewardFunction {
    /** The epsilon in the group normalisation (the spec's advantage formula). */
    public static final double ADVANTAGE_EPSILON = GroupAdvantages.DEFAULT_EPS;

    /** A weight: a plain decimal number (Double.parseDouble would also take hex, a d/f suffix, NaN and Infinity). */
    private static final Pattern DECIMAL = Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");
    /** A reward's name in a spec: what the registry's rewards are called. */
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]*");

    /** How the weighted rewards are combined. */
    public enum Aggregation { WEIGHTED_SUM, ADVANTAGE_SUM }

    /** One reward and its weight. */
    public record Term(RewardFunction reward, double weight) {
        public Term {
            Objects.requireNonNull(reward, "reward");
            if (!Double.isFinite(weight)) {
                throw new IllegalArgumentException("weight of reward '" + reward.name() + "' must be finite, got " + weight);
            }
        }
    }

    private final List<Term> terms;
    private final Aggregation aggregation;

    public MultiReward(List<Term> terms, Aggregation aggregation) {
        Objects.requireNonNull(terms, "terms");
        Objects.requireNonNull(aggregation, "aggregation");
        if (terms.isEmpty()) throw new IllegalArgumentException("a multi-reward needs at least one reward, got none");
        Map<String, Integer> seen = new HashMap<>();
        for (Term t : terms) {
            if (seen.put(t.reward().name(), 1) != null) {
                throw new IllegalArgumentException("reward '" + t.reward().name() + "' appears twice in the multi-reward");
            }
        }
        this.terms = List.copyOf(terms);
        this.aggregation = aggregation;
    }

    /** Rewards from {@link RewardRegistry} by name with their weights (iteration order kept). */
    public static MultiReward of(Map<String, Double> weights, Aggregation aggregation) {
        return of(weights, aggregation, null);
    }

    /** {@link #of(Map, Aggregation)}, looking the names up in {@code loader} too (a plug-in class loader, or null). */
    public static MultiReward of(Map<String, Double> weights, Aggregation aggregation, ClassLoader loader) {
        Objects.requireNonNull(weights, "weights");
        // check every weight before creating any reward, so a bad spec fails fast and names the reward
        weights.forEach((name, w) -> {
            if (w == null || !Double.isFinite(w)) throw new IllegalArgumentException("weight of reward '" + name + "' must be finite, got " + w);
        });
        List<Term> terms = new ArrayList<>();
        weights.forEach((name, w) -> terms.add(new Term(RewardRegistry.create(name, loader), w)));
        return new MultiReward(terms, aggregation);
    }

    /** {@link #of} with the weights of {@link #parseWeights(String)}. */
    public static MultiReward parse(String spec, Aggregation aggregation) {
        return of(parseWeights(spec), aggregation, null);
    }

    /** {@link #parse(String, Aggregation)}, looking the names up in {@code loader} too (a plug-in class loader, or null). */
    public static MultiReward parse(String spec, Aggregation aggregation, ClassLoader loader) {
        return of(parseWeights(spec), aggregation, loader);
    }

    /**
     * Reads a reward spec, the one grammar of weighted rewards (the trainer's {@code reward} field is read by it too):
     * {@code name[:weight],...} or {@code name[=weight],...}, optionally inside braces with quoted names, JSON-like
     * ({@code {"alignment": 1.0, "jpeg_compressibility": 0.1}}). A name alone has weight 1. Names are lower-case
     * letters, digits, {@code _} and {@code -}, starting with a letter; weights are plain finite decimal numbers (no
     * hex, no {@code f}/{@code d} suffix, no NaN or Infinity). The order of the spec is kept. A term that starts with
     * {@code http://} or {@code https://} is a reward endpoint ({@link HttpReward}): the URL up to the next {@code ,}
     * (so a URL in a spec holds no comma), its weight after an {@code @}, e.g.
     * {@code alignment:1.0,http://127.0.0.1:8731/score@0.5}.
     *
     * @throws IllegalArgumentException naming the entry that cannot be read (an empty one included), a repeated name,
     *                                  or a spec that names no reward
     */
    public static Map<String, Double> parseWeights(String spec) {
        if (spec == null) throw new IllegalArgumentException("reward spec must name at least one reward, got null");
        String body = spec.strip();
        if (body.startsWith("{") && body.endsWith("}")) body = body.substring(1, body.length() - 1).strip();
        if (body.isEmpty()) throw new IllegalArgumentException("reward spec '" + spec + "' names no reward; expected name[:weight],...");
        Map<String, Double> out = new LinkedHashMap<>();
        for (String entry : body.split(",", -1)) {
            String e = entry.strip();
            if (e.isEmpty()) {
                throw new IllegalArgumentException("reward spec '" + spec + "' has an empty entry; expected name[:weight],...");
            }
            if (HttpReward.isEndpoint(unquote(e))) {
                // a URL holds ':' and '=': its weight, if any, follows an '@' (user info is refused, so '@' is free)
                String u = unquote(e);
                int at = u.lastIndexOf('@');
                String url = at < 0 ? u : u.substring(0, at).strip();
                HttpReward.endpoint(url);
                double w = 1.0;
                if (at >= 0) {
                    String ws = u.substring(at + 1).strip();
                    w = DECIMAL.matcher(ws).matches() ? Double.parseDouble(ws) : Double.NaN;
                    if (!Double.isFinite(w)) {
                        throw new IllegalArgumentException("weight of reward endpoint '" + url + "' in '" + spec
                                + "' must follow '@' as a finite decimal number such as http://127.0.0.1:8731/score@0.5, got '" + ws + "'");
                    }
                }
                if (out.put(url, w) != null) throw new IllegalArgumentException("reward '" + url + "' appears twice in '" + spec + "'");
                continue;
            }
            int sep = Math.max(e.lastIndexOf(':'), e.lastIndexOf('='));
            String name = unquote(sep < 0 ? e : e.substring(0, sep));
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("reward term '" + e + "' in '" + spec + "' must be name or name:weight with a"
                        + " lower-case name (letters, digits, _ or -, starting with a letter), got name '" + name + "'");
            }
            double w = 1.0;
            if (sep >= 0) {
                String ws = e.substring(sep + 1).strip();
                w = DECIMAL.matcher(ws).matches() ? Double.parseDouble(ws) : Double.NaN;
                if (!Double.isFinite(w)) {
                    throw new IllegalArgumentException("weight of reward '" + name + "' in '" + spec
                            + "' must be a finite decimal number such as 0.1, got '" + ws + "'");
                }
            }
            if (out.put(name, w) != null) throw new IllegalArgumentException("reward '" + name + "' appears twice in '" + spec + "'");
        }
        return out;
    }

    private static String unquote(String s) {
        String t = s.strip();
        if (t.length() >= 2 && (t.startsWith("\"") && t.endsWith("\"") || t.startsWith("'") && t.endsWith("'"))) {
            t = t.substring(1, t.length() - 1).strip();
        }
        return t;
    }

    public List<Term> terms() {
        return terms;
    }

    public Aggregation aggregation() {
        return aggregation;
    }

    /** "alignment*1.0 + jpeg_compressibility*0.1 (WEIGHTED_SUM)". */
    public String describe() {
        StringBuilder s = new StringBuilder();
        for (Term t : terms) {
            if (!s.isEmpty()) s.append(" + ");
            s.append(t.reward().name()).append('*').append(t.weight());
        }
        return s.append(" (").append(aggregation).append(')').toString();
    }

    /** The registry name of a multi-reward is its description, e.g. {@code alignment*1.0 (WEIGHTED_SUM)}. */
    @Override
    public String name() {
        return describe();
    }

    /**
     * {@link #score(Tensor, List, int[])} for a caller without group ids: images with equal prompts form a group (an
     * epoch samples a prompt for one group). Only ADVANTAGE_SUM reads the groups.
     */
    @Override
    public RewardOutput score(Tensor images, List<String> prompts) {
        int n = RewardFunction.checkInputs(name(), images, prompts);
        if (aggregation == Aggregation.WEIGHTED_SUM) return asRewardOutput(scoreDetailed(images, prompts, null));
        Map<String, Integer> ids = new HashMap<>();
        int[] groups = new int[n];
        for (int i = 0; i < n; i++) groups[i] = ids.computeIfAbsent(prompts.get(i), k -> ids.size());
        return asRewardOutput(scoreDetailed(images, prompts, groups));
    }

    /**
     * The combined score per image, and as metrics each reward's raw scores under its name (what the trainer reports
     * as {@code reward_<name>_mean}); every reward is called with the group ids.
     */
    @Override
    public RewardOutput score(Tensor images, List<String> prompts, int[] groupIds) {
        RewardFunction.checkInputs(name(), images, prompts, groupIds);
        return asRewardOutput(scoreDetailed(images, prompts, groupIds));
    }

    private static RewardOutput asRewardOutput(MultiRewardOutput o) {
        Map<String, double[]> metrics = new LinkedHashMap<>();
        o.perReward().forEach((k, v) -> metrics.put(k, v.scores()));
        return new RewardOutput(o.scores(), metrics);
    }

    /**
     * Scores the images with every reward (on the calling thread, in order, each given the group ids when there are
     * some) and combines them, keeping each reward's output and advantages.
     *
     * @param groupIds group of each image (images of one prompt share a group); required for ADVANTAGE_SUM, may be
     *                 null for WEIGHTED_SUM
     */
    public MultiRewardOutput scoreDetailed(Tensor images, List<String> prompts, int[] groupIds) {
        int n = RewardFunction.checkInputs("multi-reward", images, prompts);
        checkGroups(groupIds, n);
        Map<String, RewardOutput> outputs = new LinkedHashMap<>();
        for (Term t : terms) {
            RewardFunction f = t.reward();
            outputs.put(f.name(), groupIds == null ? f.scoreChecked(images, prompts) : f.scoreChecked(images, prompts, groupIds));
        }
        return combine(outputs, groupIds);
    }

    /** Combines outputs already computed (keys: reward names of this multi-reward), e.g. from {@link AsyncReward}. */
    public MultiRewardOutput combine(Map<String, RewardOutput> outputs, int[] groupIds) {
        double[][] raw = new double[terms.size()][];
        double[] weights = new double[terms.size()];
        int n = -1;
        for (int r = 0; r < terms.size(); r++) {
            String name = terms.get(r).reward().name();
            RewardOutput o = outputs.get(name);
            if (o == null) throw new IllegalArgumentException("no output for reward '" + name + "'; got " + outputs.keySet());
            if (n < 0) n = o.size();
            o.check(name, n);
            raw[r] = o.scores();
            weights[r] = terms.get(r).weight();
        }
        checkGroups(groupIds, n);
        double[] total = aggregate(aggregation, weights, raw, groupIds);
        Map<String, double[]> advantages = new LinkedHashMap<>();
        if (aggregation == Aggregation.ADVANTAGE_SUM) {
            for (int r = 0; r < terms.size(); r++) advantages.put(terms.get(r).reward().name(), groupAdvantages(raw[r], groupIds));
        }
        Map<String, RewardOutput> ordered = new LinkedHashMap<>();
        for (Term t : terms) ordered.put(t.reward().name(), outputs.get(t.reward().name()));
        return new MultiRewardOutput(total, ordered, advantages, aggregation);
    }

    private void checkGroups(int[] groupIds, int n) {
        if (groupIds == null) {
            if (aggregation == Aggregation.ADVANTAGE_SUM) {
                throw new IllegalArgumentException("ADVANTAGE_SUM normalises each reward within its group and needs group ids, got null");
            }
            return;
        }
        if (groupIds.length != n) throw new IllegalArgumentException("expected " + n + " group ids (one per image), got " + groupIds.length);
    }

    /**
     * The aggregation formula on plain arrays.
     *
     * @param raw raw[r][i] = score of image i under reward r
     */
    public static double[] aggregate(Aggregation aggregation, double[] weights, double[][] raw, int[] groupIds) {
        if (weights.length != raw.length) throw new IllegalArgumentException("expected one weight per reward (" + raw.length + "), got " + weights.length);
        int n = raw.length == 0 ? 0 : raw[0].length;
        double[] total = new double[n];
        for (int r = 0; r < raw.length; r++) {
            if (raw[r].length != n) throw new IllegalArgumentException("reward " + r + " has " + raw[r].length + " scores, expected " + n);
            double[] v = aggregation == Aggregation.ADVANTAGE_SUM ? groupAdvantages(raw[r], groupIds) : raw[r];
            for (int i = 0; i < n; i++) total[i] += weights[r] * v[i];
        }
        return total;
    }

    /** A_i = (R_i - mean_g) / (std_g + 1e-4), population std over the group g of i, plain mean, no clip. */
    private static double[] groupAdvantages(double[] r, int[] groupIds) {
        return GroupAdvantages.compute(r, groupIds, GroupAdvantages.StdMode.GROUP, Double.POSITIVE_INFINITY, ADVANTAGE_EPSILON,
                GroupAdvantages.Centring.PLAIN);
    }

    @Override
    public String toString() {
        return "MultiReward[" + describe() + "]";
    }
}
