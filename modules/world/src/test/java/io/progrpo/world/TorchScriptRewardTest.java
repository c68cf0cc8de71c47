package io.progrpo.world;

import io.progrpo.reward.AsyncReward;
import io.progrpo.reward.RewardOutput;
import io.progrpo.reward.TorchScriptReward;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.world.Prompt;
import io.progrpo.world.PromptSet;
import io.progrpo.world.Renderer;
import io.progrpo.world.Tokenizer;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.jit.ScriptModule;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** The TorchScript two-tower scorer fixture (scripts/export-torchscript-fixtures) as a reward. */
class TorchScriptRewardTest {
    private static final TorchScriptReward.PromptTokenizer WORLD = ps -> ps.stream().map(Tokenizer::encode).toArray(long[][]::new);

    static Path fixtures() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("fixtures/torchscript");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("fixtures/torchscript not found; run scripts/export-torchscript-fixtures");
    }

    @Test
    void scoresMatchPythonForTheSameImagesAndTokenIds() throws IOException {
        try (ScriptModule scorer = ScriptModule.load(fixtures().resolve("scorer.pt"));
             ScriptModule ref = ScriptModule.load(fixtures().resolve("reference_io.pt"));
             Scope s = Scope.open()) {
            Map<String, Tensor> io = ref.namedBuffers();
            long[] cond = io.get("cond").toLongArray();
            int n = (int) io.get("images").size(0);
            long[][] rows = new long[n][];
            for (int i = 0; i < n; i++) rows[i] = java.util.Arrays.copyOfRange(cond, i * 3, i * 3 + 3);
            TorchScriptReward reward = new TorchScriptReward("two_tower", scorer, ps -> rows);
            RewardOutput out = reward.scoreChecked(io.get("images"), Collections.nCopies(n, "ignored"));
            float[] expected = io.get("scores").toFloatArray();
            for (int i = 0; i < n; i++) assertEquals(expected[i], out.scores()[i], 1e-5, "score " + i);
        }
    }

    @Test
    void scoresRenderedWorldImagesInRangeAlsoOnTheAsyncWorker() throws Exception {
        List<Prompt> prompts = PromptSet.split(0).train().subList(0, 4);
        List<String> texts = prompts.stream().map(Prompt::text).toList();
        try (ScriptModule scorer = ScriptModule.load(fixtures().resolve("scorer.pt"));
             Scope s = Scope.open()) {
            TorchScriptReward reward = new TorchScriptReward("two_tower", scorer, WORLD);
            Tensor images = Tensor.of(new Renderer(16, 16).renderBatch(prompts, 42), 4, 3, 16, 16);
            double[] direct = reward.scoreChecked(images, texts).scores();
            for (double d : direct) assertTrue(d >= -1 - 1e-6 && d <= 1 + 1e-6, "cosine score " + d);
            try (AsyncReward async = new AsyncReward(reward)) {
                double[] viaWorker = async.submit(images, texts).get().scores();
                for (int i = 0; i < 4; i++) assertEquals(direct[i], viaWorker[i], 1e-6);
            }
        }
    }

    @Test
    void badInputsAreNamed() throws IOException {
        try (ScriptModule scorer = ScriptModule.load(fixtures().resolve("scorer.pt"));
             ScriptModule decoder = ScriptModule.load(fixtures().resolve("decoder.pt"));
             Scope s = Scope.open()) {
            IllegalArgumentException method = assertThrows(IllegalArgumentException.class,
                    () -> new TorchScriptReward("r", scorer, "score", WORLD));
            assertTrue(method.getMessage().contains("scorer.pt") && method.getMessage().contains("'score'"), method.getMessage());
            TorchScriptReward reward = new TorchScriptReward("two_tower", scorer, WORLD);
            List<String> two = List.of("a red circle at the left", "a blue square at the top");
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> reward.score(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 1, 16, 16), two));
            assertTrue(shape.getMessage().contains("two_tower") && shape.getMessage().contains("[2, 1, 16, 16]"), shape.getMessage());
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                    () -> reward.score(Tensor.zeros(DType.INT64, Device.CPU, 2, 3, 16, 16), two));
            assertTrue(dtype.getMessage().contains("int64") || dtype.getMessage().contains("INT64"), dtype.getMessage());
            IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                    () -> reward.score(Tensor.zeros(DType.FLOAT32, Device.CPU, 3, 3, 16, 16), two));
            assertTrue(count.getMessage().contains("3 images and 2 prompts"), count.getMessage());
            TorchScriptReward ragged = new TorchScriptReward("ragged", scorer, ps -> new long[][] {{1, 2, 3}, {1, 2}});
            IllegalArgumentException r = assertThrows(IllegalArgumentException.class,
                    () -> ragged.score(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 3, 16, 16), two));
            assertTrue(r.getMessage().contains("token row 1 has 2 ids"), r.getMessage());
            // a module whose method takes other arguments: TorchScript's schema check, naming file and method
            TorchScriptReward wrong = new TorchScriptReward("wrong", decoder, "decode", WORLD);
            RuntimeException schema = assertThrows(RuntimeException.class,
                    () -> wrong.score(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 3, 16, 16), two));
            assertTrue(schema.getMessage().contains("decoder.pt decode("), schema.getMessage());
        }
    }
}
