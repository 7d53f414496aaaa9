package dev.landfall.io.ledger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the status event of a file goes once the ledger has closed it: the log ("file finished:
 * ..."), and the webhook when {@code --webhookUrl} is set (PostgreSQL's {@code NOTIFY
 * landfall_status} is sent by the ledger itself, in the closing transaction). The one path for
 * files closed inside a job ({@link FinishFiles}) and after it (a backfill's files, closed by
 * {@link FileLedger#finishRecorded} once the job has ended).
 */
public final class FileStatusEvents implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FileStatusEvents.class);

  private final StatusWebhook webhook;
  private final List<CompletableFuture<Boolean>> posts = new ArrayList<>();

  /** Events to the log, and to {@code webhookUrl} unless it is null or empty. */
  public FileStatusEvents(String webhookUrl) {
    this.webhook =
        webhookUrl == null || webhookUrl.isEmpty() ? null : new StatusWebhook(webhookUrl);
  }

  /** Logs one event, with {@code detail} (e.g. timings; may be empty), and posts it. */
  public void publish(String event, String detail) {
    if (detail.isEmpty()) {
      LOG.info("file finished: {}", event);
    } else {
      LOG.info("file finished: {} ({})", event, detail);
    }
    if (webhook != null) {
      CompletableFuture<Boolean> post = webhook.post(event);
      synchronized (posts) {
        posts.removeIf(CompletableFuture::isDone);
        posts.add(post);
      }
    }
  }

  /**
   * Waits up to {@code timeout} for the posts still being sent (a command that is about to exit
   * gives them a chance); logs when some are still pending then.
   */
  public void awaitPosts(Duration timeout) throws InterruptedException {
    CompletableFuture<?>[] pending;
    synchronized (posts) {
      pending = posts.toArray(new CompletableFuture<?>[0]);
    }
    if (pending.length == 0) {
      return;
    }
    try {
      CompletableFuture.allOf(pending).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.warn("webhook: some status events were still being sent after {} s", timeout.toSeconds());
    } catch (java.util.concurrent.ExecutionException e) {
      // StatusWebhook logs and drops an event it cannot send; nothing else can fail here.
      LOG.warn("webhook: {}", e.getCause().toString());
    }
  }

  /** Accepts no more events; the ones queued are still sent (see {@link StatusWebhook#close}). */
  @Override
  public void close() {
    if (webhook != null) {
      webhook.close();
    }
  }
}
