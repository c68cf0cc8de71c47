package io.progrpo.app.cli;

import io.progrpo.app.study.StudyOptions;
import io.progrpo.app.torchscript.TorchScriptModels;
import io.progrpo.trainer.config.TrainConfig;

import java.nio.file.Path;
import java.util.List;

/**
 * The work behind the CLI's subcommands. Each method returns the process exit status (0 = success).
 *
 * <p>Registration, first match wins: {@link Main#setCommands(Commands)} (embedding, tests), then the first
 * provider found by {@link java.util.ServiceLoader} ({@code provides io.progrpo.app.cli.Commands with ...} in a
 * module-info, or {@code META-INF/services/io.progrpo.app.cli.Commands} on the class path).
 */
public interface Commands {

    /**
     * Trains with a fully resolved, validated configuration.
     *
     * @param resume continue from the latest full checkpoint in {@code c.outDir()} instead of starting over
     */
    int train(TrainConfig c, boolean resume);

    /** Evaluates the model saved in {@code checkpoint} with the evaluation settings of {@code c}. */
    int eval(TrainConfig c, Path checkpoint);

    /**
     * {@link #eval(TrainConfig, Path)}, writing the result as JSON into {@code resultFile} too when it is not null
     * ({@code eval --out DIR} asks for {@code DIR/eval.json}). The default evaluates and writes nothing.
     */
    default int eval(TrainConfig c, Path checkpoint, Path resultFile) {
        return eval(c, checkpoint);
    }

    /** Builds a comparison report from finished run directories into {@code out} (a directory). */
    int report(List<Path> runs, Path out);

    /**
     * Trains the exported TorchScript models {@code m} (policy, decoder, reward model) with the method, sampler,
     * schedule and optimizer settings of {@code c}, into {@code c.outDir()}.
     *
     * <p>The default throws: an implementation that does not train TorchScript models need not override it, and the
     * CLI reports the exception's message on one line with exit status 1.
     *
     * @param resume continue from the latest full checkpoint in {@code c.outDir()} instead of starting over
     * @throws UnsupportedOperationException unless overridden
     */
    default int trainTorchScript(TrainConfig c, TorchScriptModels m, boolean resume) {
        throw new UnsupportedOperationException(getClass().getName() + " does not implement train-torchscript");
    }

    /**
     * Runs the pre-registered study of {@code o} ({@code io.progrpo.app.study.Study}); its options were checked.
     *
     * <p>The default throws, as {@link #trainTorchScript} does: the CLI reports the message on one line, status 1.
     *
     * @throws UnsupportedOperationException unless overridden
     */
    default int study(StudyOptions o) {
        throw new UnsupportedOperationException(getClass().getName() + " does not implement study");
    }

    /**
     * Writes the combination of trained parameters that {@code p} describes ({@code progrpo adapters}); its options
     * were checked.
     *
     * <p>The default throws, as {@link #trainTorchScript} does: the CLI reports the message on one line, status 1.
     *
     * @throws UnsupportedOperationException unless overridden
     */
    default int adapters(AdapterPlan p) {
        throw new UnsupportedOperationException(getClass().getName() + " does not implement adapters");
    }
}
