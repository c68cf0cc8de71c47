package io.progrpo.app.torchscript;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.TorchScriptReward;
import io.progrpo.sampler.TorchScriptVelocityModel.ReferenceMode;
import io.progrpo.sampler.TorchScriptVelocityModel;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.jit.ScriptModule;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.EmbeddedWorld;
import io.progrpo.world.Tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Pro-GRPO end to end on the TorchScript fixtures (scripts/export-torchscript-fixtures): the policy's LoRA adapters
 * are the only parameters that change; the base weights, the decoder and the reward model stay bit-identical.
 */
class TorchScriptProGrpoTest {
    private static final TorchScriptReward.PromptTokenizer TOKENS = ps -> ps.stream().map(Tokenizer::encode).toArray(long[][]::new);

    @TempDir
    Path tmp;

    static Path fixtures() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("fixtures/torchscript");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("fixtures/torchscript not found; run scripts/export-torchscript-fixtures");
    }

    private TrainConfig config(String... extra) {
        List<String> sets = new java.util.ArrayList<>(List.of("epochs=2", "groupsPerEpoch=2", "groupSize=8",
                "pruneSchedule=8>4@2>2@3", "samplerSteps=4", "subsetSize=2", "evalSteps=2", "evalEvery=2", "evalPrompts=2",
                "checkpointEvery=2", "guidanceScale=2.0", "beta=0.01", "lr=0.01", "outDir=" + tmp.resolve("run")));
        sets.addAll(List.of(extra));
        return TrainConfig.resolve("pro-grpo", null, sets);
    }

    private static Map<String, float[]> snapshot(ScriptModule m) {
        Map<String, float[]> out = new HashMap<>();
        m.namedParameters().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    private static Map<String, float[]> snapshot(Path file) throws IOException {
        try (ScriptModule m = ScriptModule.load(file)) {
            return snapshot(m);
        }
    }

    @Test
    void proGrpoTrainsOnlyTheAdapters() throws IOException {
        TrainConfig c = config();
        Path dir = fixtures();
        Map<String, float[]> policy0 = snapshot(dir.resolve("velocity.pt"));
        Map<String, float[]> decoder0 = snapshot(dir.resolve("decoder.pt"));
        Map<String, float[]> scorer0 = snapshot(dir.resolve("scorer.pt"));
        long live = MemoryLedger.liveTensors();
        List<Map<String, Object>> history;
        Map<String, float[]> policy1;
        try (TorchScriptJob job = TorchScriptJob.build(c, TorchScriptModels.fixtures(dir), new EmbeddedWorld(16), TOKENS)) {
            assertEquals(0.0, job.reference().adapterScale(), "the KL reference is the same module with adapters disabled");
            assertEquals(8, job.trainer().policy().parameters().size());
            history = job.run(Path.of(c.outDir()), s -> { }).run(false);
            policy1 = snapshot(job.policy().scriptModule());
            assertEquals(decoder0.keySet(), snapshot(job.decoderModule()).keySet());
            snapshot(job.decoderModule()).forEach((k, v) -> assertArrayEquals(decoder0.get(k), v, "decoder " + k));
            snapshot(job.scorerModule()).forEach((k, v) -> assertArrayEquals(scorer0.get(k), v, "scorer " + k));
            job.policy().scriptModule().saveParameters(tmp.resolve("lora.pt"), true);
        }
        assertEquals(live, MemoryLedger.liveTensors(), "every tensor of the run is freed");

        // the Pro-GRPO schedule 8>4@2>2@3 over 4 steps: 2 groups x (8 rows x 2 steps + 4 x 1 + 2 x 1), twice with CFG
        Map<String, Object> last = history.get(history.size() - 1);
        assertEquals(2 * (8 * 2 + 4 + 2) * 2L, ((Number) last.get("nfe_sampling")).longValue());
        assertEquals(4, ((Number) last.get("trajectories_trained")).intValue());
        assertTrue(last.get("eval_reward") instanceof Number, "evaluated with the TorchScript decoder and reward");
        assertTrue(Double.isFinite(((Number) last.get("kl")).doubleValue()));

        assertEquals(policy0.keySet(), policy1.keySet());
        int changed = 0;
        for (String k : policy0.keySet()) {
            if (k.contains("lora_")) {
                if (!java.util.Arrays.equals(policy0.get(k), policy1.get(k))) changed++;
            } else {
                assertArrayEquals(policy0.get(k), policy1.get(k), "frozen base weight " + k + " is bit-identical");
            }
        }
        assertEquals(8, changed, "every lora_ parameter was trained");

        // the checkpoint and the saved adapters hold exactly the trained adapters
        Map<String, Tensor> ckpt = TensorIO.load(Path.of(c.outDir()).resolve("checkpoint").resolve("policy.pt"));
        Map<String, Tensor> lora = TensorIO.load(tmp.resolve("lora.pt"));
        try {
            assertEquals(8, ckpt.size());
            assertEquals(ckpt.keySet(), lora.keySet());
            lora.forEach((k, v) -> assertArrayEquals(policy1.get(k), v.toFloatArray(), k));
        } finally {
            ckpt.values().forEach(Tensor::close);
            lora.values().forEach(Tensor::close);
        }
    }

    @Test
    void frozenCopyReferenceWorksWithoutAnAdapterArgument() throws IOException {
        TrainConfig c = config("epochs=1", "groupsPerEpoch=1", "evalEvery=0", "checkpointEvery=0");
        TorchScriptModels f = TorchScriptModels.fixtures(fixtures());
        TorchScriptModels m = new TorchScriptModels(f.policy(), "blocks\\.1\\..*lora_B", TorchScriptVelocityModel.Options.DEFAULTS,
                ReferenceMode.AUTO, f.decoder(), f.decodeMethod(), f.scorer(), f.scoreMethod(), f.rewardName(), f.latentShape());
        Map<String, float[]> policy0 = snapshot(f.policy());
        try (TorchScriptJob job = TorchScriptJob.build(c, m, new EmbeddedWorld(16), TOKENS)) {
            assertEquals(1.0, job.reference().adapterScale(), "a frozen copy keeps the adapters as they were");
            assertTrue(job.reference().scriptModule() != job.policy().scriptModule());
            job.trainer().runEpoch(0, new io.progrpo.trainer.Phases(s -> { }));
            Map<String, float[]> policy1 = snapshot(job.policy().scriptModule());
            Map<String, float[]> ref1 = snapshot(job.reference().scriptModule());
            for (String k : policy0.keySet()) {
                boolean trained = k.startsWith("blocks.1.") && k.endsWith("lora_B");
                assertEquals(trained, !java.util.Arrays.equals(policy0.get(k), policy1.get(k)), k);
                assertArrayEquals(policy0.get(k), ref1.get(k), "the frozen reference's " + k);
            }
        }
    }

    @Test
    void decoderChecksAndBadFilesAreNamed() throws IOException {
        Path dir = fixtures();
        TrainConfig c = config();
        TorchScriptModels f = TorchScriptModels.fixtures(dir);
        long live = MemoryLedger.liveTensors();
        // a decoder file without the decode method
        TorchScriptModels noDecode = new TorchScriptModels(f.policy(), f.trainablePattern(), f.policyOptions(), f.referenceMode(),
                f.policy(), "decode", f.scorer(), f.scoreMethod(), f.rewardName(), f.latentShape());
        IllegalArgumentException method = assertThrows(IllegalArgumentException.class,
                () -> TorchScriptJob.build(c, noDecode, new EmbeddedWorld(16), TOKENS));
        assertTrue(method.getMessage().contains("velocity.pt") && method.getMessage().contains("'decode'"), method.getMessage());
        // a missing scorer
        TorchScriptModels missing = new TorchScriptModels(f.policy(), f.trainablePattern(), f.policyOptions(), f.referenceMode(),
                f.decoder(), f.decodeMethod(), dir.resolve("no-scorer.pt"), f.scoreMethod(), f.rewardName(), f.latentShape());
        NoSuchFileException nf = assertThrows(NoSuchFileException.class, () -> TorchScriptJob.build(c, missing, new EmbeddedWorld(16), TOKENS));
        assertTrue(nf.getMessage().contains("no-scorer.pt"), nf.getMessage());
        // a pattern that selects nothing
        TorchScriptModels none = new TorchScriptModels(f.policy(), "adapter\\.", f.policyOptions(), f.referenceMode(),
                f.decoder(), f.decodeMethod(), f.scorer(), f.scoreMethod(), f.rewardName(), f.latentShape());
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class, () -> TorchScriptJob.build(c, none, new EmbeddedWorld(16), TOKENS));
        assertTrue(p.getMessage().contains("'adapter\\.'"), p.getMessage());
        assertEquals(live, MemoryLedger.liveTensors(), "a failed build frees what it loaded");
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> new LatentPromptWorld(new EmbeddedWorld(16), 4, 0, 4));
        assertTrue(shape.getMessage().contains("[4, 0, 4]"), shape.getMessage());

        try (ScriptModule dec = ScriptModule.load(dir.resolve("decoder.pt")); ScriptModule vel = ScriptModule.load(dir.resolve("velocity.pt"));
             Scope s = Scope.open()) {
            TorchScriptDecoder d = new TorchScriptDecoder(dec, "decode");
            Tensor images = d.decode(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 4, 4, 4));
            assertArrayEquals(new long[] {2, 3, 16, 16}, images.shape());
            assertTrue(dec.trainableParameters().isEmpty(), "the decoder is frozen");
            RuntimeException wrong = assertThrows(RuntimeException.class, () -> d.decode(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 3, 4, 4)));
            assertTrue(wrong.getMessage().contains("decoder.pt decode([2, 3, 4, 4] float32"), wrong.getMessage());
            // a module whose method takes other arguments: TorchScript's schema check, naming file and method
            TorchScriptDecoder notADecoder = new TorchScriptDecoder(vel, "forward");
            assertFalse(vel.isTraining(), "a decoder module is put in eval mode");
            RuntimeException args = assertThrows(RuntimeException.class,
                    () -> notADecoder.decode(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 4, 4, 4)));
            assertTrue(args.getMessage().contains("velocity.pt forward([2, 4, 4, 4] float32"), args.getMessage());
        }
    }
}
