package io.progrpo.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.app.job.Jobs;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.config.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Test-only entry point for a child JVM (one intra-op thread): short runs of several methods through
 * {@link Jobs#build} and {@link TrainingRun}, single-process and as a one-rank data-parallel job, and writes every
 * non-timing metric of every line, plus a checksum of the deterministic and the stochastic figure samples, as JSON
 * lines to {@code args[0]}. {@link EpochGoldenTest} compares that output with the lines recorded from the trainer
 * before its epoch paths were merged ({@code epoch-golden.jsonl}).
 */
public final class EpochGoldenMain {
    private EpochGoldenMain() {}

    /** Wall-clock keys: the only ones that may differ between two runs of the same code. */
    static final Set<String> TIMING_KEYS = Set.of("seconds", "epoch_seconds", "wall_seconds", "memory");

    /** A named short run: a preset, overrides, and the prompt groups per step of a one-rank data-parallel job (0: none). */
    record Scenario(String name, String preset, List<String> sets, int dataParallelGroupsPerStep) {}

    /** klForm=policy: the KL as the recorded paths computed it (the code form is KlFormTest's, against it). */
    private static final List<String> SMALL = List.of("modelWidth=8", "imageSize=8", "pretrainSteps=2", "epochs=2",
            "evalEvery=1", "evalPrompts=2", "evalSteps=3", "checkpointEvery=0", "seed=19", "klForm=policy");

    static List<Scenario> scenarios() {
        return List.of(
                // CFG (guidance 4.5), a KL reference, micro-batches that straddle steps, three groups in one batch
                new Scenario("flow-grpo", "flow-grpo", List.of("groupsPerEpoch=3", "groupSize=4", "samplerSteps=3",
                        "microBatch=5", "beta=0.01"), 0),
                // DDIM-eta, one shared initial noise per group, a random half of the steps trained
                new Scenario("dance-grpo", "dance-grpo", List.of("groupsPerEpoch=2", "groupSize=4", "samplerSteps=4",
                        "trainStepFraction=0.5"), 0),
                // expand and prune with OVF at two checkpoints, global std
                new Scenario("pro-grpo", "pro-grpo", List.of("groupsPerEpoch=2", "groupSize=8", "pruneSchedule=8>4@1>2@2",
                        "samplerSteps=3", "stdMode=global"), 0),
                // the uniform subset draws from the driver's random stream
                new Scenario("uniform-subsample", "uniform-subsample", List.of("groupsPerEpoch=2", "groupSize=6",
                        "subsetSize=3", "samplerSteps=3"), 0),
                // one-rank data-parallel jobs: group-seeded sampling, two groups per optimizer step
                new Scenario("dp1-flow-grpo", "flow-grpo", List.of("groupsPerEpoch=4", "groupSize=4", "samplerSteps=3",
                        "microBatch=3"), 2),
                new Scenario("dp1-pro-grpo", "pro-grpo", List.of("groupsPerEpoch=2", "groupSize=8", "pruneSchedule=8>4@1>2@2",
                        "samplerSteps=3"), 1));
    }

    public static void main(String[] args) throws Exception {
        Path outFile = Path.of(args[0]);
        Path work = Files.createTempDirectory("epoch-golden");
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        Map<String, Object> head = new LinkedHashMap<>();
        head.put("libtorch", Torch.version());
        lines.add(json.writeValueAsString(head));
        for (Scenario s : scenarios()) {
            List<String> sets = new ArrayList<>(SMALL);
            sets.addAll(s.sets());
            sets.add("outDir=" + work.resolve(s.name()));
            TrainConfig c = TrainConfig.resolve(s.preset(), null, sets);
            try (Jobs.Job job = Jobs.build(c, m -> { })) {
                if (s.dataParallelGroupsPerStep() > 0) {
                    job.trainer().dataParallel(GrpoTrainer.DataParallel.single(s.dataParallelGroupsPerStep()));
                }
                List<Map<String, Object>> history = job.run(work.resolve(s.name()), m -> { }).run(false);
                for (int i = 0; i < history.size(); i++) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("scenario", s.name());
                    row.put("line", i);
                    history.get(i).forEach((k, v) -> {
                        if (!TIMING_KEYS.contains(k)) row.put(k, v);
                    });
                    lines.add(json.writeValueAsString(row));
                }
                List<String> prompts = job.world().evalPrompts().subList(0, 2);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("scenario", s.name());
                row.put("line", "samples");
                try (Tensor a = job.trainer().samples(prompts, 77); Tensor b = job.trainer().samplesSde(prompts, 100)) {
                    row.put("samples_crc", crc(a));
                    row.put("samples_sde_crc", crc(b));
                }
                lines.add(json.writeValueAsString(row));
            }
        }
        Files.write(outFile, lines);
    }

    /** CRC32 of the float32 bits of a tensor, in order. */
    static long crc(Tensor t) {
        float[] v = t.toFloatArray();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(v.length * 4);
        for (float f : v) buf.putFloat(f);
        CRC32 c = new CRC32();
        c.update(buf.array());
        return c.getValue();
    }
}
