package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** torch-pickle files: Java round trips for every dtype, and interchange with Python's torch.save / torch.load. */
class TensorIOTest extends TensorTestBase {

    @Test
    void roundTripEveryDtype(@TempDir Path dir) throws IOException {
        Random r = new Random(91);
        Map<String, Tensor> out = new LinkedHashMap<>();
        Map<String, double[]> expected = new LinkedHashMap<>();
        for (DType dt : DType.values()) {
            double[] v = new double[6];
            for (int i = 0; i < 6; i++) v[i] = dt == DType.BOOL ? r.nextInt(2) : dt.isFloatingPoint() ? r.nextInt(200) / 8.0 - 10 : r.nextInt(100);
            out.put("t_" + dt, Tensor.of(v, 2, 3).to(dt));
            expected.put("t_" + dt, v);
        }
        out.put("scalar", Tensor.scalar(4.5));
        expected.put("scalar", new double[] {4.5});
        Path f = dir.resolve("sub/all.pt");
        TensorIO.save(f, out);
        assertTrue(Files.isRegularFile(f));
        try (var ls = Files.list(f.getParent())) {
            assertEquals(1, ls.count(), "no temporary file left behind");
        }
        Map<String, Tensor> in = TensorIO.load(f);
        assertEquals(List.copyOf(out.keySet()), List.copyOf(in.keySet()), "names in file order");
        for (String k : out.keySet()) {
            Tensor a = out.get(k), b = in.get(k);
            assertEquals(a.dtype(), b.dtype(), k);
            assertArrayEquals(a.shape(), b.shape(), k);
            assertArrayEquals(expected.get(k), b.toDoubleArray(), k);
        }
    }

