package io.progrpo.app.torchscript;

import io.progrpo.app.job.Jobs;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.TorchScriptReward;
import io.progrpo.sampler.PromptWorld;
import io.progrpo.sampler.TorchScriptVelocityModel;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.jit.ScriptModule;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.trainer.config.TrainConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * A GRPO job over TorchScript models: the policy (a {@link TorchScriptVelocityModel} whose trainable parameters are
 * the ones the pattern selects), its KL reference (when beta > 0), the decoder and the reward model, assembled into a
 * {@link GrpoTrainer} with the method, sampler, prune schedule and optimizer settings of a {@link TrainConfig}
 * (its world and model fields are not used: the files define the model). Closing the job frees all of it.
 *
 * <pre>{@code
 * TrainConfig c = TrainConfig.resolve("pro-grpo", null, List.of("groupSize=8", "pruneSchedule=8>4@2>2@3", "samplerSteps=4"));
 * try (TorchScriptJob job = TorchScriptJob.build(c, TorchScriptModels.fixtures(dir), new EmbeddedWorld(16),
 *         prompts -> prompts.stream().map(Tokenizer::encode).toArray(long[][]::new))) {
 *     job.run(Path.of("runs/ts"), System.out::println).run(false);
 *     job.policy().scriptModule().saveParameters(Path.of("runs/ts/lora.pt"), true);   // torch.load-able adapters
 * }
 * }</pre>
 */
public record TorchScriptJob(TrainConfig config, TorchScriptModels models, TorchScriptVelocityModel policy,
                             TorchScriptVelocityModel reference, ScriptModule decoderModule, ScriptModule scorerModule,
                             RewardFunction reward, GrpoTrainer trainer) implements AutoCloseable {

    /**
     * Loads the three files on the config's device and builds the trainer.
     *
     * @param prompts   the prompts and their conditioning (token ids for the policy); its latent shape is replaced by
     *                  {@code models.latentShape()}
     * @param tokenizer the reward model's token ids for a list of prompts
     * @throws IOException naming the file that is missing or not TorchScript
     * @throws IllegalArgumentException naming the file and the method, or the pattern, that does not fit
     */
    public static TorchScriptJob build(TrainConfig config, TorchScriptModels models, PromptWorld prompts,
                                       TorchScriptReward.PromptTokenizer tokenizer) throws IOException {
        Device device = Device.parse(config.device());
        GrpoTrainer.Settings settings = GrpoTrainer.Settings.of(config);
        GrpoTrainer.Plan plan = Jobs.plan(config);
        TorchScriptVelocityModel policy = null;
        TorchScriptVelocityModel reference = null;
        ScriptModule decoder = null;
        ScriptModule scorer = null;
        try {
            policy = TorchScriptVelocityModel.load(models.policy(), device, models.trainablePattern(), models.policyOptions());
            if (settings.beta() > 0) reference = policy.reference(models.referenceMode());
            decoder = ScriptModule.load(models.decoder(), device);
            scorer = ScriptModule.load(models.scorer(), device);
            TorchScriptDecoder dec = new TorchScriptDecoder(decoder, models.decodeMethod());
            RewardFunction reward = new TorchScriptReward(models.rewardName(), scorer, models.scoreMethod(), tokenizer);
            GrpoTrainer trainer = new GrpoTrainer(settings, plan, policy, reference,
                    new LatentPromptWorld(prompts, models.latentShape()), reward, dec);
            return new TorchScriptJob(config, models, policy, reference, decoder, scorer, reward, trainer);
        } catch (IOException | RuntimeException e) {
            if (reference != null) reference.close();
            if (policy != null) policy.close();
            if (decoder != null) decoder.close();
            if (scorer != null) scorer.close();
            throw e;
        }
    }

    /** The epoch loop with evaluation, checkpoints (the trainable parameters) and metrics under {@code out}. */
    public TrainingRun run(Path out, Consumer<String> log) {
        return new TrainingRun(config, trainer, reward, out, log).listener(io.progrpo.app.report.ProgressListener.forTerminal());
    }

    @Override
    public void close() {
        trainer.close();
        if (reference != null) reference.close();  // before the policy: an adapters-disabled reference shares its module
        policy.close();
        decoderModule.close();
        scorerModule.close();
    }
}
