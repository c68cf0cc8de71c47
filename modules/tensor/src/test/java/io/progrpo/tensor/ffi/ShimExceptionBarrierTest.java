package io.progrpo.tensor.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.TestSupport;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The shim's exception barrier, read from its sources (native/pt_internal.h states the rules): every function the
 * header declares is defined in native/*.cpp with its whole body between PT_TRY and PT_CATCH, and no libtorch writer
 * is handed a file of its own (their destructors throw after a failed write; the shim's FileSink never lets them see
 * one). DiskFullTest proves the second rule at run time.
 */
class ShimExceptionBarrierTest {
    private static final Pattern DECL = Pattern.compile("^PT_API (?:PT_CRITICAL )?int32_t (pt_\\w+)\\(", Pattern.MULTILINE);
    private static final Pattern DEF = Pattern.compile("^int32_t (pt_\\w+)\\(", Pattern.MULTILINE);

    static List<String> declared() throws IOException {
        Matcher m = DECL.matcher(Files.readString(TestSupport.repoRoot().resolve("native-headers/progrpo_torch.h")));
        List<String> out = new ArrayList<>();
        while (m.find()) out.add(m.group(1));
        return out;
    }

    static Map<Path, String> sources() throws IOException {
        Map<Path, String> out = new LinkedHashMap<>();
        try (Stream<Path> s = Files.list(TestSupport.repoRoot().resolve("native"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".cpp")).sorted().toList()) out.put(p, Files.readString(p));
        }
        return out;
    }

    /** The text between the brace at {@code open} and its match, skipping comments and string and char literals. */
    static String body(String src, int open) {
        int depth = 0;
        for (int i = open; i < src.length(); i++) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < src.length() && src.charAt(i + 1) == '/') {
                i = src.indexOf('\n', i);
                if (i < 0) break;
            } else if (c == '/' && i + 1 < src.length() && src.charAt(i + 1) == '*') {
                i = src.indexOf("*/", i) + 1;
            } else if (c == '"' || c == '\'') {
                for (i++; i < src.length() && src.charAt(i) != c; i++) if (src.charAt(i) == '\\') i++;
            } else if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return src.substring(open + 1, i);
            }
        }
        throw new IllegalStateException("unbalanced braces after offset " + open);
    }

    /** Problems of every definition of an exported function: a body outside PT_TRY ... PT_CATCH. */
    static List<String> barrierProblems(Map<Path, String> sources, List<String> declared, Map<String, Integer> defined) {
        List<String> problems = new ArrayList<>();
        for (var e : sources.entrySet()) {
            String src = e.getValue();
            Matcher m = DEF.matcher(src);
            while (m.find()) {
                String name = m.group(1);
                if (!declared.contains(name)) continue;
                int open = src.indexOf('{', m.end());
                int semicolon = src.indexOf(';', m.end());
                if (semicolon >= 0 && semicolon < open && !src.substring(m.end(), semicolon).contains(")")) continue;
                String b = body(src, open).strip();
                defined.merge(name, 1, Integer::sum);
                if (!b.startsWith("PT_TRY") || !b.endsWith("PT_CATCH")) {
                    problems.add(e.getKey().getFileName() + ": " + name + " is not wrapped in PT_TRY ... PT_CATCH: { "
                            + b.substring(0, Math.min(80, b.length())).replace('\n', ' ') + " ... }");
                }
            }
        }
        return problems;
    }

    @Test
    void everyExportedFunctionIsDefinedInsideTheTryCatchPattern() throws IOException {
        List<String> declared = declared();
        assertTrue(declared.size() > 100, "the header declares the shim's functions: " + declared.size());
        Map<String, Integer> defined = new LinkedHashMap<>();
        List<String> problems = barrierProblems(sources(), declared, defined);
        assertEquals(List.of(), problems, "entry points that could let a C++ exception reach the JVM");
        TreeSet<String> missing = new TreeSet<>(declared);
        missing.removeAll(defined.keySet());
        assertEquals(new TreeSet<>(), missing, "declared in the header but defined in no native/*.cpp");
    }

    @Test
    void aBodyOutsideThePatternIsReported() throws IOException {
        Map<Path, String> fake = Map.of(Path.of("fake.cpp"), """
                int32_t pt_abi_version(int32_t* out) { *out = 1; return PT_OK; }
                int32_t pt_last_error(const char** out) {
                  PT_TRY
                  *out = "{ not a brace }"; // } nor this
                  PT_CATCH
                }
                """);
        List<String> problems = barrierProblems(fake, declared(), new LinkedHashMap<>());
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("pt_abi_version"), problems.get(0));
    }

    @Test
    void noLibtorchWriterIsGivenAFileOfItsOwn() throws IOException {
        // torch::save(x, path), Module::save(path), ExportModule(m, path), PyTorchStreamWriter(path) and std::ofstream
        // write through streams whose failures end in a throwing destructor
        Pattern writer = Pattern.compile("torch::save\\(|ExportModule\\(|PyTorchStreamWriter\\s*[>(a-z]|\\.save\\(std::string");
        List<String> problems = new ArrayList<>();
        for (var e : sources().entrySet()) {
            String[] lines = e.getValue().split("\n");
            for (int i = 0; i < lines.length; i++) {
                String l = lines[i].strip();
                if (l.startsWith("//")) continue;
                if (l.contains("std::ofstream")) problems.add(e.getKey().getFileName() + ":" + (i + 1) + ": " + l);
                if (writer.matcher(l).find() && !l.contains("sink.writer()")) problems.add(e.getKey().getFileName() + ":" + (i + 1) + ": " + l);
            }
        }
        assertEquals(List.of(), problems, "writers that do not go through pt_internal::FileSink");
        assertFalse(sources().values().stream().noneMatch(s -> s.contains("sink.writer()")), "the shim's writers use the sink");
    }
}
