package io.progrpo.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.progrpo.app.cli.AdapterPlan;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.files.Manifest;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.trainer.config.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The work of {@code progrpo adapters}: {@code base + scale * sum_i w_i * (theta_i - base)} over trained parameters
 * ({@link AdapterPlan}). Averaging seeds' updates, rescaling one run's update and keeping only some layers' updates are
 * the uses; docs/research.md uses all three to take flow-grpo's seed spread apart.
 *
 * <p>Every input must hold exactly the base's trained parameters, with the base's dtypes and shapes, and every checkpoint
 * must agree with the first in the config fields that select the base model ({@link #BASE_FIELDS}). That check cannot
 * see a base model that changed under the same config (another progrpo version's pretraining recipe).
 */
final class AdapterArithmetic {
    /** Config fields that select the base model; checkpoints that differ in one of them were not trained from one base. */
    static final List<String> BASE_FIELDS = List.of("world", "imageSize", "modelWidth", "pretrainSteps", "modelDtype");

    private AdapterArithmetic() {}

    /**
     * The combination, and the norms of what went into it (all over the combined parameters only).
     *
     * @param params      every base parameter by name: the combination where {@code only} finds the name, otherwise a copy
     *                    of the base's value; caller-owned
     * @param combined    how many parameters were combined
     * @param inputNorms  ||theta_i - base|| per input
     * @param outputNorm  ||result - base||
     */
    record Result(Map<String, Tensor> params, int combined, double[] inputNorms, double outputNorm) implements AutoCloseable {
        @Override
        public void close() {
            params.values().forEach(Tensor::close);
        }
    }

    /**
     * Combines {@code inputs} around {@code base}. {@code labels} name the inputs in errors (their files).
     *
     * @throws IllegalArgumentException when an input lacks a base parameter, has one more, or one of another shape or
     *                                  dtype, or when {@code only} finds no parameter
     */
    static Result combine(Map<String, Tensor> base, List<Map<String, Tensor>> inputs, List<String> labels, List<Double> weights,
                          double scale, Pattern only) {
        Objects.requireNonNull(base, "base");
        if (inputs.size() != weights.size() || inputs.size() != labels.size()) {
            throw new IllegalArgumentException(inputs.size() + " inputs, " + weights.size() + " weights and " + labels.size() + " labels: one each");
        }
        for (int i = 0; i < inputs.size(); i++) check(base, inputs.get(i), labels.get(i));
        java.util.Set<String> names = base.keySet().stream().filter(n -> only == null || only.matcher(n).find())
                .collect(java.util.stream.Collectors.toSet());
        if (names.isEmpty()) {
            throw new IllegalArgumentException("--only '" + only + "' finds none of the " + base.size() + " trained parameters (first: '"
                    + base.keySet().iterator().next() + "')");
        }
        double[] inputNorms = new double[inputs.size()];
        double outSq = 0;
        Map<String, Tensor> out = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Tensor> e : base.entrySet()) {
                Tensor b = e.getValue();
                if (!names.contains(e.getKey())) {
                    out.put(e.getKey(), b.detach());
                    continue;
                }
                try (Tensor acc = Tensor.zeros(b.dtype(), b.device(), b.shape())) {
                    for (int i = 0; i < inputs.size(); i++) {
                        try (Tensor d = inputs.get(i).get(e.getKey()).sub(b)) {
                            inputNorms[i] += squaredNorm(d);
                            acc.addInPlace(d, weights.get(i) * scale);
                        }
                    }
                    outSq += squaredNorm(acc);
                    out.put(e.getKey(), b.add(acc));
                }
            }
        } catch (RuntimeException ex) {
            out.values().forEach(Tensor::close);
            throw ex;
        }
        for (int i = 0; i < inputNorms.length; i++) inputNorms[i] = Math.sqrt(inputNorms[i]);
        return new Result(out, names.size(), inputNorms, Math.sqrt(outSq));
    }

    private static double squaredNorm(Tensor t) {
        try (Tensor sq = t.mul(t); Tensor s = sq.sum()) {
            return s.item();
        }
    }

    private static void check(Map<String, Tensor> base, Map<String, Tensor> in, String label) {
        for (Map.Entry<String, Tensor> e : base.entrySet()) {
            Tensor t = in.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException(label + " lacks the trained parameter '" + e.getKey() + "' of the base model ("
                        + in.size() + " tensors there, " + base.size() + " expected): it is not a run of this model");
            }
            if (!Arrays.equals(t.shape(), e.getValue().shape()) || t.dtype() != e.getValue().dtype()) {
                throw new IllegalArgumentException(label + ": '" + e.getKey() + "' is " + t.dtype() + " " + Arrays.toString(t.shape())
                        + ", expected " + e.getValue().dtype() + " " + Arrays.toString(e.getValue().shape()) + " as in the base model");
            }
        }
        for (String k : in.keySet()) {
            if (!base.containsKey(k)) {
                throw new IllegalArgumentException(label + " holds '" + k + "', which is not a trained parameter of the base model ("
                        + base.size() + " are): it is not a run of this model");
            }
        }
    }

    /**
     * The first checkpoint's config, after checking that every checkpoint agrees with it in {@link #BASE_FIELDS}
     * and that every checkpoint's files match its manifest.
     *
     * @throws IllegalArgumentException naming the field and both values when two checkpoints do not share a base
     * @throws IOException              when a config cannot be read or a file changed after its checkpoint was written
     */
    static TrainConfig baseConfig(AdapterPlan plan) throws IOException {
        List<Path> dirs = plan.checkpoints();
        TrainConfig first = TrainConfig.fromJsonFile(dirs.get(0).resolve("config.json"));
        Map<String, Object> firstMap = first.toMap();
        for (Path d : dirs.subList(1, dirs.size())) {
            Map<String, Object> m = TrainConfig.fromJsonFile(d.resolve("config.json")).toMap();
            for (String f : BASE_FIELDS) {
                if (!Objects.equals(m.get(f), firstMap.get(f))) {
                    throw new IllegalArgumentException(d + " was trained with " + f + "=" + m.get(f) + " and " + dirs.get(0) + " with "
                            + f + "=" + firstMap.get(f) + ": their updates are not around the same base model");
                }
            }
        }
        for (Path d : dirs) TrainingRun.verifyCheckpoint(d);
        return first;
    }

    /**
     * Runs {@code plan} around {@code base} (the base model's trained parameters, not closed here): writes policy.pt,
     * config.json, adapters.json and manifest.sha256 into the plan's directory.
     *
     * @throws IOException when a checkpoint cannot be read or the output cannot be written
     */
    static void run(AdapterPlan plan, Map<String, Tensor> base, Consumer<String> log) throws IOException {
        List<Path> dirs = plan.checkpoints();
        List<Map<String, Tensor>> inputs = new java.util.ArrayList<>();
        try (var ng = Autograd.noGrad()) {
            for (Path d : dirs) inputs.add(TensorIO.load(d.resolve("policy.pt")));
            List<String> labels = dirs.stream().map(d -> d.resolve("policy.pt").toString()).toList();
            try (Result r = combine(base, inputs, labels, plan.weights(), plan.scale(), plan.only())) {
                write(plan, r, base.size());
                log.accept(String.format(java.util.Locale.ROOT, "combined %d checkpoint(s) over %d of %d trained parameters: "
                                + "||update|| %.4e (inputs: %s) -> %s", dirs.size(), r.combined(), base.size(), r.outputNorm(),
                        Arrays.stream(r.inputNorms()).mapToObj(x -> String.format(java.util.Locale.ROOT, "%.4e", x)).toList(),
                        plan.out().resolve("policy.pt")));
            }
        } finally {
            for (Map<String, Tensor> m : inputs) m.values().forEach(Tensor::close);
        }
    }

    private static void write(AdapterPlan plan, Result r, int total) throws IOException {
        Path out = plan.out();
        Files.createDirectories(out);
        TensorIO.save(out.resolve("policy.pt"), r.params());
        Files.copy(plan.checkpoints().get(0).resolve("config.json"), out.resolve("config.json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ObjectMapper json = new ObjectMapper();
        ObjectNode doc = json.createObjectNode();
        doc.put("formula", "base + scale * sum_i weight_i * (theta_i - base)");
        ArrayNode in = doc.putArray("inputs");
        for (int i = 0; i < plan.checkpoints().size(); i++) {
            Path p = plan.checkpoints().get(i).resolve("policy.pt");
            in.addObject().put("policy", p.toString()).put("sha256", Manifest.sha256(p)).put("weight", plan.weights().get(i))
                    .put("update_norm", r.inputNorms()[i]);
        }
        doc.put("scale", plan.scale());
        doc.put("only", plan.only() == null ? null : plan.only().pattern());
        doc.put("combined_parameters", r.combined());
        doc.put("trained_parameters", total);
        doc.put("update_norm", r.outputNorm());
        Files.writeString(out.resolve("adapters.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n");
        Manifest.write(out.resolve("manifest.sha256"), List.of("adapters.json", "config.json", "policy.pt"));
    }
}
