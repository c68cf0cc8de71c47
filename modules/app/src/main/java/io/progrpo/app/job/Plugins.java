package io.progrpo.app.job;

import io.progrpo.trainer.config.ConfigException;

import java.io.File;
import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.FindException;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.lang.module.ResolutionException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.zip.ZipException;

/**
 * User plug-ins: jars holding {@code io.progrpo.reward.RewardProvider} and {@code io.progrpo.sampler.SamplerProvider}
 * implementations, named by the CLI's {@code --plugins} and the {@value #ENV} environment variable (each entry a jar
 * or a directory of jars, separated by the platform's path separator, {@code :} on Linux).
 *
 * <p>Modular jars (with a {@code module-info.class}) become one new {@link ModuleLayer} over progrpo's own layer,
 * resolved with {@link Configuration#resolveAndBind}, so their {@code provides} are bound; the other jars go on one
 * {@link URLClassLoader} (their {@code META-INF/services} files register them) whose parent is the layer's loader, so
 * {@link #loader()} sees both and the registries search it. A bad entry (missing, not a jar, a directory without
 * jars, a module that does not resolve) is a {@link ConfigException} naming the entry and the option or variable it
 * came from; the CLI prints it on one line with exit status 2.
 *
 * <p>The job wiring ({@link Jobs}, {@link JobCheck}) searches {@link #active()}'s loader; the CLI activates the
 * loaded plug-ins for the duration of a command.
 */
public final class Plugins implements AutoCloseable {
    /** The environment variable of plug-in entries, read before {@code --plugins}. */
    public static final String ENV = "PROGRPO_PLUGINS";

    /** No plug-ins: the registries see only what the launcher put on the module or class path. */
    public static final Plugins NONE = new Plugins(Map.of(), null, null);

    private static volatile Plugins active = NONE;

    private final Map<Path, String> jars;   // jar -> "module NAME" or "class path"
    private final ModuleLayer layer;        // null without modular jars
    private final URLClassLoader classPath; // null without class-path jars

    private Plugins(Map<Path, String> jars, ModuleLayer layer, URLClassLoader classPath) {
        this.jars = jars;
        this.layer = layer;
        this.classPath = classPath;
    }

    /** The plug-ins the job wiring searches now; {@link #NONE} unless the CLI activated some. */
    public static Plugins active() {
        return active;
    }

    /** Makes {@code p} (null: {@link #NONE}) the active plug-ins; returns the ones it replaces. */
    public static Plugins activate(Plugins p) {
        Plugins before = active;
        active = p == null ? NONE : p;
        return before;
    }

    /** Splits a path list ({@code a.jar:dir}) at the platform's path separator; empty entries are dropped. */
    public static List<String> split(String pathList) {
        List<String> out = new ArrayList<>();
        if (pathList == null) return out;
        for (String s : pathList.split(java.util.regex.Pattern.quote(File.pathSeparator))) {
            if (!s.isBlank()) out.add(s.strip());
        }
        return out;
    }

