package io.progrpo.reward;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A minimal HTTP/1.1 server for the tests, on 127.0.0.1 and an ephemeral port, one connection at a time on one thread
 * (bounded: it serves at most what the test sends). Each request (method, path, body) goes to {@code handler}, whose
 * answer is written with {@code Connection: close}.
 */
final class LoopbackRewardServer implements AutoCloseable {
    record Request(String method, String path, String body) {}

    record Answer(int status, String body, long delayMillis) {
        static Answer ok(String body) {
            return new Answer(200, body, 0);
        }
    }

    private final ServerSocket socket;
    private final Thread thread;
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger posts = new AtomicInteger();

    LoopbackRewardServer(Function<Request, Answer> handler) throws IOException {
        socket = new ServerSocket(0, 8, InetAddress.getByName("127.0.0.1"));
        thread = new Thread(() -> serve(handler), "loopback-reward-server");
        thread.setDaemon(true);
        thread.start();
    }

    /** The URL of {@code path} on this server. */
    String url(String path) {
        return "http://127.0.0.1:" + socket.getLocalPort() + path;
    }

    private void serve(Function<Request, Answer> handler) {
        while (!socket.isClosed()) {
            try (Socket s = socket.accept()) {
                s.setSoTimeout(10_000);
                Request r = read(s.getInputStream());
                if (r == null) continue;
                requests.incrementAndGet();
                if (r.method().equals("POST")) posts.incrementAndGet();
                Answer a = handler.apply(r);
                if (a.delayMillis() > 0) Thread.sleep(a.delayMillis());
                byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
                OutputStream out = s.getOutputStream();
                out.write(("HTTP/1.1 " + a.status() + " X\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
            } catch (SocketException e) {
                if (socket.isClosed()) return;
            } catch (IOException e) {
                // a client that gave up (a time-out test): serve the next one
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static Request read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int c;
        int state = 0;
        while ((c = in.read()) >= 0) {
            head.write(c);
            state = (c == '\r' || c == '\n') ? state + 1 : 0;
            if (state == 4) break;
        }
        if (head.size() == 0) return null;
        String[] lines = head.toString(StandardCharsets.US_ASCII).split("\r\n");
        String[] first = lines[0].split(" ");
        int length = 0;
        for (String l : lines) {
            if (l.toLowerCase(Locale.ROOT).startsWith("content-length:")) length = Integer.parseInt(l.substring(15).strip());
        }
        byte[] body = in.readNBytes(length);
        return new Request(first[0], first.length > 1 ? first[1] : "/", new String(body, StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
        socket.close();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
