package io.progrpo.tensor.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.TestSupport;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The committed FFM bindings are exactly what the generator makes of the committed header. */
class BindingsDriftTest {
    private static final String ANCHOR = "PT_API int32_t pt_last_error(const char** out);";

    private static String header() throws IOException {
        return Files.readString(TestSupport.repoRoot().resolve("native-headers/progrpo_torch.h"));
    }

    private static String committed() throws IOException {
        return Files.readString(TestSupport.repoRoot().resolve(BindingsGenerator.OUTPUT));
    }

    @Test
    void committedBindingsMatchTheHeader() throws IOException {
        assertEquals(committed(), BindingsGenerator.generate(header()), "run scripts/gen-bindings");
    }

    @Test
    void anExtraDeclarationIsDetectedAsDrift() throws IOException {
        String h = header();
        assertTrue(h.contains(ANCHOR), "the header no longer declares pt_last_error as expected");
        String changed = h.replace(ANCHOR, "PT_API int32_t pt_extra(int32_t* out);\n" + ANCHOR);
        String generated = BindingsGenerator.generate(changed);
        assertNotEquals(committed(), generated, "the drift test must fail when the header gains a declaration");
        assertTrue(generated.contains("public static int pt_extra(MemorySegment out)"), "the new declaration is bound");
    }

    @Test
    void aMalformedDeclarationIsRejectedNamingTheLine() throws IOException {
        String bad = "PT_API int64_t pt_bad(int32_t x);";
        String h = header().replace(ANCHOR, bad + "\n" + ANCHOR);
        int line = h.substring(0, h.indexOf(bad)).split("\n", -1).length;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BindingsGenerator.generate(h));
        assertTrue(e.getMessage().contains(bad), e.getMessage());
        assertTrue(e.getMessage().contains("line " + line), "names line " + line + ": " + e.getMessage());
    }

    @Test
    void anUnsupportedParameterTypeIsRejectedNamingTheType() throws IOException {
        String h = header().replace(ANCHOR, "PT_API int32_t pt_bad(float x);\n" + ANCHOR);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BindingsGenerator.generate(h));
        assertTrue(e.getMessage().contains("float"), e.getMessage());
    }

    @Test
    void committedFileIsWhereTheGeneratorWritesIt() {
        assertTrue(Files.isRegularFile(TestSupport.repoRoot().resolve(Path.of(BindingsGenerator.OUTPUT))), BindingsGenerator.OUTPUT);
    }
}
