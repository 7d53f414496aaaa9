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
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    List<String> accepted = Collections.synchronizedList(new ArrayList<>());
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext(
        "/hook",
        ex -> {
          String body;
          try (InputStream in = ex.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
          }
          if (calls.incrementAndGet() == 1) {
            try {
              release.await(30, TimeUnit.SECONDS); // hold the first attempt until the test says
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
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
      StatusWebhook webhook = new StatusWebhook(url);
      var delivered = webhook.post("{\"status\":\"done\"}");
      // post() returned while the endpoint still holds the first attempt: it does not block.
      assertThat("post does not wait for the endpoint", delivered.isDone(), equalTo(false));
      release.countDown();
      assertThat(delivered.get(30, TimeUnit.SECONDS), equalTo(true));
      assertThat(calls.get(), equalTo(2));
      assertThat(accepted, contains("application/json {\"status\":\"done\"}"));
      webhook.close();
    } finally {
      http.stop(0);
    }
  }
}
