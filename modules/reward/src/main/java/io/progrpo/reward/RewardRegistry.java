package io.progrpo.reward;

import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Rewards by name, found through {@link ServiceLoader} over {@link RewardProvider}.
 *
 * <p>Lookup covers both deployments: providers declared with {@code provides} in named modules and providers listed
 * in {@code META-INF/services/io.progrpo.reward.RewardProvider} on the class path (ServiceLoader ignores that file
 * inside named modules, and ignores class-path entries whose class lives in a named module). It asks the thread's
 * context class loader and this module's class loader, so plug-ins visible to either are found, and, in the methods
 * that take one, an extra class loader (the CLI's {@code --plugins}). Every call looks
 * again, so a class loader created later is seen.
 *
 * <p>Rewards returned by {@link #create} check their own contract on every call, on both entry points: N prompts (and
 * N group ids) for N images, N finite scores ({@link RewardFunction#scoreChecked}). The group ids reach the
 * provider's instance.
 */
public final class RewardRegistry {
    private RewardRegistry() {
    }

    /** The names of every reward found, sorted. */
    public static List<String> available() {
        return available(null);
    }

    /** {@link #available()}, also searching {@code loader} (a plug-in class loader); null for the defaults only. */
    public static List<String> available(ClassLoader loader) {
        return List.copyOf(providers(loader).keySet());
    }

    /** Name to description of every reward found, sorted by name. */
    public static Map<String, String> descriptions() {
        return descriptions(null);
    }

    /** {@link #descriptions()}, also searching {@code loader} (a plug-in class loader); null for the defaults only. */
    public static Map<String, String> descriptions(ClassLoader loader) {
        Map<String, String> out = new LinkedHashMap<>();
        providers(loader).forEach((k, v) -> out.put(k, v.description()));
        return out;
    }

    /**
     * A new instance of the named reward; a name that is an {@code http://} or {@code https://} URL is a
     * {@link HttpReward} of that endpoint (connected and health-checked, settings from the
     * {@code progrpo.reward.http.*} system properties).
     *
     * @throws IllegalArgumentException for an unknown name, listing the available ones
     */
    public static RewardFunction create(String name) {
        return create(name, null);
    }

    /** {@link #create(String)}, also searching {@code loader} (a plug-in class loader); null for the defaults only. */
    public static RewardFunction create(String name, ClassLoader loader) {
        if (name == null) throw new IllegalArgumentException("reward name is null; available: " + providers(loader).keySet());
        if (HttpReward.isEndpoint(name)) {
            // a reward served by another process: its health check runs here, before any sampling
            return new Checked(name, HttpReward.connect(name, HttpReward.Options.fromSystemProperties()));
        }
        Map<String, RewardProvider> all = providers(loader);
        RewardProvider p = all.get(name);
        if (p == null) {
            throw new IllegalArgumentException("unknown reward '" + name + "'; available: " + all.keySet());
        }
        RewardFunction f = p.create();
        if (f == null) throw new IllegalStateException("reward provider " + p.getClass().getName() + " for '" + name + "' created null");
        return f instanceof Checked ? f : new Checked(name, f);
    }

    /**
     * Every provider found, by name (sorted), searching {@code extra} first (a plug-in class loader; null for none),
     * then the context class loader and this module's loader. The loader of a {@link ModuleLayer}'s modules covers
     * that layer's {@code provides} too.
     *
     * @throws IllegalStateException when a provider cannot be loaded, or two of different classes share a name
     */
    public static Map<String, RewardProvider> providers(ClassLoader extra) {
        List<ClassLoader> loaders = new ArrayList<>();
        if (extra != null) loaders.add(extra);
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        if (context != null && !loaders.contains(context)) loaders.add(context);
        ClassLoader own = RewardRegistry.class.getClassLoader();
        if (!loaders.contains(own)) loaders.add(own);
        Map<String, RewardProvider> byName = new TreeMap<>();
        for (ClassLoader cl : loaders) {
            try {
                for (RewardProvider p : ServiceLoader.load(RewardProvider.class, cl)) {
                    RewardProvider prev = byName.putIfAbsent(p.name(), p);
                    if (prev != null && !prev.getClass().getName().equals(p.getClass().getName())) {
                        throw new IllegalStateException("two reward providers are named '" + p.name() + "': "
                                + prev.getClass().getName() + " and " + p.getClass().getName());
                    }
                }
            } catch (ServiceConfigurationError e) {
                throw new IllegalStateException("a reward provider could not be loaded: " + e.getMessage(), e);
            }
        }
        return byName;
    }

    /** Enforces the reward contract around a provider's instance, on both entry points (group ids passed through). */
    private record Checked(String name, RewardFunction delegate) implements RewardFunction {
        @Override
        public RewardOutput score(Tensor images, List<String> prompts) {
            int n = RewardFunction.checkInputs(name, images, prompts);
            return checked(delegate.score(images, prompts), n);
        }

        @Override
        public RewardOutput score(Tensor images, List<String> prompts, int[] groupIds) {
            int n = RewardFunction.checkInputs(name, images, prompts, groupIds);
            return checked(delegate.score(images, prompts, groupIds.clone()), n);
        }

        private RewardOutput checked(RewardOutput out, int n) {
            if (out == null) throw new IllegalStateException("reward '" + name + "' returned null for " + n + " images");
            return out.check(name, n);
        }

        @Override
        public String toString() {
            return delegate.toString();
        }
    }
}
