package io.progrpo.app;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The {@code key=value} arguments of the measurement mains ({@link RewardAgreementMain}, {@link PreviewAgreementMain}):
 * each main takes the keys it knows, with its default where the key is absent, and passes the rest on as config
 * overrides ({@link #rest()}). A malformed argument or a value that is not a number where one is asked is an
 * {@link IllegalArgumentException} naming the key and the value.
 */
final class KeyValueArgs {
    private final Map<String, String> values = new LinkedHashMap<>();

    private KeyValueArgs() {}

    /** Splits every argument at its first '='; the last of repeated keys wins. */
    static KeyValueArgs parse(String... args) {
        KeyValueArgs kv = new KeyValueArgs();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq < 1) throw new IllegalArgumentException("arguments are key=value, got '" + a + "'");
            kv.values.remove(a.substring(0, eq));      // a repeated key moves to the end, as a later override would
            kv.values.put(a.substring(0, eq), a.substring(eq + 1));
        }
        return kv;
    }

    /** The value of {@code key}, taken out of the rest; {@code fallback} when it is absent. */
    String string(String key, String fallback) {
        String v = values.remove(key);
        return v == null ? fallback : v;
    }

    /** An integer value, taken out of the rest. */
    int integer(String key, int fallback) {
        return parsed(key, fallback, Integer::parseInt, "an integer");
    }

    /** A long value, taken out of the rest. */
    long longValue(String key, long fallback) {
        return parsed(key, fallback, Long::parseLong, "an integer");
    }

    /** A floating-point value, taken out of the rest. */
    double number(String key, double fallback) {
        return parsed(key, fallback, Double::parseDouble, "a number");
    }

    private <T> T parsed(String key, T fallback, Function<String, T> parse, String expected) {
        String v = values.remove(key);
        if (v == null) return fallback;
        try {
            return parse.apply(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": expected " + expected + ", got '" + v + "'");
        }
    }

    /** True when {@code key} is still among the rest (not taken yet). */
    boolean has(String key) {
        return values.containsKey(key);
    }

    /** The arguments no getter took, as {@code key=value} in their order: the config overrides. */
    List<String> rest() {
        List<String> r = new ArrayList<>();
        values.forEach((k, v) -> r.add(k + "=" + v));
        return r;
    }
}
