package dev.landfall.io.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 in front of an S3 endpoint that breaks the first request of some
 * connections, as a busy S3 does: every {@code period}-th new connection, until {@code faults}
 * faults have been injected, either answers {@code 503 SlowDown} or resets the connection (RST),
 * alternately. Other connections are piped through unchanged, so request signatures (which cover
 * the Host header the client used) still verify at the real server.
 */
public final class FlakyProxy implements AutoCloseable {
  private static final String SLOW_DOWN_BODY = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      + "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
  private static final byte[] SLOW_DOWN = ("HTTP/1.1 503 Slow Down\r\n"
      + "Content-Type: application/xml\r\nConnection: close\r\nContent-Length: "
      + SLOW_DOWN_BODY.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + SLOW_DOWN_BODY)
      .getBytes(StandardCharsets.UTF_8);

  private final ServerSocket server;
  private final int targetPort;
  private final int period;
  private final int faults;
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "flaky-proxy");
    t.setDaemon(true);
    return t;
  });
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger slowDowns = new AtomicInteger();
  private final AtomicInteger resets = new AtomicInteger();

  private FlakyProxy(ServerSocket server, int targetPort, int period, int faults) {
    this.server = server;
    this.targetPort = targetPort;
    this.period = period;
    this.faults = faults;
  }

  /** Proxies to {@code target} (a loopback URI), breaking every {@code period}-th connection. */
  public static FlakyProxy start(URI target, int period, int faults) throws IOException {
    FlakyProxy p = new FlakyProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
        target.getPort(), period, faults);
    p.pool.execute(p::acceptLoop);
    return p;
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getLocalPort());
  }

  public int slowDowns() {
    return slowDowns.get();
  }

  public int resets() {
    return resets.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        pool.execute(() -> handle(client));
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void handle(Socket client) {
    int n = connections.incrementAndGet();
    try {
      if (n % period == 0 && slowDowns.get() + resets.get() < faults) {
        readRequestHead(client.getInputStream());
        if ((slowDowns.get() + resets.get()) % 2 == 0) {
          slowDowns.incrementAndGet();
          client.getOutputStream().write(SLOW_DOWN);
          client.getOutputStream().flush();
          client.close();
        } else {
          resets.incrementAndGet();
          client.setSoLinger(true, 0); // close() now sends RST: "connection reset"
          client.close();
        }
        return;
      }
      Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
      pool.execute(() -> pipe(upstream, client));
      pipe(client, upstream);
    } catch (IOException e) {
      closeQuietly(client);
    }
  }

  /** Reads up to the blank line ending the request head. */
  private static void readRequestHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      head.write(b);
      byte[] h = head.toByteArray();
      int l = h.length;
      if (l >= 4 && h[l - 4] == '\r' && h[l - 3] == '\n' && h[l - 2] == '\r' && h[l - 1] == '\n') {
        return;
      }
    }
  }

  private static void pipe(Socket from, Socket to) {
    byte[] buf = new byte[64 * 1024];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // One side went away: close both.
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // Already closed.
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    pool.shutdownNow();
  }
}
