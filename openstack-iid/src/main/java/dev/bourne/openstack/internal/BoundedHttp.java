package dev.bourne.openstack.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One HTTP exchange bounded in time and size, for the clients of this module that read from services they do not
 * control (the metadata service, Keystone, Nova).
 *
 * <p>The JDK's request timeout ends when the response headers arrive; a peer that then trickles its body would hold
 * the caller for ever. Here the whole exchange, body included, must finish within the timeout. A success body (2xx)
 * is refused as soon as it passes the limit, by its {@code Content-Length} or while it streams, without reading the
 * rest; other bodies are not kept.
 */
public final class BoundedHttp {

    private BoundedHttp() {
    }

    /**
     * Sends {@code request} and returns the response, whose body is the bytes of a 2xx answer (at most
     * {@code maxBytes}) or empty for any other status.
     *
     * @throws BodyTooLargeException when a 2xx body is larger than {@code maxBytes}
     * @throws HttpTimeoutException when the exchange, body included, takes longer than {@code timeout}
     * @throws IOException when the peer cannot be reached or the connection fails
     * @throws InterruptedException when the calling thread is interrupted (the exchange is cancelled)
     */
    public static HttpResponse<byte[]> send(HttpClient client, HttpRequest request, int maxBytes, Duration timeout)
            throws IOException, InterruptedException {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(request, "request");
        CompletableFuture<HttpResponse<byte[]>> pending = client.sendAsync(request, info -> {
            if (info.statusCode() / 100 != 2) {
                return HttpResponse.BodySubscribers.replacing(new byte[0]);
            }
            long declared = info.headers().firstValueAsLong("Content-Length").orElse(-1);
            return new BoundedBody(maxBytes, declared > maxBytes);
        });
        try {
            return pending.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            pending.cancel(true);
            throw e;
        } catch (TimeoutException e) {
            pending.cancel(true);
            throw new HttpTimeoutException("no complete answer within " + describe(timeout));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(cause == null ? "the exchange failed" : cause.toString(), cause);
        }
    }

    /** {@code 5s} or {@code 250ms}: a timeout as an operator wrote it. */
    public static String describe(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    /**
     * Why a request failed, for an error message: the innermost exception's class and message (a JDK connection error
     * names the address, never the request's headers).
     */
    public static String describe(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
    }

    /** A 2xx body larger than the caller's limit. */
    public static final class BodyTooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        BodyTooLargeException(int maxBytes) {
            super("the answer is larger than " + maxBytes + " bytes");
        }
    }

    /** Collects at most {@code max} bytes; beyond that it cancels the stream rather than read it to its end. */
    private static final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final int max;
        private final boolean declaredTooLarge;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        BoundedBody(int max, boolean declaredTooLarge) {
            this.max = max;
            this.declaredTooLarge = declaredTooLarge;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            if (declaredTooLarge) {
                subscription.cancel();
                result.completeExceptionally(new BodyTooLargeException(max));
                return;
            }
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer item : items) {
                if (bytes.size() + (long) item.remaining() > max) {
                    subscription.cancel();
                    result.completeExceptionally(new BodyTooLargeException(max));
                    return;
                }
                byte[] chunk = new byte[item.remaining()];
                item.get(chunk);
                bytes.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            result.complete(bytes.toByteArray());
        }
    }
}