    /**
     * Loads the plug-ins of {@code entries}, each a jar or a directory of jars ({@code *.jar} in it, sorted by name).
     *
     * @param entries entry to the option or variable it came from ({@code --plugins}, {@value #ENV}), in order
     * @throws ConfigException naming the entry and its source for a bad entry
     */
    public static Plugins load(Map<String, String> entries) {
        if (entries.isEmpty()) return NONE;
        Map<Path, String> sourceOf = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : entries.entrySet()) {
            for (Path jar : jarsOf(e.getKey(), e.getValue())) sourceOf.putIfAbsent(jar, e.getValue());
        }
        Map<Path, String> modular = new LinkedHashMap<>();  // jar -> module name
        List<Path> plain = new ArrayList<>();
        for (Map.Entry<Path, String> e : sourceOf.entrySet()) {
            Path jar = e.getKey();
            if (isModular(jar, e.getValue())) {
                modular.put(jar, moduleName(jar, e.getValue()));
            } else {
                plain.add(jar);
            }
        }
        ClassLoader parent = Plugins.class.getClassLoader();
        ModuleLayer layer = modular.isEmpty() ? null : layer(modular, sourceOf, parent);
        URLClassLoader cp = null;
        if (!plain.isEmpty()) {
            URL[] urls = new URL[plain.size()];
            for (int i = 0; i < urls.length; i++) {
                try {
                    urls[i] = plain.get(i).toUri().toURL();
                } catch (MalformedURLException ex) {
                    throw new ConfigException(sourceOf.get(plain.get(i)), "plug-in jar " + plain.get(i) + " has no URL: " + ex.getMessage());
                }
            }
            ClassLoader cpParent = layer == null ? parent : layer.findLoader(modular.values().iterator().next());
            cp = new URLClassLoader("progrpo-plugins", urls, cpParent);
        }
        Map<Path, String> kinds = new LinkedHashMap<>();
        for (Path jar : sourceOf.keySet()) kinds.put(jar, modular.containsKey(jar) ? "module " + modular.get(jar) : "class path");
        return new Plugins(Map.copyOf(kinds), layer, cp);
    }

    /** The jars of one entry: the file itself, or a directory's {@code *.jar}. */
    private static List<Path> jarsOf(String entry, String source) {
        Path p;
        try {
            p = Path.of(entry);
        } catch (InvalidPathException e) {
            throw new ConfigException(source, "plug-in entry '" + entry + "' is not a path (" + e.getMessage() + ")");
        }
        if (Files.isDirectory(p)) {
            List<Path> out = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p, "*.jar")) {
                for (Path f : ds) if (Files.isRegularFile(f)) out.add(f.toAbsolutePath().normalize());
            } catch (IOException e) {
                throw new ConfigException(source, "plug-in directory '" + entry + "' cannot be listed: " + e.getMessage());
            }
            if (out.isEmpty()) {
                throw new ConfigException(source, "plug-in directory '" + entry + "' holds no .jar file; expected a jar or a directory of jars");
            }
            out.sort(null);
            for (Path jar : out) checkJar(jar, source);
            return out;
        }
        if (!Files.exists(p)) {
            throw new ConfigException(source, "plug-in entry '" + entry + "' does not exist; expected a jar or a directory of jars");
        }
        Path jar = p.toAbsolutePath().normalize();
        checkJar(jar, source);
        return List.of(jar);
    }

    private static void checkJar(Path jar, String source) {
        try (JarFile f = new JarFile(jar.toFile())) {
            f.size();
        } catch (ZipException e) {
            throw new ConfigException(source, "plug-in entry '" + jar + "' is not a jar (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new ConfigException(source, "plug-in jar '" + jar + "' cannot be read: " + e.getMessage());
        }
    }

    private static boolean isModular(Path jar, String source) {
        try (JarFile f = new JarFile(jar.toFile(), true, java.util.zip.ZipFile.OPEN_READ, Runtime.version())) {
            return f.getJarEntry("module-info.class") != null;
        } catch (IOException e) {
            throw new ConfigException(source, "plug-in jar '" + jar + "' cannot be read: " + e.getMessage());
        }
    }

    private static String moduleName(Path jar, String source) {
        try {
            Set<ModuleReference> refs = ModuleFinder.of(jar).findAll();
            return refs.iterator().next().descriptor().name();
        } catch (FindException e) {
            throw new ConfigException(source, "plug-in jar '" + jar + "' has a module descriptor that cannot be read: " + oneLine(e));
        }
    }

    /** One layer of every modular jar over progrpo's own layer; a failure names the first jar that does not resolve. */
    private static ModuleLayer layer(Map<Path, String> modular, Map<Path, String> sourceOf, ClassLoader parent) {
        ModuleLayer base = Plugins.class.getModule().getLayer() != null ? Plugins.class.getModule().getLayer() : ModuleLayer.boot();
        Map<String, Path> jarOf = new LinkedHashMap<>();
        for (Map.Entry<Path, String> e : modular.entrySet()) {
            Path other = jarOf.putIfAbsent(e.getValue(), e.getKey());
            if (other != null) {
                throw new ConfigException(sourceOf.get(e.getKey()), "plug-in jars '" + other + "' and '" + e.getKey()
                        + "' are both module " + e.getValue() + "; expected one jar per module");
            }
        }
        ModuleFinder finder = ModuleFinder.of(modular.keySet().toArray(Path[]::new));
        Configuration cf;
        try {
            cf = base.configuration().resolveAndBind(finder, ModuleFinder.of(), jarOf.keySet());
        } catch (FindException | ResolutionException e) {
            for (Map.Entry<String, Path> m : jarOf.entrySet()) {
                try {
                    base.configuration().resolveAndBind(finder, ModuleFinder.of(), Set.of(m.getKey()));
                } catch (FindException | ResolutionException one) {
                    throw new ConfigException(sourceOf.get(m.getValue()), "plug-in jar '" + m.getValue() + "' (module "
                            + m.getKey() + ") does not resolve against progrpo's modules: " + oneLine(one) + hint(base));
                }
            }
            throw new ConfigException(sourceOf.get(modular.keySet().iterator().next()), "the plug-in modules "
                    + jarOf.keySet() + " do not resolve together: " + oneLine(e) + hint(base));
        }
        try {
            return base.defineModulesWithOneLoader(cf, parent);
        } catch (LayerInstantiationException | SecurityException e) {
            throw new ConfigException(sourceOf.get(modular.keySet().iterator().next()), "the plug-in modules " + jarOf.keySet()
                    + " cannot be defined: " + oneLine(e));
        }
    }

    private static String hint(ModuleLayer base) {
        return base.findModule("io.progrpo.reward").isPresent() ? ""
                : " (progrpo itself runs on the class path here, so a plug-in module cannot require its modules: put progrpo "
                + "on the module path, as scripts/progrpo does)";
    }

    private static String oneLine(Throwable e) {
        return String.valueOf(e.getMessage()).replace('\n', ' ');
    }

    /**
     * The class loader the registries search: it sees the plug-in layer's modules and the class-path jars (and, by
     * delegation, progrpo's own classes); null for {@link #NONE}.
     */
    public ClassLoader loader() {
        if (classPath != null) return classPath;
        if (layer != null) return layer.modules().iterator().next().getClassLoader();
        return null;
    }

    /** Every plug-in jar, with how it was loaded: {@code module NAME} (in the layer) or {@code class path}. */
    public Map<Path, String> jars() {
        Map<Path, String> sorted = new LinkedHashMap<>();
        jars.keySet().stream().sorted().forEach(j -> sorted.put(j, jars.get(j)));
        return sorted;
    }

    /** The plug-in layer, or null when no plug-in jar is modular. */
    public ModuleLayer layer() {
        return layer;
    }

    /**
     * Where a provider class came from: {@code plug-in JAR} for the plug-in jar that holds it, {@code built in} (with
     * its module when progrpo runs on the module path) for progrpo's own, else {@code module NAME} or
     * {@code class path}, with the location.
     */
    public String origin(Class<?> c) {
        if (layer != null && c.getModule().getLayer() == layer) {
            String kind = "module " + c.getModule().getName();
            for (Map.Entry<Path, String> e : jars.entrySet()) if (e.getValue().equals(kind)) return "plug-in " + e.getKey();
        }
        Path jar = location(c);
        if (classPath != null && c.getClassLoader() == classPath) return "plug-in " + (jar == null ? "(class path)" : jar);
        String where = jar == null ? "" : " (" + jar + ")";
        if (c.getName().startsWith("io.progrpo.")) {
            return "built in" + (c.getModule().isNamed() ? " (module " + c.getModule().getName() + ")" : "");
        }
        return c.getModule().isNamed() ? "module " + c.getModule().getName() + where : "class path" + where;
    }

    private static Path location(Class<?> c) {
        CodeSource src = c.getProtectionDomain().getCodeSource();
        if (src == null || src.getLocation() == null) return null;
        try {
            return Path.of(src.getLocation().toURI()).toAbsolutePath().normalize();
        } catch (URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return null;
        }
    }

    /** Closes the class-path loader (its jar files); the layer stays until nothing refers to it. */
    @Override
    public void close() {
        if (classPath != null) {
            try {
                classPath.close();
            } catch (IOException e) {
                throw new IllegalStateException("cannot close the plug-in class loader: " + e.getMessage(), e);
            }
        }
    }

    /** Entries of the environment variable then of the option, each with its source, for {@link #load}. */
    public static Map<String, String> entries(String env, List<String> option) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String s : split(env)) out.putIfAbsent(s, ENV);
        for (String o : option == null ? List.<String>of() : option) {
            for (String s : split(o)) out.putIfAbsent(s, "--plugins");
        }
        return out;
    }

    @Override
    public String toString() {
        return jars.isEmpty() ? "no plug-ins" : "plug-ins " + new LinkedHashSet<>(jars().keySet());
    }
}
