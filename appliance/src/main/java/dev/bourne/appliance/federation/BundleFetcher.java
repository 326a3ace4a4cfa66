package dev.bourne.appliance.federation;

import dev.bourne.appliance.datastore.BundleEndpointProfile;
import dev.bourne.appliance.datastore.FederationRelationship;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;

/**
 * Fetches a federated trust domain's bundle from its SPIFFE bundle endpoint (SPIFFE Federation 5): one HTTPS GET with
 * the JDK's HTTP client, the endpoint authenticated by the relationship's profile ({@link EndpointSvidTrust} for
 * {@code https_spiffe}, {@link WebPkiTrust} for {@code https_web}), and the body parsed by {@link SpiffeBundleJson},
 * which ignores keys of unknown {@code use} as the bundle specification requires.
 *
 * <p>A peer cannot hold the server: the whole exchange (connect, handshake, headers and body) must end within the
 * timeout, and the body may not exceed {@link SpiffeBundleJson#MAX_DOCUMENT_BYTES}; the body is read as it arrives and
 * the exchange is abandoned at the first byte too many. Every fetch uses a new TLS context, so a TLS session
 * authenticated against an older bundle is never resumed, and the certificate is always checked against the bundle
 * current at the time. Redirects are followed (Federation 5.2.x.4) under the same trust manager, so a redirect target
 * must pass the same checks; a redirect from https to http is refused by the client.
 */
public final class BundleFetcher implements AutoCloseable {
    /** How long one fetch may take, all included, unless configured otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    /** Format argument: the timeout. */
    public static final String TIMED_OUT = "the bundle endpoint did not answer completely within %s";
    public static final String TOO_LARGE = "the bundle endpoint sent more than " + SpiffeBundleJson.MAX_DOCUMENT_BYTES
            + " bytes";
    /** Format argument: the HTTP status code. */
    public static final String HTTP_STATUS = "the bundle endpoint answered HTTP %d, not 200";
    /** Format argument: the cause. */
    public static final String CONNECT_FAILED = "cannot connect to the bundle endpoint: %s";
    /** Format argument: the cause. */
    public static final String TLS_FAILED = "the bundle endpoint was not authenticated: %s";
    /** Format argument: the cause. */
    public static final String EXCHANGE_FAILED = "the exchange with the bundle endpoint failed: %s";
    /** Format argument: the parser's reason. */
    public static final String NOT_A_BUNDLE = "the bundle endpoint did not serve a valid SPIFFE bundle: %s";
    public static final String NO_AUTHORITIES = "the bundle endpoint served a bundle without any authority";
    /** Format arguments: the endpoint's trust domain, the endpoint SPIFFE ID. */
    public static final String NO_ENDPOINT_BUNDLE = "no bundle of trust domain %s is stored to authenticate the"
            + " endpoint %s: give a bootstrap bundle, or set it with 'bundle set'";

    private final Duration timeout;
    private final List<X509Certificate> extraWebRoots;
    private final Clock clock;
    private final ExecutorService executor;

