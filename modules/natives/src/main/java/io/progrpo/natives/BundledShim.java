package io.progrpo.natives;

import io.progrpo.tensor.spi.NativeLibraryProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The shim this jar carries under {@code io/progrpo/natives/bundle/}: {@code libprogrpo_torch.so} and
 * {@code natives.properties} (platform, libtorch version, shim ABI, classifier, artifact version, SHA-256), written
 * by the build from what {@code scripts/setup} built. A jar without them (the artifact without a classifier) reports
 * empty metadata, and the tensor module says which classifier to depend on.
 */
public final class BundledShim implements NativeLibraryProvider {
    static final String DIR = "/io/progrpo/natives/bundle/";
    static final String LIBRARY = DIR + "libprogrpo_torch.so";
    static final String METADATA = DIR + "natives.properties";

    private final Map<String, String> metadata = read();

    /** The provider ServiceLoader instantiates. */
    public BundledShim() {}

    private static Map<String, String> read() {
        try (InputStream in = BundledShim.class.getResourceAsStream(METADATA)) {
            if (in == null) return Map.of();
            Properties p = new Properties();
            p.load(in);
            Map<String, String> m = new TreeMap<>();
            for (String k : p.stringPropertyNames()) m.put(k, p.getProperty(k).strip());
            return Map.copyOf(m);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + METADATA + " of progrpo-natives", e);
        }
    }

    @Override
    public String description() {
        return metadata.isEmpty() ? "io.progrpo:progrpo-natives (no classifier)"
                : "io.progrpo:progrpo-natives:" + metadata.getOrDefault("version", "?") + ":" + metadata.getOrDefault("classifier", "?");
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public InputStream open() throws IOException {
        InputStream in = BundledShim.class.getResourceAsStream(LIBRARY);
        if (in == null) throw new IOException(description() + " carries no " + LIBRARY);
        return in;
    }
}