    @Test
    void viewsAndGradTensorsSaveTheirValues(@TempDir Path dir) throws IOException {
        Tensor base = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor p = Tensor.ones(2).setRequiresGrad(true);
        Path f = dir.resolve("views.pt");
        TensorIO.save(f, Map.of("t", base.transpose(0, 1), "p", p));
        Map<String, Tensor> in = TensorIO.load(f);
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, in.get("t").toFloatArray());
        assertArrayEquals(new long[] {3, 2}, in.get("t").shape());
        assertEquals(false, in.get("p").requiresGrad());
    }

    @Test
    void missingAndCorruptFilesThrowIOExceptionNamingTheFile(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nope.pt");
        NoSuchFileException m = assertThrows(NoSuchFileException.class, () -> TensorIO.load(missing));
        assertTrue(m.getMessage().contains(missing.toString()), m.getMessage());

        Path corrupt = dir.resolve("corrupt.pt");
        Files.write(corrupt, "this is not a torch file".getBytes());
        IOException c = assertThrows(IOException.class, () -> TensorIO.load(corrupt));
        assertTrue(c.getMessage().contains(corrupt.toString()), c.getMessage());

        Path truncated = dir.resolve("truncated.pt");
        TensorIO.save(truncated, Map.of("x", Tensor.ones(100)));
        byte[] bytes = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        IOException t = assertThrows(IOException.class, () -> TensorIO.load(truncated));
        assertTrue(t.getMessage().contains(truncated.toString()), t.getMessage());
        assertEquals(6.0, Tensor.ones(2, 3).sum().item(), "the JVM and libtorch are fine afterwards");
    }

    @Test
    void theFileNamesNoGlobalThatTorchLoadsWeightsOnlyModeRefuses(@TempDir Path dir) throws IOException {
        // PyTorch 2.6+ torch.load(weights_only=True) refuses torch.jit._pickle.restore_type_tag, which
        // torch::pickle_save wraps around every dict; the shim writes the same zip layout without it.
        Path f = dir.resolve("w.pt");
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("w", Tensor.of(new float[] {1, 2, 3}, 3));
        TensorIO.save(f, m);
        String pickle = null;
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(f.toFile())) {
            for (var e : java.util.Collections.list(zip.entries())) {
                if (e.getName().endsWith("/data.pkl")) {
                    pickle = new String(zip.getInputStream(e).readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
                }
            }
            assertTrue(zip.stream().anyMatch(e -> e.getName().endsWith("/data/0")), "the tensor's storage record");
        }
        assertTrue(pickle != null, "a data.pkl record in " + f);
        assertTrue(pickle.contains("_rebuild_tensor_v2"), "the tensor is rebuilt by torch's allowed global");
        assertTrue(!pickle.contains("restore_type_tag"), "no type tag around the dict");
        assertEquals(List.of(1f, 2f, 3f), toList(TensorIO.load(f).get("w").toFloatArray()));
    }

    private static List<Float> toList(float[] v) {
        List<Float> out = new java.util.ArrayList<>();
        for (float x : v) out.add(x);
        return out;
    }

    @Test
    void pythonReadsWhatJavaWrites(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(TestSupport.pythonTorchAvailable(), "/usr/bin/python3 with torch is not available");
        Random r = new Random(92);
        double[] a = TestSupport.gaussian(r, 6);
        long[] b = {3, -1, 7, 1L << 40};
        boolean[] c = {true, false, true};
        Path f = dir.resolve("from-java.pt");
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("a", TestSupport.t(a, 2, 3));
        m.put("b", Tensor.of(b, 4));
        m.put("c", Tensor.of(c, 3));
        TensorIO.save(f, m);
        String script = """
                import sys, torch
                d = torch.load(sys.argv[1])
                for k, v in d.items():
                    print(k, str(v.dtype), ",".join(str(s) for s in v.shape), ",".join(repr(x) for x in v.flatten().tolist()))
                """;
        TestSupport.PythonResult res = TestSupport.python(script, f.toString());
        assertEquals(0, res.exitCode(), res.output());
        List<String> lines = res.output().strip().lines().filter(l -> l.matches("^[abc] .*")).toList();
        assertEquals(3, lines.size(), res.output());
        String[] la = lines.get(0).split(" "), lb = lines.get(1).split(" "), lc = lines.get(2).split(" ");
        assertEquals("torch.float32", la[1]);
        assertEquals("2,3", la[2]);
        double[] pa = java.util.Arrays.stream(la[3].split(",")).mapToDouble(Double::parseDouble).toArray();
        assertArrayEquals(a, pa, "Python sees the float32 values");
        assertEquals("torch.int64", lb[1]);
        assertArrayEquals(b, java.util.Arrays.stream(lb[3].split(",")).mapToLong(Long::parseLong).toArray());
        assertEquals("torch.bool", lc[1]);
        assertEquals("True,False,True", lc[3]);
    }

    @Test
    void javaReadsWhatPythonWrites(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(TestSupport.pythonTorchAvailable(), "/usr/bin/python3 with torch is not available");
        Path f = dir.resolve("from-python.pt");
        String script = """
                import sys, torch
                torch.save({
                    "w": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1,
                    "ids": torch.tensor([4, 2, 9], dtype=torch.int64),
                    "h": torch.tensor([1.5, -2.25], dtype=torch.float16),
                    "mask": torch.tensor([[True, False]]),
                    "d": torch.tensor(3.25, dtype=torch.float64),
                }, sys.argv[1])
                """;
        TestSupport.PythonResult res = TestSupport.python(script, f.toString());
        assertEquals(0, res.exitCode(), res.output());
        Map<String, Tensor> in = TensorIO.load(f);
        assertEquals(List.of("w", "ids", "h", "mask", "d"), List.copyOf(in.keySet()));
        assertArrayEquals(new float[] {-1, -0.5f, 0, 0.5f, 1, 1.5f}, in.get("w").toFloatArray());
        assertArrayEquals(new long[] {2, 3}, in.get("w").shape());
        assertArrayEquals(new long[] {4, 2, 9}, in.get("ids").toLongArray());
        assertEquals(DType.FLOAT16, in.get("h").dtype());
        assertArrayEquals(new double[] {1.5, -2.25}, in.get("h").toDoubleArray());
        assertEquals(DType.BOOL, in.get("mask").dtype());
        assertArrayEquals(new boolean[] {true, false}, in.get("mask").toBooleanArray());
        assertEquals(0, in.get("d").dim());
        assertEquals(3.25, in.get("d").item());
    }
}
