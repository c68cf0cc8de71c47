package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Issue 16: every main source file of every module and of the shim is small enough to hold in one's head, at most
 * {@link #MAX_LINES} lines. Generated code (a "DO NOT EDIT" mark in its first lines, like the FFM bindings) is exempt.
 */
class SourceSizeTest {
    static final int MAX_LINES = 500;
    /** Every module's main sources, the shim's sources and the shim's header. */
    static final List<String> ROOTS = List.of("modules/tensor/src/main/java", "modules/sampler/src/main/java",
            "modules/reward/src/main/java", "modules/pruning/src/main/java", "modules/trainer/src/main/java",
            "modules/world/src/main/java", "modules/app/src/main/java", "modules/bench/src/main/java", "native", "native-headers");

    record Scan(List<Path> checked, List<Path> generated, List<String> tooLong) {}

    static boolean isSource(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".java") || n.endsWith(".cpp") || n.endsWith(".h");
    }

    static Scan scan(Path root, List<String> dirs) throws IOException {
        Scan s = new Scan(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (String d : dirs) {
            try (Stream<Path> files = Files.walk(root.resolve(d))) {
                // native/build holds CMake's output, not sources
                for (Path p : files.filter(Files::isRegularFile).filter(SourceSizeTest::isSource)
                        .filter(p -> !root.relativize(p).startsWith("native/build")).sorted().toList()) {
                    List<String> lines = Files.readAllLines(p);
                    if (lines.stream().limit(5).anyMatch(l -> l.contains("DO NOT EDIT"))) {
                        s.generated().add(root.relativize(p));
                        continue;
                    }
                    s.checked().add(root.relativize(p));
                    if (lines.size() > MAX_LINES) s.tooLong().add(root.relativize(p) + ": " + lines.size() + " lines");
                }
            }
        }
        return s;
    }

    @Test
    void everyHandWrittenSourceIsAtMost500Lines() throws IOException {
        Scan s = scan(TestSupport.repoRoot(), ROOTS);
        assertEquals(List.of(), s.tooLong(), "main source files over " + MAX_LINES + " lines; split them along their natural lines");
        assertTrue(s.checked().contains(Path.of("modules/tensor/src/main/java/io/progrpo/tensor/Tensor.java")), s.checked().toString());
        assertTrue(s.checked().contains(Path.of("native/progrpo_torch.cpp")), s.checked().toString());
        assertTrue(s.checked().contains(Path.of("modules/app/src/main/java/io/progrpo/app/cli/Main.java")), s.checked().toString());
        assertTrue(s.checked().size() > 150, "the scan found the sources: " + s.checked().size());
        assertEquals(List.of(Path.of("modules/tensor/src/main/java/io/progrpo/tensor/internal/ffi/progrpo_torch_h.java")), s.generated(),
                "only the generated bindings are exempt");
    }

    @Test
    void aLongFileIsReportedAndAGeneratedOneIsExempt(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("src"));
        Files.createDirectories(dir.resolve("native/build"));
        Files.writeString(dir.resolve("src/Big.java"), "x\n".repeat(MAX_LINES + 1));
        Files.writeString(dir.resolve("src/Limit.cpp"), "x\n".repeat(MAX_LINES));
        Files.writeString(dir.resolve("src/gen.h"), "// Generated. DO NOT EDIT\n" + "x\n".repeat(2 * MAX_LINES));
        Files.writeString(dir.resolve("src/notes.txt"), "x\n".repeat(2 * MAX_LINES));
        Files.writeString(dir.resolve("native/build/out.cpp"), "x\n".repeat(2 * MAX_LINES));
        Files.writeString(dir.resolve("native/ok.h"), "x\n");
        Scan s = scan(dir, List.of("src", "native"));
        assertEquals(List.of("src/Big.java: 501 lines"), s.tooLong());
        assertEquals(List.of(Path.of("src/Big.java"), Path.of("src/Limit.cpp"), Path.of("native/ok.h")), s.checked());
        assertEquals(List.of(Path.of("src/gen.h")), s.generated());
    }
}
