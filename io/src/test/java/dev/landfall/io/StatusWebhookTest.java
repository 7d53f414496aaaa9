package dev.landfall.io;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;

import com.sun.net.httpserver.HttpServer;
import dev.landfall.io.ledger.StatusWebhook;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The status webhook: returns at once, retries a failing endpoint, delivers the JSON intact. */
class StatusWebhookTest {
  @Test
  void aFailingEndpointIsRetriedUntilItAcceptsTheEvent() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    List<String> accepted = Collections.synchronizedList(new ArrayList<>());
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext("/hook", ex -> {
      String body;
      try (InputStream in = ex.getRequestBody()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (calls.incrementAndGet() == 1) {
        ex.sendResponseHeaders(503, -1); // first attempt: unavailable
      } else {
        accepted.add(ex.getRequestHeaders().getFirst("Content-Type") + " " + body);
        ex.sendResponseHeaders(204, -1);
      }
      ex.close();
    });
    http.start();
    try {
      String url = "http://127.0.0.1:" + http.getAddress().getPort() + "/hook";
      long start = System.nanoTime();
      var delivered = StatusWebhook.to(url).post("{\"status\":\"done\"}");
      assertThat("post does not block", System.nanoTime() - start < 500_000_000L, equalTo(true));
      assertThat(delivered.get(30, TimeUnit.SECONDS), equalTo(true));
      assertThat(calls.get(), equalTo(2));
      assertThat(accepted, contains("application/json {\"status\":\"done\"}"));
    } finally {
      http.stop(0);
    }
  }
}
