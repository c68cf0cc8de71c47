package io.progrpo.reward;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.progrpo.tensor.Tensor;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A reward scored by another process over HTTP (flow_grpo's reward-server convention: a separate process holds the
 * large reward model). The reward spec names it by its URL, {@code reward=http://127.0.0.1:8731/score}.
 *
 * <h2>Protocol</h2>
 * Each batch of at most {@link Options#batch()} images is one {@code POST} of {@code application/json} to the URL:
 * <pre>
 * {"prompts": ["a red circle", ...],                        N prompts
 *  "images": {"encoding": "raw-float32-le",                 or "png"
 *             "shape": [N, 3, H, W],                        values in [0, 1]
 *             "data": "BASE64"},                            raw: N*3*H*W little-endian float32, row-major NCHW;
 *                                                           png: a list of N base64 PNGs (8-bit RGB) instead
 *  "metadata": {"reward": "URL", "batch": k, "batches": K}}
 * </pre>
 * answered with {@code 200} and {@code {"rewards": [r_0, ..., r_{N-1}]}} (N finite numbers), optionally with
 * {@code "metrics": {"name": [N numbers], ...}} reported beside the reward. Before the first call a {@code GET} of
 * {@code /health} on the same host and port must answer {@code 200} ({@link #connect}).
 *
 * <h2>Failures</h2>
 * A refused connection, a time-out or a 5xx answer is retried {@link Options#retries()} times with exponential back-off
 * ({@link Options#backoff()}, doubling); a 4xx answer, a body that is not the JSON above, a wrong number of rewards or
 * a non-finite reward fails at once. Every failure is an {@link IllegalStateException} that names the URL, what was
 * expected and what came (the status and the first 200 characters of the body), so an epoch aborts with nothing
 * changed (the trainer's contract for a failing reward).
 */
public final class HttpReward implements RewardFunction {
    /** The image encodings of the protocol. */
    public static final List<String> ENCODINGS = List.of("raw-float32-le", "png");

    /**
     * The client's settings; {@link #fromSystemProperties()} reads {@code progrpo.reward.http.batch},
     * {@code .timeoutSeconds}, {@code .retries}, {@code .backoffMillis} and {@code .encoding}.
     *
     * @param batch    images per request, at least 1 (default 64)
     * @param timeout  per request (default 60 s; the health check's too)
     * @param retries  further attempts after a refused connection, a time-out or a 5xx (default 3)
     * @param backoff  the wait before the first retry, doubled before each next one (default 250 ms)
     * @param encoding {@code raw-float32-le} (default) or {@code png}
     */
    public record Options(int batch, Duration timeout, int retries, Duration backoff, String encoding) {
        public Options {
            if (batch < 1) throw new IllegalArgumentException("HTTP reward batch must be >= 1 image per request, got " + batch);
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("HTTP reward time-out must be positive, got " + timeout);
            }
            if (retries < 0) throw new IllegalArgumentException("HTTP reward retries must be >= 0, got " + retries);
            if (backoff == null || backoff.isNegative()) throw new IllegalArgumentException("HTTP reward back-off must be >= 0, got " + backoff);
            if (!ENCODINGS.contains(encoding)) {
                throw new IllegalArgumentException("HTTP reward encoding must be one of " + ENCODINGS + ", got '" + encoding + "'");
            }
        }

        /** The defaults: 64 images per request, 60 s, 3 retries from 250 ms, raw float32. */
        public static Options defaults() {
            return new Options(64, Duration.ofSeconds(60), 3, Duration.ofMillis(250), "raw-float32-le");
        }

        /** The defaults with the {@code progrpo.reward.http.*} system properties applied. */
        public static Options fromSystemProperties() {
            Options d = defaults();
            try {
                return new Options(Integer.parseInt(System.getProperty("progrpo.reward.http.batch", String.valueOf(d.batch))),
                        Duration.ofMillis((long) (1000 * Double.parseDouble(System.getProperty("progrpo.reward.http.timeoutSeconds",
                                String.valueOf(d.timeout.toMillis() / 1000.0))))),
                        Integer.parseInt(System.getProperty("progrpo.reward.http.retries", String.valueOf(d.retries))),
                        Duration.ofMillis(Long.parseLong(System.getProperty("progrpo.reward.http.backoffMillis", String.valueOf(d.backoff.toMillis())))),
                        System.getProperty("progrpo.reward.http.encoding", d.encoding));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("a progrpo.reward.http.* system property is not a number: " + e.getMessage(), e);
            }
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI endpoint;
    private final String name;
    private final Options options;
    private final HttpClient client;

    private HttpReward(URI endpoint, Options options) {
        this.endpoint = endpoint;
        this.name = endpoint.toString();
        this.options = options;
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(options.timeout()).build();
    }

    /** Whether a reward spec's name is an endpoint ({@code http://...} or {@code https://...}). */
    public static boolean isEndpoint(String name) {
        return name != null && (name.startsWith("http://") || name.startsWith("https://"));
    }

    /**
     * The endpoint of a reward spec's name, checked: http or https, a host, no user info, no fragment.
     *
     * @throws IllegalArgumentException naming the URL and what is wrong with it
     */
    public static URI endpoint(String url) {
        URI u;
        try {
            u = new URI(url);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("reward endpoint '" + url + "' is not a URL: " + e.getMessage(), e);
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("reward endpoint '" + url + "' must be an http:// or https:// URL");
        }
        if (u.getHost() == null || u.getHost().isEmpty()) {
            throw new IllegalArgumentException("reward endpoint '" + url + "' has no host; expected http://HOST:PORT/PATH");
        }
        if (u.getRawUserInfo() != null) {
            throw new IllegalArgumentException("reward endpoint '" + url + "' carries user info: credentials do not belong in a reward spec");
        }
        if (u.getRawFragment() != null) throw new IllegalArgumentException("reward endpoint '" + url + "' has a fragment (#...); expected none");
        return u;
    }

    /**
     * A client of the reward served at {@code url}, after its health check ({@code GET /health} on the same host and
     * port answered 200, with the options' retries), so that a wrong URL or a server that is down fails when the job
     * is built, before any sampling.
     *
     * @throws IllegalArgumentException for a URL that is not an http(s) endpoint
     * @throws IllegalStateException when the health check fails, naming the URL and what came back
     */
    public static HttpReward connect(String url, Options options) {
        HttpReward r = new HttpReward(endpoint(url), options == null ? Options.defaults() : options);
        r.health();
        return r;
    }

    @Override
    public String name() {
        return name;
    }

    public Options options() {
        return options;
    }

    /** The health check's URL: {@code /health} on the endpoint's scheme, host and port. */
    public URI healthUri() {
        return endpoint.resolve("/health");
    }

    /** {@code GET /health}, with the options' retries; throws unless it answers 200. */
    public void health() {
        HttpRequest req = HttpRequest.newBuilder(healthUri()).timeout(options.timeout()).GET().build();
        HttpResponse<String> res = send(req, "health check (GET " + healthUri() + ")");
        if (res.statusCode() != 200) {
            throw new IllegalStateException("reward endpoint " + name + " failed its health check: GET " + healthUri() + " answered "
                    + res.statusCode() + " " + head(res.body()) + "; expected 200");
        }
    }

    @Override
    public RewardOutput score(Tensor images, List<String> prompts) {
        ImageBatch all = ImageBatch.of(images, name);
        if (prompts.size() != all.count()) {
            throw new IllegalArgumentException("reward '" + name + "' got " + all.count() + " images and " + prompts.size() + " prompts");
        }
        int n = all.count();
        double[] scores = new double[n];
        Map<String, double[]> metrics = new LinkedHashMap<>();
        int batches = (n + options.batch() - 1) / options.batch();
        for (int b = 0; b < batches; b++) {
            int from = b * options.batch();
            int to = Math.min(n, from + options.batch());
            JsonNode answer = post(request(all, prompts, from, to, b, batches), to - from, from, n);
            JsonNode rewards = answer.get("rewards");
            for (int i = from; i < to; i++) scores[i] = rewards.get(i - from).asDouble();
            JsonNode m = answer.get("metrics");
            if (m != null && m.isObject()) {
                for (var e : m.properties()) {
                    double[] col = metrics.computeIfAbsent(e.getKey(), k -> new double[n]);
                    JsonNode v = e.getValue();
                    if (!v.isArray() || v.size() != to - from) {
                        throw new IllegalStateException("reward endpoint " + name + " answered metric '" + e.getKey() + "' with "
                                + (v.isArray() ? v.size() + " values" : "a " + v.getNodeType()) + "; expected " + (to - from) + " numbers");
                    }
                    for (int i = from; i < to; i++) col[i] = v.get(i - from).asDouble();
                }
            }
        }
        return new RewardOutput(scores, metrics);
    }

    private byte[] request(ImageBatch all, List<String> prompts, int from, int to, int batch, int batches) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode ps = root.putArray("prompts");
        for (int i = from; i < to; i++) ps.add(prompts.get(i));
        ObjectNode img = root.putObject("images");
        img.put("encoding", options.encoding());
        img.putArray("shape").add(to - from).add(ImageBatch.CHANNELS).add(all.height()).add(all.width());
        int size = all.imageSize();
        if (options.encoding().equals("png")) {
            ArrayNode data = img.putArray("data");
            for (int i = from; i < to; i++) data.add(Base64.getEncoder().encodeToString(PngImages.encode(all, i)));
        } else {
            ByteBuffer buf = ByteBuffer.allocate((to - from) * size * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(all.pixels(), all.offset(from), (to - from) * size);
            img.put("data", Base64.getEncoder().encodeToString(buf.array()));
        }
        ObjectNode meta = root.putObject("metadata");
        meta.put("reward", name);
        meta.put("batch", batch);
        meta.put("batches", batches);
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the request to reward endpoint " + name + ": " + e.getMessage(), e);
        }
    }

    /** One scoring request with retries; the parsed and checked answer. */
    private JsonNode post(byte[] body, int expected, int from, int total) {
        HttpRequest req = HttpRequest.newBuilder(endpoint).timeout(options.timeout())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        String what = "images " + from + ".." + (from + expected - 1) + " of " + total;
        HttpResponse<String> res = send(req, what);
        if (res.statusCode() != 200) {
            throw new IllegalStateException("reward endpoint " + name + " answered " + res.statusCode() + " for " + what + ": "
                    + head(res.body()) + "; expected 200 with {\"rewards\": [" + expected + " numbers]}");
        }
        JsonNode answer;
        try {
            answer = JSON.readTree(res.body());
        } catch (IOException e) {
            answer = null;
        }
        if (answer == null || !answer.isObject() || !(answer.get("rewards") instanceof ArrayNode rewards)) {
            throw new IllegalStateException("reward endpoint " + name + " answered " + what + " with " + head(res.body())
                    + "; expected a JSON object {\"rewards\": [" + expected + " numbers]}");
        }
        if (rewards.size() != expected) {
            throw new IllegalStateException("reward endpoint " + name + " answered " + rewards.size() + " rewards for " + what
                    + "; expected " + expected);
        }
        for (int i = 0; i < rewards.size(); i++) {
            JsonNode v = rewards.get(i);
            // JSON has no NaN: Jackson reads NaN / Infinity tokens only when asked to, so a non-number here is the server's
            if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
                throw new IllegalStateException("reward endpoint " + name + " answered reward " + (from + i) + " = " + v
                        + " for " + what + "; expected a finite number");
            }
        }
        return answer;
    }

    /** Sends with the options' retries on refused connections, time-outs and 5xx answers. */
    private HttpResponse<String> send(HttpRequest req, String what) {
        long wait = options.backoff().toMillis();
        Exception last = null;
        int attempts = options.retries() + 1;
        for (int a = 1; a <= attempts; a++) {
            try {
                HttpResponse<String> res = client.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                if (res.statusCode() < 500 || a == attempts) return res;
                last = new IOException("answered " + res.statusCode() + " " + head(res.body()));
            } catch (HttpTimeoutException e) {
                last = e;
            } catch (ConnectException e) {
                last = e;
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while calling reward endpoint " + name + " (" + what + ")", e);
            }
            if (a < attempts) {
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting to retry reward endpoint " + name, e);
                }
                wait *= 2;
            }
        }
        String why = last instanceof HttpTimeoutException ? "timed out after " + options.timeout().toMillis() / 1000.0 + " s"
                : last instanceof ConnectException ? "refused the connection (is the server running?)"
                : String.valueOf(last.getMessage());
        throw new IllegalStateException("reward endpoint " + name + " " + why + " for " + what + ", " + attempts
                + " attempt(s) with back-off from " + options.backoff().toMillis() + " ms", last);
    }

    private static String head(String body) {
        if (body == null || body.isEmpty()) return "(empty body)";
        String b = body.strip();
        return "'" + (b.length() > 200 ? b.substring(0, 200) + "..." : b) + "'";
    }

    @Override
    public String toString() {
        return "HttpReward[" + name + ", batch " + options.batch() + ", " + options.encoding() + "]";
    }
}
