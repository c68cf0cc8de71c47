package io.progrpo.app;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * Points the {@code progrpo.cache} system property (the world models' cache directory) at a test's own directory and
 * puts back whatever it was once the test is done, so that no test leaves the JVM's later tests reading a deleted
 * temporary directory.
 *
 * <p>Registered as {@code @RegisterExtension static final CacheProperty CACHE = new CacheProperty();}. The value
 * before the class is restored after it (for a cache set in {@code @BeforeAll}), and the value before each test is
 * restored after that test (for a cache set in {@code @BeforeEach} or in the test itself); {@link #point} may be
 * called from either.
 */
public final class CacheProperty implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    /** The system property the world's caches read. */
    public static final String KEY = "progrpo.cache";

    private final Deque<Optional<String>> saved = new ArrayDeque<>();

    /** Sets {@code progrpo.cache} to {@code dir} until the end of the current test, or of the class in {@code @BeforeAll}. */
    public void point(Path dir) {
        if (saved.isEmpty()) {
            throw new IllegalStateException("CacheProperty.point outside a test: register it with @RegisterExtension");
        }
        System.setProperty(KEY, dir.toString());
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        save();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        save();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        restore();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        restore();
    }

    private void save() {
        saved.push(Optional.ofNullable(System.getProperty(KEY)));
    }

    private void restore() {
        Optional<String> before = saved.pop();
        if (before.isPresent()) System.setProperty(KEY, before.get());
        else System.clearProperty(KEY);
    }
}
