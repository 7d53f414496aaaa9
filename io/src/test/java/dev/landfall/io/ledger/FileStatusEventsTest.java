package dev.landfall.io.ledger;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * File status events: every published event reaches the webhook, in order, before the wait ends.
 */
class FileStatusEventsTest {
  @Test
  void awaitPostsReturnsOnceEveryEventIsDelivered() throws Exception {
    List<String> received = Collections.synchronizedList(new ArrayList<>());
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext(
        "/hook",
        ex -> {
          try (InputStream in = ex.getRequestBody()) {
            received.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
          }
          ex.sendResponseHeaders(204, -1);
          ex.close();
        });
    http.start();
    try (FileStatusEvents events =
        new FileStatusEvents("http://127.0.0.1:" + http.getAddress().getPort() + "/hook")) {
      events.publish("{\"file\":\"a.csv\"}", "");
      events.publish("{\"file\":\"b.csv\"}", "12 ms");
      events.awaitPosts(Duration.ofSeconds(60));
      assertThat(received, contains("{\"file\":\"a.csv\"}", "{\"file\":\"b.csv\"}"));
    } finally {
      http.stop(0);
    }
  }
}
