package dev.landfall.io.ledger;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POSTs status events (JSON) to {@code --webhookUrl} from a background thread: retried with
 * backoff (5 attempts over about 30 s) on errors and non-2xx answers, never blocking ingestion.
 * If the endpoint stays down the event is logged and dropped; the ledger table remains the
 * durable record. One per JVM and URL.
 */
public final class StatusWebhook {
  private static final Logger LOG = LoggerFactory.getLogger(StatusWebhook.class);
  private static final int ATTEMPTS = 5;
  private static StatusWebhook instance;

  private final URI url;
  private final HttpClient client;
  private final ExecutorService executor;

  private StatusWebhook(URI url) {
    this.url = url;
    this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
        new LinkedBlockingQueue<>(10_000), r -> {
          Thread t = new Thread(r, "landfall-webhook");
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.DiscardOldestPolicy());
    this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** The webhook for {@code url} (shared by all workers in this JVM). */
  public static synchronized StatusWebhook to(String url) {
    if (instance == null || !instance.url.toString().equals(url)) {
      instance = new StatusWebhook(URI.create(url));
    }
    return instance;
  }

  /** Queues one event; returns at once. */
  public CompletableFuture<Boolean> post(String json) {
    return CompletableFuture.supplyAsync(() -> send(json), executor);
  }

  private boolean send(String json) {
    HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build();
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        HttpResponse<Void> r = client.send(request, HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() / 100 == 2) {
          return true;
        }
        LOG.warn("webhook {} answered {} (attempt {}/{})", url.getHost(), r.statusCode(), attempt,
            ATTEMPTS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } catch (Exception e) {
        LOG.warn("webhook {} failed (attempt {}/{}): {}", url.getHost(), attempt, ATTEMPTS,
            e.toString());
      }
      try {
        Thread.sleep(1000L << attempt);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    LOG.error("webhook {} unreachable, event dropped (the ledger keeps it): {}", url.getHost(), json);
    return false;
  }
}
