package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.app.cli.AdapterPlan;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.trainer.MetricsLog;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * {@code progrpo adapters}: the formula recomputed in double precision on random tensors, every input it refuses, and
 * the end to end check that the written checkpoints evaluate as they must (one run at weight 1 is that run, scale 0
 * is the base model).
 */
class AdapterArithmeticTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    @BeforeEach
    void cache() {
        CACHE.point(tmp.resolve("cache"));
    }

    private static final long[][] SHAPES = {{3, 4}, {5}, {2, 3, 2}, {7, 1}};

    private static Map<String, Tensor> random(Generator g) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        String[] names = {"block0.q.lora_A", "block0.q.lora_B", "block1.cross.lora_A", "block1.cross.lora_B"};
        for (int i = 0; i < names.length; i++) m.put(names[i], Tensor.randn(g, SHAPES[i]));
        return m;
    }

    @Test
    void combineIsBasePlusScaledWeightedUpdatesRecomputedInDouble() {
        long live = MemoryLedger.liveTensors();
        SplittableRandom rng = new SplittableRandom(17);
        for (int trial = 0; trial < 5; trial++) {
            try (Generator g = Generator.create(100 + trial, Device.CPU)) {
                Map<String, Tensor> base = random(g);
                List<Map<String, Tensor>> inputs = List.of(random(g), random(g), random(g));
                List<Double> w = List.of(rng.nextDouble(-1, 1), rng.nextDouble(-1, 1), rng.nextDouble(-1, 1));
                double scale = rng.nextDouble(-2, 3);
                Pattern only = trial % 2 == 0 ? Pattern.compile("cross") : null;
                try (AdapterArithmetic.Result r = AdapterArithmetic.combine(base, inputs, List.of("a", "b", "c"), w, scale, only)) {
                    double outSq = 0;
                    double[] inSq = new double[3];
                    for (String name : base.keySet()) {
                        float[] b = base.get(name).toFloatArray();
                        float[] got = r.params().get(name).toFloatArray();
                        assertArrayEquals(base.get(name).shape(), r.params().get(name).shape(), name);
                        if (only != null && !only.matcher(name).find()) {
                            assertArrayEquals(b, got, name + " is not combined: the base's values");
                            continue;
                        }
                        for (int j = 0; j < b.length; j++) {
                            double update = 0;
                            for (int i = 0; i < 3; i++) {
                                double d = (double) inputs.get(i).get(name).toFloatArray()[j] - b[j];
                                update += w.get(i) * d;
                                inSq[i] += d * d;
                            }
                            update *= scale;
                            outSq += update * update;
                            assertEquals(b[j] + update, got[j], 1e-5 * (1 + Math.abs(b[j] + update)), name + "[" + j + "]");
                        }
                    }
                    assertEquals(only == null ? 4 : 2, r.combined());
                    assertEquals(Math.sqrt(outSq), r.outputNorm(), 1e-5 * Math.sqrt(outSq));
                    for (int i = 0; i < 3; i++) assertEquals(Math.sqrt(inSq[i]), r.inputNorms()[i], 1e-5 * Math.sqrt(inSq[i]));
                } finally {
                    base.values().forEach(Tensor::close);
                    inputs.forEach(m -> m.values().forEach(Tensor::close));
                }
            }
        }
        assertEquals(live, MemoryLedger.liveTensors(), "every tensor the combinations made is freed");
    }

    @Test
    void inputsThatAreNotRunsOfTheBaseAreRefusedWithTheNameAndWhatWasExpected() {
        long live = MemoryLedger.liveTensors();
        try (Generator g = Generator.create(5, Device.CPU)) {
            Map<String, Tensor> base = random(g);
            Map<String, Tensor> missing = random(g);
            missing.remove("block0.q.lora_B").close();
            Map<String, Tensor> extra = random(g);
            extra.put("block9.other", Tensor.zeros(2));
            Map<String, Tensor> shape = random(g);
            shape.put("block0.q.lora_A", Tensor.zeros(4, 3)).close();
            Map<String, Tensor> dtype = random(g);
            dtype.put("block0.q.lora_A", Tensor.zeros(DType.FLOAT64, Device.CPU, 3, 4)).close();
            Map<String, Tensor> fine = random(g);
            try {
                assertMessage(base, missing, null, "lacks the trained parameter 'block0.q.lora_B'");
                assertMessage(base, extra, null, "holds 'block9.other', which is not a trained parameter");
                assertMessage(base, shape, null, "'block0.q.lora_A' is float32 [4, 3], expected float32 [3, 4]");
                assertMessage(base, dtype, null, "'block0.q.lora_A' is float64 [3, 4], expected float32 [3, 4]");
                assertMessage(base, fine, Pattern.compile("nowhere"), "--only 'nowhere' finds none of the 4 trained parameters");
            } finally {
                for (Map<String, Tensor> m : List.of(base, missing, extra, shape, dtype, fine)) m.values().forEach(Tensor::close);
            }
        }
        assertEquals(live, MemoryLedger.liveTensors(), "a refused combination leaves no tensor behind");
    }

    private static void assertMessage(Map<String, Tensor> base, Map<String, Tensor> in, Pattern only, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AdapterArithmetic.combine(base, List.of(in), List.of("run.pt"), List.of(1.0), 1.0, only));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private Path train(String name, long seed) {
        Path run = tmp.resolve(name);
        TrainConfig c = TrainConfig.resolve("flow-grpo+quick", null, List.of("modelWidth=8", "imageSize=8", "pretrainSteps=2",
                "evalSteps=2", "epochs=2", "evalEvery=1", "checkpointEvery=1", "seed=" + seed, "outDir=" + run));
        assertEquals(0, new ProgrpoCommands().train(c, false));
        return run;
    }

    private static double evalRow(Path run, int fromEnd) throws IOException {
        List<Map<String, Object>> rows = MetricsLog.read(run.resolve("metrics.jsonl"));
        List<Double> evals = new ArrayList<>();
        for (Map<String, Object> r : rows) if (r.get("eval_reward") != null) evals.add(((Number) r.get("eval_reward")).doubleValue());
        return fromEnd < 0 ? evals.get(0) : evals.get(evals.size() - 1 - fromEnd);
    }

    private double evalOf(Path checkpoint) throws IOException {
        TrainConfig c = TrainConfig.fromJsonFile(checkpoint.resolve("config.json"));
        Path result = tmp.resolve("eval-" + checkpoint.getFileName() + ".json");
        assertEquals(0, new ProgrpoCommands().eval(c, checkpoint, result));
        return new ObjectMapper().readTree(result.toFile()).get("eval_reward").asDouble();
    }

    @Test
    void writtenCheckpointsEvaluateAsTheFormulaSaysAndCarryTheirProvenance() throws Exception {
        Path a = train("a", 1).resolve("checkpoint");
        Path b = train("b", 2).resolve("checkpoint");
        ProgrpoCommands commands = new ProgrpoCommands();

        Path same = tmp.resolve("same");
        assertEquals(0, commands.adapters(new AdapterPlan(List.of(a), List.of(1.0), 1.0, null, same)));
        assertEquals(evalRow(a.getParent(), 0), evalOf(same), 1e-6, "one run at weight 1 and scale 1 is that run");

        Path none = tmp.resolve("none");
        assertEquals(0, commands.adapters(new AdapterPlan(List.of(a, b), List.of(0.5, 0.5), 0.0, null, none)));
        assertEquals(evalRow(a.getParent(), -1), evalOf(none), 1e-6, "scale 0 is the base model (the evaluation before training)");
        assertEquals(evalRow(a.getParent(), -1), evalRow(b.getParent(), -1), 1e-12, "both runs start from one base model");

        Path avg = tmp.resolve("avg");
        assertEquals(0, commands.adapters(new AdapterPlan(List.of(a, b), AdapterPlan.averageWeights(2), 1.0, null, avg)));
        Map<String, Tensor> pa = TensorIO.load(a.resolve("policy.pt"));
        Map<String, Tensor> pb = TensorIO.load(b.resolve("policy.pt"));
        Map<String, Tensor> pm = TensorIO.load(avg.resolve("policy.pt"));
        try {
            assertEquals(pa.keySet(), pm.keySet());
            for (String k : pa.keySet()) {
                float[] x = pa.get(k).toFloatArray(), y = pb.get(k).toFloatArray(), m = pm.get(k).toFloatArray();
                // base + (a - base)/2 + (b - base)/2 = (a + b)/2, whatever the base
                for (int j = 0; j < x.length; j++) assertEquals(0.5 * x[j] + 0.5 * y[j], m[j], 1e-5 * (1 + Math.abs(m[j])), k);
            }
        } finally {
            for (Map<String, Tensor> t : List.of(pa, pb, pm)) t.values().forEach(Tensor::close);
        }
        JsonNode doc = new ObjectMapper().readTree(avg.resolve("adapters.json").toFile());
        assertEquals(2, doc.get("inputs").size());
        assertEquals(io.progrpo.tensor.files.Manifest.sha256(b.resolve("policy.pt")), doc.get("inputs").get(1).get("sha256").asText());
        assertEquals(0.5, doc.get("inputs").get(0).get("weight").asDouble());
        TrainingRun.verifyCheckpoint(avg);  // the manifest matches what was written

        Files.writeString(avg.resolve("config.json"), Files.readString(avg.resolve("config.json")).replace("\"seed\"", "\"seed\" "));
        IOException changed = assertThrows(IOException.class, () -> TrainingRun.verifyCheckpoint(avg));
        assertTrue(changed.getMessage().contains("config.json"), changed.getMessage());
    }

    @Test
    void checkpointsOfAnotherBaseModelAreRefusedBeforeAnythingIsBuilt() throws Exception {
        Path a = train("a", 1).resolve("checkpoint");
        Path other = tmp.resolve("other");
        Files.createDirectories(other);
        Files.copy(a.resolve("policy.pt"), other.resolve("policy.pt"));
        Files.writeString(other.resolve("config.json"), TrainConfig.fromJsonFile(a.resolve("config.json"))
                .with(Map.of("modelWidth", 16), "test").toJson());
        AdapterPlan p = new AdapterPlan(List.of(a, other), AdapterPlan.averageWeights(2), 1.0, null, tmp.resolve("out"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AdapterArithmetic.baseConfig(p));
        assertTrue(e.getMessage().contains("modelWidth=16") && e.getMessage().contains("modelWidth=8"), e.getMessage());
        assertEquals(1, new ProgrpoCommands().adapters(p));
        assertTrue(Files.notExists(tmp.resolve("out")), "nothing written");
    }
}
