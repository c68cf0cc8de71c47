package io.progrpo.natives;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;

/** The bundle the build made is the shim scripts/setup built, with its metadata and checksum. */
class BundledShimTest {
    @Test
    void theBundleIsTheBuiltShimWithItsMetadata() throws Exception {
        Path shimDir = Path.of(System.getProperty("progrpo.shim.dir"));
        byte[] built = Files.readAllBytes(shimDir.resolve("libprogrpo_torch.so"));
        BundledShim b = new BundledShim();
        byte[] bundled;
        try (InputStream in = b.open()) {
            bundled = in.readAllBytes();
        }
        assertArrayEquals(built, bundled);
        Map<String, String> m = b.metadata();
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(built)), m.get("sha256"));
        Properties cmake = new Properties();
        try (InputStream in = Files.newInputStream(shimDir.resolve("progrpo-natives.properties"))) {
            cmake.load(in);
        }
        for (String k : new String[] {"platform", "libtorch.version", "cuda", "shim.abi", "classifier"}) {
            assertEquals(cmake.getProperty(k), m.get(k), k);
        }
        assertTrue(m.get("classifier").startsWith(m.get("platform") + "-libtorch"), m.toString());
        assertTrue(b.description().endsWith(":" + m.get("classifier")), b.description());
    }
}
