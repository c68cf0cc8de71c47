package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

/** Bad input raises a Java exception whose message names the offending values; the JVM survives every one. */
class BadInputTest extends TensorTestBase {

    private static <E extends Throwable> E expect(Class<E> type, Executable call, String... mentions) {
        E e = assertThrows(type, call);
        for (String m : mentions) assertTrue(e.getMessage().contains(m), "message should name '" + m + "': " + e.getMessage());
        return e;
    }

    @Test
    void matmulShapeMismatchNamesBothShapes() {
        TorchException e = expect(TorchException.class, () -> Tensor.ones(2, 3).matmul(Tensor.ones(4, 5)), "matmul", "[2, 3]", "[4, 5]");
        assertTrue(e.torchMessage().contains("2x3") && e.torchMessage().contains("4x5"), e.torchMessage());
        expect(TorchException.class, () -> Tensor.ones(2, 3, 4).bmm(Tensor.ones(2, 5, 6)), "bmm", "[2, 3, 4]", "[2, 5, 6]");
    }

    @Test
    void broadcastMismatchNamesBothShapes() {
        expect(TorchException.class, () -> Tensor.ones(2, 3).add(Tensor.ones(4)), "add", "[2, 3]", "[4]");
        expect(TorchException.class, () -> Tensor.ones(2, 3).mul(Tensor.ones(2, 2)), "mul", "[2, 3]", "[2, 2]");
        expect(TorchException.class, () -> Tensor.cat(List.of(Tensor.ones(2, 3), Tensor.ones(2, 4)), 0), "cat", "[2, 3]", "[2, 4]");
        expect(TorchException.class, () -> Tensor.ones(6).view(4, 2), "view as [4, 2]", "[6]");
        expect(TorchException.class, () -> Tensor.ones(2, 3).expand(4, 3), "expand to [4, 3]", "[2, 3]");
    }

    @Test
    void outOfRangeIndicesNameTheIndexAndTheShape() {
        Tensor t = Tensor.ones(3, 4);
        expect(TorchException.class, () -> t.select(0, 5), "select(dim 0, index 5)", "[3, 4]");
        expect(TorchException.class, () -> t.select(2, 0), "select(dim 2, index 0)", "[3, 4]");
        expect(TorchException.class, () -> t.narrow(1, 2, 5), "narrow(dim 1, start 2, length 5)", "[3, 4]");
        expect(IndexOutOfBoundsException.class, () -> t.indexSelect(0, 1, 7), "index 7", "size 3");
        expect(IndexOutOfBoundsException.class, () -> t.indexSelect(1, -1), "index -1", "size 4");
        expect(TorchException.class, () -> t.indexSelect(0, Tensor.of(new long[] {1, 7}, 2)), "index_select(dim 0)", "[3, 4]", "[2] int64");
        expect(IndexOutOfBoundsException.class, () -> t.size(2), "dimension 2", "2-d");
        expect(TorchException.class, () -> t.softmax(3), "softmax(dim 3)", "[3, 4]");
    }

    @Test
    void wrongDtypesAreNamed() {
        Tensor w = Tensor.ones(5, 2);
        TorchException e = expect(TorchException.class, () -> Functional.embedding(w, Tensor.of(new float[] {1, 2}, 2)),
                "embedding", "[2] float32");
        assertTrue(e.torchMessage().contains("Long") || e.torchMessage().contains("Int"), e.torchMessage());
        expect(TorchException.class, () -> Tensor.ones(2, 2).matmul(Tensor.ones(DType.INT64, Device.CPU, 2, 2)), "float32", "int64");
    }

    @Test
    void closedTensorsAreRejected() {
        Tensor t = Tensor.ones(2);
        t.close();
        expect(IllegalStateException.class, () -> t.add(1), "closed", "float32", "2 elements");
        expect(IllegalStateException.class, () -> Tensor.ones(2).add(t), "closed");
    }

    @Test
    void negativeShapesAndWrongElementCounts() {
        expect(IllegalArgumentException.class, () -> Tensor.zeros(2, -1), "[2, -1]");
        expect(IllegalArgumentException.class, () -> Tensor.empty(DType.FLOAT32, Device.CPU, -3), "[-3]");
        expect(IllegalArgumentException.class, () -> Tensor.randn(null, 4, -2), "[4, -2]");
        expect(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3), "[2, 3]", "holds 6", "has 5");
        expect(IllegalArgumentException.class, () -> Tensor.of(new long[4], 5), "[5]", "holds 5", "has 4");
        expect(IllegalArgumentException.class, () -> Tensor.of(new boolean[2], 3), "holds 3", "has 2");
        expect(IllegalArgumentException.class, () -> Tensor.of(new int[1], 2, -1), "[2, -1]");
        expect(TorchException.class, () -> Tensor.ones(6).reshape(4, -1), "reshape to [4, -1]", "[6]");
    }

    @Test
    void otherArgumentChecks() {
        expect(IllegalArgumentException.class, () -> Tensor.ones(3).clamp(1.0, 0.5), "[1.0, 0.5]");
        expect(IllegalArgumentException.class, () -> Tensor.ones(3).clamp(Double.NaN, 0.5), "NaN");
        expect(IllegalArgumentException.class, () -> Tensor.linspace(0, 1, 0, DType.FLOAT32, Device.CPU), "steps >= 1", "got 0");
        expect(IllegalArgumentException.class, () -> Tensor.randint(null, 5, 5, Device.CPU, 2), "[5, 5)");
        expect(IllegalArgumentException.class, () -> Tensor.cat(List.of(), 0), "at least one");
        expect(IllegalArgumentException.class, () -> Tensor.ones(3).sum(false), "at least one dimension");
        expect(IllegalStateException.class, () -> Tensor.ones(3).item(), "one-element", "[3]");
        expect(IllegalArgumentException.class, () -> Tensor.ones(2).reshape(new long[65]), "64", "65");
        expect(IllegalArgumentException.class, () -> Device.parse("gpu0"), "'gpu0'");
        expect(IllegalArgumentException.class, () -> Device.cuda(-1), "-1");
    }

    @Test
    void theJvmSurvivesARunOfFailures() {
        for (int i = 0; i < 200; i++) {
            int k = i;
            assertThrows(TorchException.class, () -> Tensor.ones(2, 3).matmul(Tensor.ones(k % 5 + 4, 2)));
        }
        assertEquals(6.0, Tensor.ones(2, 3).sum().item());
    }
}
