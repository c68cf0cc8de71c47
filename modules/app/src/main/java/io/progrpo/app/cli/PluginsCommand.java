package io.progrpo.app.cli;

import io.progrpo.app.job.Plugins;
import io.progrpo.reward.RewardProvider;
import io.progrpo.reward.RewardRegistry;
import io.progrpo.sampler.SamplerProvider;
import io.progrpo.sampler.SamplerRegistry;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code progrpo plugins}: every reward and sampler the registries find (the plug-ins of {@code --plugins} and
 * {@value Plugins#ENV} included), each with its name, description and origin (built in, a plug-in jar, the class
 * path), then the plug-in jars and how each was loaded. A provider that cannot be loaded, or two sharing a name, is a
 * one-line error with exit status 2.
 */
@Command(name = "plugins", mixinStandardHelpOptions = true,
        description = "List the rewards and samplers selectable by name (reward=NAME, sampler=NAME), built in and from plug-ins.")
final class PluginsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    PluginOptions plugins = new PluginOptions();

    @Override
    public Integer call() {
        return plugins.run(spec, () -> {
            PrintWriter out = spec.commandLine().getOut();
            Plugins p = Plugins.active();
            Map<String, RewardProvider> rewards;
            Map<String, SamplerProvider> samplers;
            try {
                rewards = RewardRegistry.providers(p.loader());
            } catch (IllegalStateException e) {
                throw new ConfigException("reward", e.getMessage(), e);
            }
            try {
                samplers = SamplerRegistry.providers(p.loader());
            } catch (IllegalStateException e) {
                throw new ConfigException("sampler", e.getMessage(), e);
            }
            int w = Math.max(TrainConfig.METHOD_SAMPLER.length(), Math.max(
                    rewards.keySet().stream().mapToInt(String::length).max().orElse(0),
                    samplers.keySet().stream().mapToInt(String::length).max().orElse(0)));
            String row = "  %-" + w + "s  %s  [%s]%n";
            out.println("Rewards (reward=NAME, or weighted: reward=a:1.0,b:0.1):");
            rewards.forEach((name, r) -> out.printf(row, name, r.description(), p.origin(r.getClass())));
            out.printf(row, "http://...", "a reward served by another process: reward=http://HOST:PORT/PATH[@weight] "
                    + "(scripts/reward-server is a reference server; module-info-docs/reward.md, \"Remote rewards\")", "built in");
            out.println("Samplers (sampler=NAME):");
            out.printf(row, TrainConfig.METHOD_SAMPLER, "the method's own sampler: flow-sde for the flow methods, ddim for the "
                    + "diffusion ones (the config's default)", "built in");
            samplers.forEach((name, s) -> out.printf(row, name, s.description(), p.origin(s.getClass())));
            if (p.jars().isEmpty()) {
                out.println("Plug-ins: none (add jars with --plugins PATH[:PATH...] or $" + Plugins.ENV + ")");
            } else {
                out.println("Plug-ins:");
                p.jars().forEach((jar, kind) -> out.printf("  %s  (%s)%n", jar, kind));
            }
            out.flush();
            return 0;
        });
    }
}
