package io.progrpo.app.cli;

import io.progrpo.app.job.Plugins;
import io.progrpo.trainer.config.ConfigException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code --plugins PATH[:PATH...]} (repeatable) and the {@value Plugins#ENV} environment variable: jars, or
 * directories of jars, whose reward and sampler providers the command can select by name. The variable's entries come
 * first, then the option's.
 */
final class PluginOptions {
    @Option(names = "--plugins", paramLabel = "PATH[:PATH...]",
            description = "Plug-in jars or directories of jars (path-separated, repeatable; after $" + Plugins.ENV
                    + "): their RewardProvider and SamplerProvider implementations are selectable by name "
                    + "(--set reward=NAME, --set sampler=NAME). Modular jars join a module layer, the others a class loader.")
    List<String> paths = new ArrayList<>();

    /**
     * Loads the plug-ins and runs {@code body} with them active ({@link Plugins#activate}); a bad entry is the
     * one-line {@code config error (--plugins): ...} (or {@code (PROGRPO_PLUGINS)}) with exit status 2.
     */
    Integer run(CommandSpec spec, Supplier<Integer> body) {
        Plugins p;
        try {
            p = Plugins.load(Plugins.entries(Main.environment().get(Plugins.ENV), paths));
        } catch (ConfigException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println(Main.configError(e));
            err.flush();
            return Main.EXIT_USAGE;
        }
        Plugins before = Plugins.activate(p);
        try {
            return body.get();
        } finally {
            Plugins.activate(before);
            p.close();
        }
    }
}
