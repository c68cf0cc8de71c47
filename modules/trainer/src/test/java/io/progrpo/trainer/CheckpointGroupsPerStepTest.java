package io.progrpo.trainer;

import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checkpoint records how many prompt groups one optimizer step averaged; a resume that changes it says so. */
class CheckpointGroupsPerStepTest {
    @TempDir
    Path tmp;

    @Test
    void theCheckpointRecordsGroupsPerStepAndAResumeThatChangesItWarns() throws Exception {
        TrainConfig c = TrainConfig.resolve("flow-grpo", null, List.of("epochs=2", "checkpointEvery=1", "evalEvery=0",
                "outDir=" + tmp));
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(Double.MAX_VALUE))) {
            int k = t.groupsPerStep();
            new TrainingRun(TrainConfig.resolve("flow-grpo", null, List.of("epochs=1", "checkpointEvery=1", "evalEvery=0",
                    "outDir=" + tmp)), t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), tmp, s -> { }).run(false);
            Path state = tmp.resolve("checkpoint").resolve("state.json");
            String json = Files.readString(state).replace(" ", "");
            assertTrue(json.contains("\"groups_per_step\":" + k), json);

            // the same value: resumes silently
            List<String> log = new ArrayList<>();
            new TrainingRun(c, t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), tmp, log::add).run(true);
            assertTrue(log.stream().noneMatch(l -> l.contains("groups per optimizer step")), String.join("\n", log));

            // a checkpoint written with another value: the resume warns, naming both
            Files.writeString(state, Files.readString(state).replaceAll("\"groups_per_step\"\\s*:\\s*\\d+", "\"groups_per_step\" : " + (k + 3))
                    .replaceAll("\"epoch\"\\s*:\\s*\\d+", "\"epoch\" : 0"));
            // an edit on purpose: recorded anew in the manifest, as the message of a mismatch says to
            io.progrpo.tensor.files.Manifest.write(state.resolveSibling(Checkpoints.MANIFEST), Checkpoints.FILES);
            log.clear();
            new TrainingRun(c, t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), tmp, log::add).run(true);
            List<String> warnings = log.stream().filter(l -> l.startsWith("warning:")).toList();
            assertEquals(1, warnings.size(), String.join("\n", log));
            assertTrue(warnings.get(0).contains((k + 3) + " prompt groups") && warnings.get(0).contains("takes " + k), warnings.get(0));
        }
    }
}
