package io.progrpo.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

class ForwardingSamplerTest {
    /** Every method of Sampler, defaults included, but the two validation helpers, is forwarded. */
    @Test
    void everySamplerMethodIsForwarded() throws Exception {
        Set<String> helpers = Set.of("checkStep", "checkMixedSteps");
        List<String> missing = new ArrayList<>();
        for (Method m : Sampler.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || helpers.contains(m.getName())) continue;
            try {
                ForwardingSampler.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
            } catch (NoSuchMethodException e) {
                missing.add(m.toString());
            }
        }
        assertTrue(missing.isEmpty(), "not forwarded: " + missing);
    }

    /** The answers come from the wrapped sampler, not from the interface's defaults. */
    @Test
    void answersAreTheWrappedSamplers() {
        Sampler inner = new Sampler() {
            public int steps() { return 7; }
            public double time(int i) { return 0.5 + i; }
            public StepOutput step(VelocityModel m, Tensor x, Tensor c, int i, Generator g) { throw new UnsupportedOperationException("step " + i); }
            public LogProbResult logProb(VelocityModel m, Tensor x, Tensor xn, Tensor c, int i) { throw new UnsupportedOperationException("logProb " + i); }
            public LogProbResult logProb(VelocityModel m, Tensor x, Tensor xn, Tensor c, int[] s) { throw new UnsupportedOperationException("mixed " + s.length); }
            public double klStd(int i) { return 3.0 * i; }
            public boolean isStochastic(int i) { return i % 2 == 0; }
        };
        ForwardingSampler f = new ForwardingSampler(inner) { };
        assertEquals(7, f.steps());
        assertEquals(2.5, f.time(2));
        assertEquals(6.0, f.klStd(2), "klStd forwarded, not the default");
        assertTrue(f.isStochastic(4));
        assertEquals("step 3", assertThrows(UnsupportedOperationException.class, () -> f.step(null, null, null, 3, null)).getMessage());
        assertEquals("logProb 1", assertThrows(UnsupportedOperationException.class, () -> f.logProb(null, null, null, null, 1)).getMessage());
        assertEquals("mixed 2", assertThrows(UnsupportedOperationException.class,
                () -> f.logProb(null, null, null, null, new int[] {0, 2})).getMessage());
        assertThrows(NullPointerException.class, () -> new ForwardingSampler(null) { });
    }
}
