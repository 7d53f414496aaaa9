package dev.landfall.io.ledger;

import dev.landfall.io.retry.Retry;
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
 * POSTs status events (JSON) to {@code --webhookUrl} from a background thread: retried with backoff
 * (5 attempts over about 30 s) on errors and non-2xx answers, never blocking ingestion. If the
 * endpoint stays down the event is logged and dropped; the ledger table remains the durable record.
 * Created by whoever posts (one per {@link FinishFiles} worker instance, one per run's closing of
 * files), with its own sending thread, stopped by {@link #close()}.
 */
public final class StatusWebhook implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StatusWebhook.class);

  /** 5 attempts, waiting 2, 4, 8 and 16 s between them: about 30 s in all. */
  private static final Retry RETRY = new Retry(5, Duration.ofSeconds(2), Duration.ofSeconds(16));

  private final URI url;
  private final HttpClient client;
  private final ExecutorService executor;

  /** A webhook posting to {@code url}; its thread starts with the first event. */
  public StatusWebhook(String url) {
    this.url = URI.create(url);
    this.executor =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(10_000),
            r -> {
              Thread t = new Thread(r, "landfall-webhook");
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.DiscardOldestPolicy());
    this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** Queues one event; returns at once. */
  public CompletableFuture<Boolean> post(String json) {
    return CompletableFuture.supplyAsync(() -> send(json), executor);
  }

  /**
   * Accepts no more events and lets the sending thread end once the queued ones are sent (or given
   * up); does not wait for them. The thread is a daemon: it never holds up the JVM's exit.
   */
  @Override
  public void close() {
    executor.shutdown();
  }

  private boolean send(String json) {
    HttpRequest request =
        HttpRequest.newBuilder(url)
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build();
    try {
      return RETRY.run(
          "webhook " + url.getHost(),
          () -> {
            HttpResponse<Void> r = client.send(request, HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() / 100 != 2) {
              throw new NotAccepted(r.statusCode());
            }
            return true;
          },
          e -> !(e instanceof InterruptedException),
          e -> e instanceof NotAccepted ? e.getMessage() : e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      if (!Thread.currentThread().isInterrupted()) {
        LOG.error(
            "webhook {} unreachable, event dropped (the ledger keeps it): {}", url.getHost(), json);
      }
      return false;
    }
  }

  /** A non-2xx answer: retried like a failed request. */
  private static final class NotAccepted extends java.io.IOException {
    private static final long serialVersionUID = 1L;

    NotAccepted(int status) {
      super("answered " + status);
    }
  }
}
