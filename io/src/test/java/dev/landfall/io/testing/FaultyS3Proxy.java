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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP proxy on 127.0.0.1 in front of an S3-compatible server that injects the faults of a busy
 * store and a bad network, by rule: answer {@code 503 SlowDown}, {@code 500 InternalError} or
 * {@code 403 AccessDenied}, reset the connection, hold the request for a while, or forward the
 * answer's head and only half of its body, then close ({@link Fault}). A rule applies to one kind
 * of request ({@link Kind}: an object's GET, a listing, a HEAD, a write) and fires on every {@code
 * every}-th such request, at most {@code max} times; other requests pass through unchanged.
 *
 * <p>Each request travels on a connection of its own (the proxy asks both sides to close after one
 * exchange; the {@code Connection} header is not part of an S3 request's signature), so each
 * request can be told apart by its method, path and query. Signatures still verify at the server:
 * nothing else of a request is changed.
 */
public final class FaultyS3Proxy implements AutoCloseable {
  /** What the proxy does to a request a rule picks. */
  public enum Fault {
    /** Answers {@code 503 Slow Down} without asking the server. */
    SLOW_DOWN(503, "Slow Down", "SlowDown", "Please reduce your request rate."),
    /** Answers {@code 500 Internal Server Error} without asking the server. */
    INTERNAL_ERROR(
        500,
        "Internal Server Error",
        "InternalError",
        "We encountered an internal error. Please try again."),
    /** Answers {@code 403 Forbidden} (a permanent fault) without asking the server. */
    ACCESS_DENIED(403, "Forbidden", "AccessDenied", "Access Denied"),
    /** Resets the connection (RST) after reading the request's head. */
    RESET,
    /** Holds the request for {@link #delayMillis} before passing it on. */
    DELAY,
    /** Passes the answer's head and half of its body on, then closes the connection. */
    CUT_BODY;

    final int status;
    final String reason;
    final String code;
    final String message;

    Fault() {
      this(0, null, null, null);
    }

    Fault(int status, String reason, String code, String message) {
      this.status = status;
      this.reason = reason;
      this.code = code;
      this.message = message;
    }
  }

  /** The kinds of S3 requests (path-style addressing). */
  public enum Kind {
    /** GET of an object (a read, whole or ranged). */
    GET_OBJECT,
    /** GET of a bucket: a listing. */
    LIST,
    /** HEAD of an object or bucket. */
    HEAD,
    /** PUT, POST or DELETE: writes, copies, multipart uploads, deletes. */
    WRITE
  }

  private static final class Rule {
    final Kind kind;
    final Fault fault;
    final int every;
    final int max;

    /** Only requests whose path contains this (null: all of the kind). */
    final String pathContains;

    final AtomicInteger seen = new AtomicInteger();
    final AtomicInteger fired = new AtomicInteger();

    Rule(Kind kind, Fault fault, int every, int max, String pathContains) {
      this.kind = kind;
      this.fault = fault;
      this.every = every;
      this.max = max;
      this.pathContains = pathContains;
    }

    /** Whether the rule fires on this request (counting it when it is of the rule's kind). */
    boolean fires(Kind k, String path) {
      if (k != kind || (pathContains != null && !path.contains(pathContains))) {
        return false;
      }
      int n = seen.incrementAndGet();
      if (n % every != 0) {
        return false;
      }
      if (fired.incrementAndGet() > max) {
        fired.decrementAndGet();
        return false;
      }
      return true;
    }
  }

  private final ServerSocket server;
  private final int targetPort;
  private final List<Rule> rules = new CopyOnWriteArrayList<>();
  private volatile long delayMillis = 2_000;
  private final AtomicInteger requests = new AtomicInteger();
  private final ExecutorService pool =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "faulty-s3-proxy");
            t.setDaemon(true);
            return t;
          });

  private FaultyS3Proxy(ServerSocket server, int targetPort) {
    this.server = server;
    this.targetPort = targetPort;
  }

  /** Proxies to {@code target} (a loopback URI); no faults until rules are added. */
  public static FaultyS3Proxy start(URI target) throws IOException {
    FaultyS3Proxy p =
        new FaultyS3Proxy(
            new ServerSocket(0, 100, InetAddress.getLoopbackAddress()), target.getPort());
    p.pool.execute(p::acceptLoop);
    return p;
  }

  /**
   * Adds a rule: {@code fault} on every {@code every}-th request of {@code kind}, {@code max}
   * times.
   */
  public FaultyS3Proxy inject(Fault fault, Kind kind, int every, int max) {
    rules.add(new Rule(kind, fault, every, max, null));
    return this;
  }

  /**
   * Adds a rule: {@code fault} on every request of {@code kind} whose path contains {@code part}.
   */
  public FaultyS3Proxy injectOn(Fault fault, Kind kind, String part) {
    rules.add(new Rule(kind, fault, 1, Integer.MAX_VALUE, part));
    return this;
  }

  /** How long {@link Fault#DELAY} holds a request (2 s unless set). */
  public FaultyS3Proxy delay(long millis) {
    this.delayMillis = millis;
    return this;
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getLocalPort());
  }

  /** How many times {@code fault} was injected into requests of {@code kind}. */
  public int injected(Fault fault, Kind kind) {
    return rules.stream()
        .filter(r -> r.fault == fault && r.kind == kind)
        .mapToInt(r -> r.fired.get())
        .sum();
  }

  /** The requests seen so far. */
  public int requests() {
    return requests.get();
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
    try (client) {
      InputStream fromClient = client.getInputStream();
      String head = readHead(fromClient);
      if (head == null) {
        return;
      }
      requests.incrementAndGet();
      String[] line = head.substring(0, head.indexOf("\r\n")).split(" ");
      Kind kind = kind(line[0], line[1]);
      Fault fault = null;
      for (Rule r : rules) {
        if (r.fires(kind, line[1])) {
          fault = r.fault;
          break;
        }
      }
      if (fault != null && fault.status > 0) {
        answer(client.getOutputStream(), fault, line[0].equals("HEAD"));
        return;
      }
      if (fault == Fault.RESET) {
        client.setSoLinger(true, 0); // close() now sends RST: "connection reset"
        return;
      }
      if (fault == Fault.DELAY) {
        Thread.sleep(delayMillis);
      }
      try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort)) {
        OutputStream toServer = upstream.getOutputStream();
        toServer.write(closing(head).getBytes(StandardCharsets.ISO_8859_1));
        toServer.flush();
        // The request's body (a PUT's), as it comes.
        pool.execute(() -> pipe(fromClient, toServer));
        InputStream fromServer = upstream.getInputStream();
        OutputStream toClient = client.getOutputStream();
        if (fault == Fault.CUT_BODY) {
          cut(fromServer, toClient);
        } else {
          fromServer.transferTo(toClient);
        }
        toClient.flush();
      }
    } catch (IOException | RuntimeException e) {
      // One side went away: the connection is closed.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The kind of a request, from its method and path-style target. */
  static Kind kind(String method, String target) {
    switch (method) {
      case "GET":
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        // "/bucket" or "/bucket/": the bucket (a listing); "/bucket/key": an object.
        String rest = path.length() > 1 ? path.substring(1) : "";
        int slash = rest.indexOf('/');
        return slash < 0 || slash == rest.length() - 1 ? Kind.LIST : Kind.GET_OBJECT;
      case "HEAD":
        return Kind.HEAD;
      default:
        return Kind.WRITE;
    }
  }

  /** Answers with the fault's status and an S3 error document, then the connection closes. */
  private static void answer(OutputStream out, Fault fault, boolean head) throws IOException {
    String body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
            + fault.code
            + "</Code><Message>"
            + fault.message
            + "</Message></Error>";
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    String response =
        "HTTP/1.1 "
            + fault.status
            + " "
            + fault.reason
            + "\r\n"
            + "Content-Type: application/xml\r\nConnection: close\r\nContent-Length: "
            + b.length
            + "\r\n\r\n";
    out.write(response.getBytes(StandardCharsets.ISO_8859_1));
    if (!head) {
      out.write(b);
    }
    out.flush();
  }

  /**
   * Passes the server's answer head on and half of its body (by its Content-Length; of what arrives
   * first when it is chunked), then returns so that the connection closes: the client sees the body
   * end too early. An answer other than 2xx passes whole.
   */
  private static void cut(InputStream in, OutputStream out) throws IOException {
    String head = readHead(in);
    if (head == null) {
      return;
    }
    out.write(head.getBytes(StandardCharsets.ISO_8859_1));
    if (!head.startsWith("HTTP/1.1 2")) {
      in.transferTo(out);
      return;
    }
    long length = -1;
    for (String h : head.split("\r\n")) {
      if (h.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Long.parseLong(h.substring(h.indexOf(':') + 1).trim());
      }
    }
    byte[] buf = new byte[64 * 1024];
    if (length < 0) {
      int n = in.read(buf);
      out.write(buf, 0, Math.max(0, n / 2));
      return;
    }
    long left = length / 2;
    while (left > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        return;
      }
      out.write(buf, 0, n);
      left -= n;
    }
    out.flush();
  }

  /** The request head with {@code Connection: close} instead of any Connection header. */
  static String closing(String head) {
    StringBuilder sb = new StringBuilder();
    for (String h : head.substring(0, head.length() - 4).split("\r\n")) {
      String lower = h.toLowerCase(Locale.ROOT);
      if (!lower.startsWith("connection:") && !lower.startsWith("keep-alive:")) {
        sb.append(h).append("\r\n");
      }
    }
    return sb.append("Connection: close\r\n\r\n").toString();
  }

  /** Reads up to and with the blank line ending a head (ISO-8859-1); null at a closed stream. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0; // how much of "\r\n\r\n" was just seen
    int b;
    while ((b = in.read()) >= 0) {
      head.write(b);
      if (b == '\r' && (state == 0 || state == 2)) {
        state++;
      } else if (b == '\n' && (state == 1 || state == 3)) {
        state++;
        if (state == 4) {
          return head.toString(StandardCharsets.ISO_8859_1);
        }
      } else {
        state = b == '\r' ? 1 : 0;
      }
    }
    return null;
  }

  private static void pipe(InputStream in, OutputStream out) {
    try {
      in.transferTo(out);
      out.flush();
    } catch (IOException e) {
      // One side went away.
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    pool.shutdownNow();
  }
}
