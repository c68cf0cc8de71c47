package io.progrpo.sampler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Samplers by name, found through {@link ServiceLoader} over {@link SamplerProvider}, as
 * {@code io.progrpo.reward.RewardRegistry} finds rewards.
 *
 * <p>Lookup covers both deployments: providers declared with {@code provides} in named modules and providers listed
 * in {@code META-INF/services/io.progrpo.sampler.SamplerProvider} on the class path. It asks an optional extra class
 * loader first (a plug-in loader; the loader of a {@link ModuleLayer}'s modules covers that layer and its parents),
 * then the thread's context class loader and this module's class loader. Every call looks again, so a class loader
 * created later is seen. Two providers of different classes with the same name are an error.
 */
public final class SamplerRegistry {
    private SamplerRegistry() {}

    /** The names of every sampler found, sorted. */
    public static List<String> available() {
        return available(null);
    }

    /** {@link #available()}, also searching {@code extra} (null: the defaults only). */
    public static List<String> available(ClassLoader extra) {
        return List.copyOf(providers(extra).keySet());
    }

    /** Name to description of every sampler found (also in {@code extra}, which may be null), sorted by name. */
    public static Map<String, String> descriptions(ClassLoader extra) {
        Map<String, String> out = new LinkedHashMap<>();
        providers(extra).forEach((k, v) -> out.put(k, v.description()));
        return out;
    }

    /**
     * The named provider.
     *
     * @param extra a plug-in class loader to search too, or null
     * @throws IllegalArgumentException for an unknown or null name, listing the available ones
     * @throws IllegalStateException    when a provider cannot be loaded or two share a name
     */
    public static SamplerProvider provider(String name, ClassLoader extra) {
        Map<String, SamplerProvider> all = providers(extra);
        SamplerProvider p = name == null ? null : all.get(name);
        if (p == null) {
            throw new IllegalArgumentException((name == null ? "sampler name is null" : "unknown sampler '" + name + "'")
                    + "; available: " + String.join(", ", all.keySet()));
        }
        return p;
    }

    /**
     * The named provider's training sampler for {@code s}.
     *
     * @throws IllegalStateException when the provider returns null or a sampler without {@code s.steps()} steps
     */
    public static Sampler trainSampler(String name, SamplerSettings s, ClassLoader extra) {
        SamplerProvider p = provider(name, extra);
        return checked(p, "training", p.trainSampler(s), s.steps());
    }

    /**
     * The named provider's evaluation sampler for {@code s}.
     *
     * @throws IllegalStateException when the provider returns null or a sampler without {@code s.evalSteps()} steps
     */
    public static Sampler evalSampler(String name, SamplerSettings s, ClassLoader extra) {
        SamplerProvider p = provider(name, extra);
        return checked(p, "evaluation", p.evalSampler(s), s.evalSteps());
    }

    private static Sampler checked(SamplerProvider p, String what, Sampler s, int steps) {
        if (s == null) {
            throw new IllegalStateException("sampler provider " + p.getClass().getName() + " ('" + p.name() + "') created a null "
                    + what + " sampler");
        }
        if (s.steps() != steps) {
            throw new IllegalStateException("sampler provider " + p.getClass().getName() + " ('" + p.name() + "') created a "
                    + what + " sampler of " + s.steps() + " steps, expected " + steps);
        }
        return s;
    }

    /**
     * Every provider found, by name (sorted), searching {@code extra} (may be null), the thread's context class loader
     * and this module's loader.
     *
     * @throws IllegalStateException when a provider cannot be loaded, or two of different classes share a name
     */
    public static Map<String, SamplerProvider> providers(ClassLoader extra) {
        List<ClassLoader> loaders = new ArrayList<>();
        if (extra != null) loaders.add(extra);
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        if (context != null && !loaders.contains(context)) loaders.add(context);
        ClassLoader own = SamplerRegistry.class.getClassLoader();
        if (!loaders.contains(own)) loaders.add(own);
        Map<String, SamplerProvider> byName = new TreeMap<>();
        for (ClassLoader cl : loaders) {
            try {
                for (SamplerProvider p : ServiceLoader.load(SamplerProvider.class, cl)) {
                    String name = p.name();
                    if (name == null || name.isBlank()) {
                        throw new IllegalStateException("sampler provider " + p.getClass().getName() + " has no name (got "
                                + (name == null ? "null" : "'" + name + "'") + ")");
                    }
                    SamplerProvider prev = byName.putIfAbsent(name, p);
                    if (prev != null && !sameProvider(prev, p)) {
                        throw new IllegalStateException("two sampler providers are named '" + name + "': "
                                + where(prev) + " and " + where(p));
                    }
                }
            } catch (ServiceConfigurationError e) {
                throw new IllegalStateException("a sampler provider could not be loaded: " + e.getMessage(), e);
            }
        }
        return byName;
    }

    /** The same class name: one provider seen through two loaders (the first loader's copy is kept). */
    private static boolean sameProvider(SamplerProvider a, SamplerProvider b) {
        return a.getClass().getName().equals(b.getClass().getName());
    }

    private static String where(SamplerProvider p) {
        var src = p.getClass().getProtectionDomain().getCodeSource();
        return p.getClass().getName() + (src == null || src.getLocation() == null ? "" : " (" + src.getLocation() + ")");
    }
}
