package io.progrpo.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Tensor;

import java.io.InputStream;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * The module-path deployment: boots io.progrpo.reward (and io.progrpo.tensor) as named modules in a fresh layer and
 * lets ServiceLoader find the built-ins through the descriptor's {@code provides} clause, whichever way Surefire
 * itself runs the tests. Also checks that the class-path services file lists the same classes.
 */
class ModulePathProvidersTest {
    private static Path location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    @Test
    void builtInsAreProvidedByTheModuleDescriptor() throws Exception {
        // the reward module requires Jackson (the HTTP reward's protocol): its three jars join the layer
        ModuleFinder finder = ModuleFinder.of(location(RewardRegistry.class), location(Tensor.class),
                location(com.fasterxml.jackson.databind.ObjectMapper.class), location(com.fasterxml.jackson.core.JsonParser.class),
                location(com.fasterxml.jackson.annotation.JsonProperty.class));
        ModuleDescriptor descriptor = finder.find("io.progrpo.reward").orElseThrow().descriptor();
        assertTrue(descriptor.uses().contains(RewardProvider.class.getName()));
        List<String> declared = descriptor.provides().stream()
                .filter(p -> p.service().equals(RewardProvider.class.getName()))
                .flatMap(p -> p.providers().stream()).sorted().toList();
        assertEquals(2, declared.size(), declared.toString());

        Configuration cf = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(), Set.of("io.progrpo.reward"));
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getSystemClassLoader());
        Class<?> service = layer.findLoader("io.progrpo.reward").loadClass(RewardProvider.class.getName());
        assertTrue(service.getModule().isNamed());
        Set<String> names = new TreeSet<>();
        for (Object p : ServiceLoader.load(layer, service)) names.add((String) service.getMethod("name").invoke(p));
        assertEquals(new TreeSet<>(List.of("jpeg_compressibility", "jpeg_incompressibility")), names);

        // the services file for class-path users names the same classes (binary names, $ for nested classes)
        List<String> listed = new ArrayList<>();
        var files = RewardRegistry.class.getClassLoader().getResources("META-INF/services/" + RewardProvider.class.getName());
        while (files.hasMoreElements()) {
            try (InputStream in = files.nextElement().openStream()) {
                new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                        .map(String::strip)
                        .filter(l -> l.startsWith("io.progrpo.reward.") && !l.startsWith("io.progrpo.reward.testing."))
                        .forEach(listed::add);
            }
        }
        listed.sort(null);
        assertEquals(declared, listed);
    }
}
