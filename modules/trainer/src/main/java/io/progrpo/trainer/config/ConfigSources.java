package io.progrpo.trainer.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads override values from outside (a JSON file, {@code key=value} strings, typed maps) strictly: one JSON object
 * and nothing after it, each field once, integers that fit their Java type (no fraction, no exponent, no overflow),
 * plain decimal numbers (no hex, no {@code f}/{@code d} suffix, no NaN or Infinity), ASCII digits only. Every
 * rejection is a {@link ConfigException} naming the field (or the source), what was expected and what came.
 */
final class ConfigSources {
    private ConfigSources() {}

    /** Config files are a few hundred bytes; anything this large is the wrong file. */
    static final long MAX_FILE_BYTES = 1 << 20;

    private static final ObjectMapper READER = new ObjectMapper();
    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern DECIMAL = Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");

    /** A value from a JSON file: the parsed node and the text as written (for error messages). */
    record JsonValue(JsonNode node, String text) {}

    static Map<String, Object> readJsonFile(Path file) {
        String source = "file " + file;
        String text;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new ConfigException(source, "config file " + file + " must be a JSON object of config fields (at most "
                        + MAX_FILE_BYTES + " bytes), got a file of " + size + " bytes");
            }
            text = Files.readString(file);
        } catch (CharacterCodingException e) {
            throw new ConfigException(source, "config file " + file + " must be UTF-8 text (a JSON object), got bytes that are not UTF-8", e);
        } catch (IOException e) {
            throw new ConfigException(source, "cannot read config file " + file + ": " + e, e);
        }
        return parseJsonObject(text, source);
    }

    /**
     * The fields of one JSON object, in order, as {@link JsonValue}s. Rejects anything after the object, a field given
     * twice, and a root that is not an object.
     */
    static Map<String, Object> parseJsonObject(String json, String source) {
        String text = json.startsWith("\uFEFF") ? json.substring(1) : json;
        try (JsonParser p = READER.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_OBJECT) {
                throw new ConfigException(source, source + " must hold a JSON object of config fields, got "
                        + (t == null ? "nothing" : kind(t) + " at " + where(p.currentTokenLocation())));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            Map<String, JsonLocation> seen = new HashMap<>();
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonLocation at = p.currentTokenLocation();
                JsonLocation first = seen.putIfAbsent(key, at);
                if (first != null) {
                    throw new ConfigException(key, "config field '" + key + "' appears twice in " + source + " (at "
                            + where(first) + " and at " + where(at) + "); expected each field once");
                }
                JsonToken v = p.nextToken();
                String written = v.isScalarValue() ? p.getText() : null;
                JsonNode node = p.readValueAsTree();
                m.put(key, new JsonValue(node, v == JsonToken.VALUE_STRING ? node.toString()
                        : written != null ? written : node.toString()));
            }
            JsonLocation end = p.currentTokenLocation();
            JsonToken extra = p.nextToken();
            if (extra != null) {
                throw new ConfigException(source, source + " must hold one JSON object, but after the object that ends at "
                        + where(end) + " comes " + kind(extra) + " at " + where(p.currentTokenLocation())
                        + "; expected the end of the input");
            }
            return m;
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, "malformed JSON in " + source + ": " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr()), e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from a string", e);
        }
    }

    private static String where(JsonLocation l) {
        return "line " + l.getLineNr() + ", column " + l.getColumnNr();
    }

    private static String kind(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.asString() == null ? t.name().toLowerCase(Locale.ROOT) : "'" + t.asString() + "'";
        };
    }

    /** {@code key=value} strings as key to string value, in order (a later key wins). */
    static Map<String, Object> parseSets(List<String> sets) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String s : sets) {
            int eq = s == null ? -1 : s.indexOf('=');
            if (eq < 0 || s.substring(0, eq).isBlank()) {
                throw new ConfigException("--set", "--set expects key=value, got '" + s + "'");
            }
            m.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
        }
        return m;
    }

    /** Converts a JSON value, a string or an already typed value to the field's Java type; strict about types. */
    static Object convert(RecordComponent c, Object raw, String source) {
        return convert(c.getName(), c.getType(), raw, source);
    }

    /** {@link #convert(RecordComponent, Object, String)} for a field {@code name} of type {@code type}. */
    static Object convert(String name, Class<?> type, Object raw, String source) {
        if (raw instanceof JsonValue(JsonNode node, String text)) {
            if (type == String.class && node.isTextual()) return node.textValue();
            if (type == boolean.class && node.isBoolean()) return node.booleanValue();
            if (type == int.class && node.isIntegralNumber() && node.canConvertToInt()) return node.intValue();
            if (type == long.class && node.isIntegralNumber() && node.canConvertToLong()) return node.longValue();
            if (type == double.class && node.isNumber()) {
                if (Double.isFinite(node.doubleValue())) return node.doubleValue();
                throw wrongType(name, type, text + " (beyond the range of a double)", source);
            }
            throw wrongType(name, type, text, source);
        }
        if (raw instanceof String s) {
            if (type == String.class) return s;
            if (type == boolean.class && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
                return Boolean.parseBoolean(s);
            }
            if ((type == int.class || type == long.class) && INTEGER.matcher(s).matches()) {
                try {
                    return type == int.class ? (Object) Integer.parseInt(s) : (Object) Long.parseLong(s);
                } catch (NumberFormatException e) {
                    throw wrongType(name, type, "'" + s + "' (out of range)", source);
                }
            }
            if (type == double.class && DECIMAL.matcher(s).matches()) {
                double d = Double.parseDouble(s);
                if (Double.isFinite(d)) return d;
                throw wrongType(name, type, "'" + s + "' (beyond the range of a double)", source);
            }
            throw wrongType(name, type, "'" + s + "'", source);
        }
        boolean integral = raw instanceof Integer || raw instanceof Long || raw instanceof Short || raw instanceof Byte;
        if (type == boolean.class && raw instanceof Boolean) return raw;
        if (type == long.class && integral) return ((Number) raw).longValue();
        if (type == int.class && integral) {
            long l = ((Number) raw).longValue();
            if (l == (int) l) return (int) l;
            throw wrongType(name, type, l + " (out of range)", source);
        }
        if (type == double.class && raw instanceof Number n) {
            if (Double.isFinite(n.doubleValue())) return n.doubleValue();
            throw wrongType(name, type, String.valueOf(n), source);
        }
        throw wrongType(name, type, raw == null ? "null" : raw + " (" + raw.getClass().getSimpleName() + ")", source);
    }

    static ConfigException wrongType(String field, Class<?> type, String value, String source) {
        String expected = switch (type.getName()) {
            case "int" -> "an integer (int, " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE + ")";
            case "long" -> "an integer (long, " + Long.MIN_VALUE + " to " + Long.MAX_VALUE + ")";
            case "double" -> "a finite decimal number such as 3e-4";
            case "boolean" -> "true or false";
            default -> "a string";
        };
        return new ConfigException(field, "config field '" + field + "' in " + source + " expects " + expected
                + ", got " + value);
    }

    /** The field nearest to {@code name} by edit distance, or null when none is close. */
    static String closestField(String name, List<String> fields) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String f : fields) {
            int d = editDistance(name.toLowerCase(Locale.ROOT), f.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = f;
            }
        }
        return bestDistance <= Math.max(2, name.length() / 3) ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
