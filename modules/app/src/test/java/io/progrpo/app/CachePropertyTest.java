package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

/** {@link CacheProperty} puts back the value (or the absence) of {@code progrpo.cache} at each level it saved. */
class CachePropertyTest {
    @Test
    void eachLevelRestoresWhatWasThereBeforeIt() {
        String outer = System.getProperty(CacheProperty.KEY);
        try {
            System.clearProperty(CacheProperty.KEY);
            CacheProperty c = new CacheProperty();
            assertThrows(IllegalStateException.class, () -> c.point(Path.of("x")), "outside a test");
            c.beforeAll(null);
            c.point(Path.of("class-cache"));
            c.beforeEach(null);
            assertEquals("class-cache", System.getProperty(CacheProperty.KEY));
            c.point(Path.of("test-cache"));
            assertEquals("test-cache", System.getProperty(CacheProperty.KEY));
            c.afterEach(null);
            assertEquals("class-cache", System.getProperty(CacheProperty.KEY), "the test's value is undone");
            c.afterAll(null);
            assertNull(System.getProperty(CacheProperty.KEY), "the class's value is undone: the property was unset");
        } finally {
            if (outer == null) System.clearProperty(CacheProperty.KEY);
            else System.setProperty(CacheProperty.KEY, outer);
        }
    }
}
