package io.progrpo.app.cli;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.module.Configuration;
import java.lang.module.FindException;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Writes, compiles (the JDK's javac through {@link ToolProvider}, which java.base can reach from this test's module
 * without a {@code requires java.compiler}; against this test's module path) and packages a user's plug-in: one RewardProvider
 * and one SamplerProvider, as a modular jar (module-info with {@code provides}) or a class-path jar
 * ({@code META-INF/services}). The reward scores each image by its mean red channel; the sampler is the flow SDE
 * under another name. Both count their calls in system properties ({@link #rewardCalls}, {@link #samplerSteps}) and,
 * when the system property {@value #LOG} names a file, append a line per call to it ({@code NAME score}, {@code NAME
 * step}), so a test sees that a run (in this JVM or a child) used them.
 */
final class PluginJars {
    /** The system property naming the file the plug-ins append a line per call to. */
    static final String LOG = "progrpo.test.plugin.log";

    private PluginJars() {}

    private static String logLine(String name, String what) {
        return "        { String f = System.getProperty(\"" + LOG + "\"); if (f != null) try { java.nio.file.Files.writeString("
                + "java.nio.file.Path.of(f), \"" + name + " " + what + "\\n\", java.nio.file.StandardOpenOption.CREATE, "
                + "java.nio.file.StandardOpenOption.APPEND); } catch (java.io.IOException e) { throw new java.io.UncheckedIOException(e); } }\n";
    }

    /** Calls of the plug-in reward named {@code reward} in this JVM so far. */
    static int rewardCalls(String reward) {
        return Integer.getInteger("progrpo.test.plugin." + reward + ".calls", 0);
    }

    /** Sampling steps taken by the plug-in sampler named {@code sampler} in this JVM so far (training and evaluation). */
    static int samplerSteps(String sampler) {
        return Integer.getInteger("progrpo.test.plugin." + sampler + ".steps", 0);
    }

    /**
     * A plug-in jar {@code dir/NAME.jar} with a reward named {@code reward} and a sampler named {@code sampler}, in
     * package {@code pkg}; modular ({@code module}, not null) or for the class path ({@code module} null).
     */
    static Path build(Path dir, String module, String pkg, String reward, String sampler) throws IOException {
        Map<String, String> sources = new LinkedHashMap<>();
        String p = pkg.replace('.', '/') + "/";
        sources.put(p + "PluginReward.java", rewardSource(pkg, reward));
        sources.put(p + "PluginSampler.java", samplerSource(pkg, sampler));
        if (module != null) {
            sources.put("module-info.java", "module " + module + " {\n"
                    + "    requires io.progrpo.reward;\n    requires io.progrpo.sampler;\n"
                    + "    provides io.progrpo.reward.RewardProvider with " + pkg + ".PluginReward;\n"
                    + "    provides io.progrpo.sampler.SamplerProvider with " + pkg + ".PluginSampler;\n}\n");
        }
        Map<String, String> services = module != null ? Map.of() : Map.of(
                "META-INF/services/io.progrpo.reward.RewardProvider", pkg + ".PluginReward\n",
                "META-INF/services/io.progrpo.sampler.SamplerProvider", pkg + ".PluginSampler\n");
        String name = module != null ? module : pkg;
        return jar(compile(dir.resolve(name + "-src"), sources, module != null), services, dir.resolve(name + ".jar"));
    }

    /** A modular jar whose module requires a module that is in no jar ({@code absent.plugin}). */
    static Path unresolvable(Path dir) throws IOException {
        // javac needs the required module to exist: compile it, then package only the module that requires it
        Path classes = compile(dir.resolve("absent-src"), Map.of("module-info.java", "module absent.plugin { }\n"), true);
        Path needs = compile(dir.resolve("needs-src"), Map.of("module-info.java", "module needs.missing { requires absent.plugin; }\n"),
                true, classes);
        return jar(needs, Map.of(), dir.resolve("needs-missing.jar"));
    }

    private static String rewardSource(String pkg, String reward) {
        return "package " + pkg + ";\n"
                + "import io.progrpo.reward.*;\nimport io.progrpo.tensor.Tensor;\nimport java.util.List;\n"
                + "public final class PluginReward implements RewardProvider {\n"
                + "  public String name() { return \"" + reward + "\"; }\n"
                + "  public String description() { return \"test plug-in: the mean red channel, in [0, 1]\"; }\n"
                + "  public RewardFunction create() {\n"
                + "    return new RewardFunction() {\n"
                + "      public String name() { return \"" + reward + "\"; }\n"
                + "      public RewardOutput score(Tensor images, List<String> prompts) {\n"
                + "        String key = \"progrpo.test.plugin." + reward + ".calls\";\n"
                + "        System.setProperty(key, Integer.toString(Integer.getInteger(key, 0) + 1));\n"
                + logLine(reward, "score")
                + "        ImageBatch b = ImageBatch.of(images, name());\n"
                + "        double[] s = new double[b.count()];\n"
                + "        for (int i = 0; i < s.length; i++) {\n"
                + "          double sum = 0;\n"
                + "          for (int y = 0; y < b.height(); y++) for (int x = 0; x < b.width(); x++) sum += b.get(i, 0, y, x);\n"
                + "          s[i] = sum / (b.height() * b.width());\n"
                + "        }\n"
                + "        return RewardOutput.of(s);\n"
                + "      }\n"
                + "    };\n"
                + "  }\n"
                + "}\n";
    }

    private static String samplerSource(String pkg, String sampler) {
        return "package " + pkg + ";\n"
                + "import io.progrpo.sampler.*;\nimport io.progrpo.tensor.Generator;\nimport io.progrpo.tensor.Tensor;\n"
                + "public final class PluginSampler implements SamplerProvider {\n"
                + "  public String name() { return \"" + sampler + "\"; }\n"
                + "  public String description() { return \"test plug-in: the flow SDE, counting its steps\"; }\n"
                + "  public Sampler trainSampler(SamplerSettings s) { return new Counting(new FlowSdeSampler(s.steps(), s.shift(), s.noiseLevel())); }\n"
                + "  public Sampler evalSampler(SamplerSettings s) { return new Counting(FlowSdeSampler.ode(s.evalSteps(), s.shift())); }\n"
                + "  public boolean supports(SamplerSettings.Prediction p) { return p == SamplerSettings.Prediction.VELOCITY; }\n"
                + "  static final class Counting implements Sampler {\n"
                + "    private final FlowSdeSampler d;\n"
                + "    Counting(FlowSdeSampler d) { this.d = d; }\n"
                + "    public int steps() { return d.steps(); }\n"
                + "    public double time(int i) { return d.time(i); }\n"
                + "    public boolean isStochastic(int i) { return d.isStochastic(i); }\n"
                + "    public double klStd(int i) { return d.klStd(i); }\n"
                + "    public StepOutput step(VelocityModel m, Tensor x, Tensor c, int i, Generator g) {\n"
                + "      String key = \"progrpo.test.plugin." + sampler + ".steps\";\n"
                + "      System.setProperty(key, Integer.toString(Integer.getInteger(key, 0) + 1));\n"
                + logLine(sampler, "step")
                + "      return d.step(m, x, c, i, g);\n"
                + "    }\n"
                + "    public LogProbResult logProb(VelocityModel m, Tensor x, Tensor n, Tensor c, int i) { return d.logProb(m, x, n, c, i); }\n"
                + "    public LogProbResult logProb(VelocityModel m, Tensor x, Tensor n, Tensor c, int[] i) { return d.logProb(m, x, n, c, i); }\n"
                + "  }\n"
                + "}\n";
    }

    private static Path compile(Path src, Map<String, String> sources, boolean modular, Path... extraModules) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path f = src.resolve(e.getKey());
            Files.createDirectories(f.getParent());
            Files.writeString(f, e.getValue());
            files.add(f);
        }
        Path classes = src.resolveSibling(src.getFileName() + "-classes");
        Files.createDirectories(classes);
        String modulePath = modulePath();
        for (Path m : extraModules) modulePath = m + File.pathSeparator + modulePath;
        List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "--release", "25", "-proc:none", "-Xlint:none"));
        // modular: the plug-in's module requires progrpo's; class path: the same modules are read by the unnamed module
        args.addAll(List.of("--module-path", modulePath));
        if (!modular) args.addAll(List.of("--add-modules", "io.progrpo.reward,io.progrpo.sampler"));
        files.forEach(f -> args.add(f.toString()));
        ToolProvider javac = ToolProvider.findFirst("javac")
                .orElseThrow(() -> new IllegalStateException("no javac tool (a runtime without jdk.compiler?)"));
        StringWriter diagnostics = new StringWriter();
        PrintWriter w = new PrintWriter(diagnostics, true);
        int rc = javac.run(w, w, args.toArray(String[]::new));
        if (rc != 0) throw new IllegalStateException("the plug-in did not compile (" + rc + "):\n" + diagnostics);
        return classes;
    }

    /**
     * The module path of progrpo's CLI ({@code io.progrpo.app} and what it requires) in this test's class path: its
     * modules' {@code target/classes} and the dependency jars, resolved from module descriptors as the JVM would.
     */
    static String modulePath() {
        Map<String, ModuleReference> byName = new LinkedHashMap<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            try {
                for (ModuleReference r : ModuleFinder.of(Path.of(entry)).findAll()) byName.putIfAbsent(r.descriptor().name(), r);
            } catch (FindException | IllegalArgumentException e) {
                // not a module, nor a jar an automatic module can be named from (test tooling): not needed
            }
        }
        ModuleFinder finder = new ModuleFinder() {
            @Override
            public Optional<ModuleReference> find(String name) {
                return Optional.ofNullable(byName.get(name));
            }

            @Override
            public Set<ModuleReference> findAll() {
                return Set.copyOf(byName.values());
            }
        };
        Configuration cf = ModuleLayer.boot().configuration().resolve(finder, ModuleFinder.of(), Set.of("io.progrpo.app"));
        return cf.modules().stream().map(m -> m.reference().location().map(Path::of).orElseThrow().toString())
                .sorted().collect(Collectors.joining(File.pathSeparator));
    }

    private static Path jar(Path classes, Map<String, String> extra, Path jar) throws IOException {
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os);
             Stream<Path> walk = Files.walk(classes)) {
            for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(f));
                out.closeEntry();
            }
            for (Map.Entry<String, String> e : extra.entrySet()) {
                out.putNextEntry(new JarEntry(e.getKey()));
                out.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return jar;
    }
}