    /**
     * @param timeout the longest one fetch may take
     * @param extraWebRoots CA certificates trusted for {@code https_web} endpoints besides the system's
     * @param clock the time at which endpoint SVIDs must be valid
     */
    public BundleFetcher(Duration timeout, List<X509Certificate> extraWebRoots, Clock clock) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
        this.timeout = timeout;
        this.extraWebRoots = List.copyOf(extraWebRoots);
        this.clock = Objects.requireNonNull(clock, "clock");
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread thread = new Thread(r, "bourne-bundle-fetch-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Fetches and parses the bundle the relationship's endpoint serves; the result is the bundle of
     * {@code relationship.trustDomain()}, whatever the endpoint is.
     *
     * @param endpointBundle for {@code https_spiffe}: the latest bundle of the endpoint SPIFFE ID's trust domain
     *     (ignored for {@code https_web})
     * @throws BundleFetchException naming what went wrong; nothing is stored either way
     */
    public SpiffeBundle fetch(FederationRelationship relationship, Optional<SpiffeBundle> endpointBundle)
            throws BundleFetchException {
        Objects.requireNonNull(relationship, "relationship");
        Objects.requireNonNull(endpointBundle, "endpointBundle");
        TrustManager trust;
        AtomicReference<java.util.function.Supplier<Optional<String>>> refusal = new AtomicReference<>();
        if (relationship.profile() instanceof BundleEndpointProfile.HttpsSpiffe spiffe) {
            if (endpointBundle.isEmpty()
                    || !endpointBundle.get().trustDomain().equals(spiffe.endpointSpiffeId().trustDomain())) {
                throw new BundleFetchException(String.format(NO_ENDPOINT_BUNDLE,
                        spiffe.endpointSpiffeId().trustDomain(), spiffe.endpointSpiffeId()));
            }
            EndpointSvidTrust svidTrust = new EndpointSvidTrust(spiffe.endpointSpiffeId(), endpointBundle.get(),
                    clock);
            refusal.set(svidTrust::refusal);
            trust = svidTrust;
        } else {
            try {
                WebPkiTrust webTrust = WebPkiTrust.create(extraWebRoots);
                refusal.set(webTrust::refusal);
                trust = webTrust;
            } catch (GeneralSecurityException e) {
                throw new BundleFetchException(String.format(EXCHANGE_FAILED, e.getMessage()), e);
            }
        }
        byte[] body = get(relationship, trust, refusal.get());
        SpiffeBundle bundle;
        try {
            bundle = SpiffeBundleJson.decode(relationship.trustDomain(), body);
        } catch (RuntimeException e) {
            throw new BundleFetchException(String.format(NOT_A_BUNDLE, e.getMessage()), e);
        }
        if (bundle.x509Authorities().isEmpty() && bundle.jwtAuthorities().isEmpty()) {
            // An empty bundle would make every SVID of the domain fail: a broken peer, not a key rotation.
            throw new BundleFetchException(NO_AUTHORITIES);
        }
        return bundle;
    }

    private byte[] get(FederationRelationship relationship, TrustManager trust,
            java.util.function.Supplier<Optional<String>> refusal) throws BundleFetchException {
        SSLContext context;
        try {
            context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trust}, new SecureRandom());
        } catch (GeneralSecurityException e) {
            throw new BundleFetchException(String.format(EXCHANGE_FAILED, e.getMessage()), e);
        }
        HttpClient client = HttpClient.newBuilder()
                .sslContext(context)
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .executor(executor)
                .build();
        HttpRequest request = HttpRequest.newBuilder(relationship.bundleEndpointUrl())
                .timeout(timeout)
                .header("Accept", "application/json")
                .GET()
                .build();
        AtomicReference<BoundedBody> body = new AtomicReference<>();
        CompletableFuture<HttpResponse<byte[]>> exchange = client.sendAsync(request, info -> {
            BoundedBody subscriber = new BoundedBody(info.statusCode(),
                    info.headers().firstValueAsLong("content-length"));
            body.set(subscriber);
            return subscriber;
        });
        try {
            return exchange.get(timeout.toMillis(), TimeUnit.MILLISECONDS).body();
        } catch (TimeoutException e) {
            abandon(exchange, body.get());
            throw new BundleFetchException(String.format(TIMED_OUT, describe(timeout)));
        } catch (InterruptedException e) {
            abandon(exchange, body.get());
            Thread.currentThread().interrupt();
            throw new BundleFetchException(String.format(EXCHANGE_FAILED, "interrupted"), e);
        } catch (ExecutionException e) {
            throw failure(e.getCause(), refusal);
        }
    }

    private static void abandon(CompletableFuture<?> exchange, BoundedBody body) {
        // Cancelling the future aborts the exchange and closes its connection; the body subscriber (if the headers
        // came) stops reading at once.
        exchange.cancel(true);
        if (body != null) {
            body.abort();
        }
    }

    private BundleFetchException failure(Throwable cause, java.util.function.Supplier<Optional<String>> refusal) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof BodyRefused refused) {
                return new BundleFetchException(refused.getMessage());
            }
            if (t instanceof HttpConnectTimeoutException || t instanceof HttpTimeoutException) {
                return new BundleFetchException(String.format(TIMED_OUT, describe(timeout)), cause);
            }
            if (t instanceof SSLException) {
                String why = refusal.get().orElse(t.getMessage());
                return new BundleFetchException(String.format(TLS_FAILED, why), cause);
            }
            if (t instanceof ConnectException) {
                return new BundleFetchException(String.format(CONNECT_FAILED, message(t)), cause);
            }
        }
        Optional<String> refused = refusal.get();
        if (refused.isPresent()) {
            return new BundleFetchException(String.format(TLS_FAILED, refused.get()), cause);
        }
        return new BundleFetchException(String.format(EXCHANGE_FAILED, message(cause)), cause);
    }

    private static String message(Throwable t) {
        return t.getMessage() == null || t.getMessage().isEmpty() ? t.getClass().getSimpleName() : t.getMessage();
    }

    private static String describe(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() + " ms";
    }

    /** Stops the threads of finished fetches; a fetch in progress fails. */
    @Override
    public void close() {
        executor.shutdownNow();
    }

    /** A refusal decided while reading the response: status or size. */
    private static final class BodyRefused extends IOException {
        private static final long serialVersionUID = 1L;

        BodyRefused(String message) {
            super(message);
        }
    }

    /**
     * Collects the body up to {@link SpiffeBundleJson#MAX_DOCUMENT_BYTES}. A response other than 200, or one that
     * announces or sends more than the limit, is refused without reading further: the subscription is cancelled,
     * which closes the connection.
     */
    private static final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final int status;
        private final boolean announcedTooLarge;
        private final java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
        private volatile Flow.Subscription subscription;

        BoundedBody(int status, java.util.OptionalLong contentLength) {
            this.status = status;
            this.announcedTooLarge = contentLength.isPresent()
                    && contentLength.getAsLong() > SpiffeBundleJson.MAX_DOCUMENT_BYTES;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (status != 200) {
                refuse(String.format(HTTP_STATUS, status));
            } else if (announcedTooLarge) {
                refuse(TOO_LARGE);
            } else {
                s.request(1);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer item : items) {
                if (buffer.size() + item.remaining() > SpiffeBundleJson.MAX_DOCUMENT_BYTES) {
                    refuse(TOO_LARGE);
                    return;
                }
                byte[] chunk = new byte[item.remaining()];
                item.get(chunk);
                buffer.write(chunk, 0, chunk.length);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable error) {
            result.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            result.complete(buffer.toByteArray());
        }

        private void refuse(String why) {
            result.completeExceptionally(new BodyRefused(why));
            subscription.cancel();
        }

        void abort() {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            result.completeExceptionally(new BodyRefused("abandoned"));
        }
    }
}
