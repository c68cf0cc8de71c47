package io.progrpo.trainer.config;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reflective side of {@link TrainConfig}: its record components, conversion of a record to a name-to-value map
 * and back, and typed overrides by field name. Kept apart so that the record's file holds the fields and their rules.
 */
final class ConfigRecords {
    private ConfigRecords() {}

    static final List<RecordComponent> COMPONENTS = List.of(TrainConfig.class.getRecordComponents());

    static List<String> fieldNames() {
        return COMPONENTS.stream().map(RecordComponent::getName).toList();
    }

    /** Field name to value (boxed), in declaration order; a fresh mutable map. */
    static Map<String, Object> toMap(TrainConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (RecordComponent rc : COMPONENTS) {
            try {
                m.put(rc.getName(), rc.getAccessor().invoke(c));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read config field " + rc.getName(), e);
            }
        }
        return m;
    }

    /** Puts each override into {@code values}, converted to its field's type; unknown and retired fields are refused. */
    static void putAllTyped(Map<String, Object> values, Map<String, ?> overrides, String source) {
        for (Map.Entry<String, ?> e : overrides.entrySet()) {
            if (e.getKey().equals(TrainConfig.RETIRED_ASYNC_REWARD)) {
                if (!Boolean.FALSE.equals(ConfigSources.convert(e.getKey(), boolean.class, e.getValue(), source))) {
                    throw new ConfigException(e.getKey(), "config field 'asyncReward' in " + source + " was removed: no code "
                            + "ever read it (rewards are scored on the sampling thread); got true, expected the key gone (or false)");
                }
                continue;
            }
            RecordComponent c = component(e.getKey(), source);
            values.put(c.getName(), ConfigSources.convert(c, e.getValue(), source));
        }
    }

    private static RecordComponent component(String name, String source) {
        for (RecordComponent c : COMPONENTS) {
            if (c.getName().equals(name)) return c;
        }
        String hint = ConfigSources.closestField(name, fieldNames());
        throw new ConfigException(name, "unknown config field '" + name + "' in " + source
                + (hint == null ? "" : " (did you mean '" + hint + "'?)")
                + "; valid fields: " + String.join(", ", fieldNames()));
    }

    /**
     * Builds the record from a map holding every field (validated by the constructor).
     *
     * @throws IllegalStateException when a field is missing (a programming error: the defaults name every field)
     */
    static TrainConfig fromMap(Map<String, Object> values) {
        Object[] args = new Object[COMPONENTS.size()];
        Class<?>[] types = new Class<?>[COMPONENTS.size()];
        for (int i = 0; i < args.length; i++) {
            RecordComponent c = COMPONENTS.get(i);
            types[i] = c.getType();
            if (!values.containsKey(c.getName())) {
                throw new IllegalStateException("no value for config field " + c.getName());
            }
            args[i] = values.get(c.getName());
        }
        try {
            Constructor<TrainConfig> ctor = TrainConfig.class.getDeclaredConstructor(types);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build TrainConfig: " + e, e);
        }
    }
}
