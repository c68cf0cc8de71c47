package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void addsAndReportsLibtorchErrors() {
        System.out.println(Torch.describe());
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
            Tensor b = a.add(a).mul(0.5);
            assertArrayEquals(new float[] {1, 2, 3, 4}, b.toFloatArray());
            Tensor c = Tensor.ones(3, 5);
            TorchException e = assertThrows(TorchException.class, () -> a.matmul(c));
            assertTrue(e.getMessage().contains("matmul"), e.getMessage());
            System.out.println(e.getMessage());
            assertEquals(4, s.size());
        }
        assertEquals(0, MemoryLedger.liveTensors());
    }
}
