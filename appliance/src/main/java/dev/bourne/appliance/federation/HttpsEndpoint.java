package dev.bourne.appliance.federation;

import dev.bourne.appliance.agentapi.TlsCredential;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTPS listener for public, read-only documents (the SPIFFE bundle endpoint, OIDC discovery): GET and HEAD
 * on a fixed set of paths, no client authentication, no request bodies.
 *
 * <p>It faces anyone who can reach the port, so everything is bounded: TLS 1.3 and 1.2 only, with forward-secret AEAD
 * suites; the handshake and every read time out; the request line and headers are capped; a request with a body is
 * refused before the body is read; and connections beyond {@link #MAX_CONNECTIONS} are closed at once. Built on Netty
 * rather than the JDK's {@code HttpsServer}, whose thread-per-exchange model lets slow clients hold every thread.
 */
final class HttpsEndpoint implements AutoCloseable {
    /** TLS versions offered, newest first. */
    static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** Idle time after which a connection (kept alive or stalled mid-request) is closed. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    static final int MAX_CONNECTIONS = 512;
    static final int MAX_INITIAL_LINE_BYTES = 4096;
    static final int MAX_HEADER_BYTES = 8192;

    /** What a route answers: a status, a content type, a body, and extra headers. */
    record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
        Response {
            Objects.requireNonNull(contentType, "contentType");
            Objects.requireNonNull(body, "body");
            headers = Map.copyOf(headers);
        }

        static Response text(int status, String text) {
            return new Response(status, "text/plain; charset=utf-8", (text + "\n").getBytes(StandardCharsets.UTF_8),
                    Map.of());
        }

        static Response json(String json, Map<String, String> headers) {
            return new Response(200, "application/json", json.getBytes(StandardCharsets.UTF_8), headers);
        }
    }

    /** Answers a GET (or HEAD) of a path; empty for a path it does not serve (404). */
    interface Routes {
        Optional<Response> get(String path);
    }

    private static final Logger LOG = LoggerFactory.getLogger(HttpsEndpoint.class);

    private final String name;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel channel;

    private HttpsEndpoint(String name, EventLoopGroup boss, EventLoopGroup workers, Channel channel) {
        this.name = name;
        this.boss = boss;
        this.workers = workers;
        this.channel = channel;
    }

    /**
     * Binds {@code address}:{@code port} (0 picks a free port) and serves {@code routes}.
     *
     * @param name names the listener in logs and thread names
     * @param credential the certificate chain and key, read at every handshake
     */
    static HttpsEndpoint start(String name, String address, int port, Supplier<TlsCredential> credential,
            Routes routes) throws IOException {
        Objects.requireNonNull(routes, "routes");
        SslContext ssl = sslContext(credential);
        AtomicInteger connections = new AtomicInteger();
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, daemon("bourne-" + name + "-accept"),
                NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, daemon("bourne-" + name + "-io"),
                NioIoHandler.newFactory());
        try {
            Channel channel = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 128)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (connections.incrementAndGet() > MAX_CONNECTIONS) {
                                connections.decrementAndGet();
                                ch.close();
                                return;
                            }
                            ch.closeFuture().addListener(f -> connections.decrementAndGet());
                            SslHandler tls = ssl.newHandler(ch.alloc());
                            tls.setHandshakeTimeoutMillis(HANDSHAKE_TIMEOUT.toMillis());
                            ch.pipeline()
                                    .addLast(tls)
                                    .addLast(new ReadTimeoutHandler(READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
                                    .addLast(new HttpServerCodec(MAX_INITIAL_LINE_BYTES, MAX_HEADER_BYTES, 8192))
                                    .addLast(new RequestHandler(routes));
                        }
                    })
                    .bind(new InetSocketAddress(address, port))
                    .syncUninterruptibly()
                    .channel();
            HttpsEndpoint endpoint = new HttpsEndpoint(name, boss, workers, channel);
            LOG.info("{} listening on https://{}:{}", name, address, endpoint.port());
            return endpoint;
        } catch (Exception e) {
            // Netty rethrows a bind failure (java.net.BindException) without declaring it.
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IOException("cannot listen on " + address + ":" + port + ": " + e.getMessage(), e);
        }
    }

    private static SslContext sslContext(Supplier<TlsCredential> credential) throws IOException {
        try {
            return SslContextBuilder.forServer(new CurrentCredentialKeyManager(credential))
                    .sslProvider(SslProvider.JDK)
                    .protocols(PROTOCOLS)
                    .ciphers(strongSuites())
                    .clientAuth(ClientAuth.NONE)
                    .build();
        } catch (SSLException | NoSuchAlgorithmException e) {
            throw new IOException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** TLS 1.3 suites (all AEAD and forward secret) and TLS 1.2 ECDHE suites with GCM or ChaCha20-Poly1305. */
    static List<String> strongSuites() throws NoSuchAlgorithmException {
        String[] all = SSLContext.getDefault().getDefaultSSLParameters().getCipherSuites();
        return Arrays.stream(all).filter(HttpsEndpoint::strongSuite).toList();
    }

    static boolean strongSuite(String suite) {
        if (suite.startsWith("TLS_AES_") || suite.startsWith("TLS_CHACHA20_")) {
            return true;
        }
        return suite.startsWith("TLS_ECDHE_") && (suite.contains("_GCM_") || suite.contains("CHACHA20_POLY1305"));
    }

    private static java.util.concurrent.ThreadFactory daemon(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread thread = new Thread(r, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** The bound port (useful when started on port 0). */
    int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        LOG.info("{} stopped", name);
    }

    /** One connection's requests, answered in order; a request that cannot be answered safely closes it. */
    private static final class RequestHandler extends SimpleChannelInboundHandler<HttpObject> {
        private final Routes routes;
        RequestHandler(Routes routes) {
            this.routes = routes;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject message) {
            if (message instanceof HttpRequest request) {
                if (request.decoderResult().isFailure()) {
                    // Over-long request line or headers, or not HTTP at all.
                    send(ctx, request, Response.text(400, "bad request"), false);
                    return;
                }
                if (hasBody(request)) {
                    // Nothing here takes a body: refuse before reading one, and close rather than drain it.
                    send(ctx, request, Response.text(413, "request bodies are not accepted"), false);
                    return;
                }
                send(ctx, request, answer(request), HttpUtil.isKeepAlive(request));
            }
            // Anything else is the (empty) end of a body-less request, or content after a refusal, which closes.
        }

        private static boolean hasBody(HttpRequest request) {
            if (HttpUtil.isTransferEncodingChunked(request)) {
                return true;
            }
            try {
                return HttpUtil.getContentLength(request, 0L) > 0;
            } catch (NumberFormatException e) {
                return true; // a malformed length is refused like a body
            }
        }

        private Response answer(HttpRequest request) {
            String path;
            try {
                URI uri = new URI(request.uri());
                path = uri.getRawPath();
                if (path == null || !path.startsWith("/")) {
                    return Response.text(400, "bad request");
                }
            } catch (URISyntaxException e) {
                return Response.text(400, "bad request");
            }
            Optional<Response> response;
            try {
                response = routes.get(path);
            } catch (RuntimeException e) {
                LOG.warn("answering GET {} failed: {}", path, e.toString());
                return Response.text(500, "internal error");
            }
            if (response.isEmpty()) {
                return Response.text(404, "not found");
            }
            HttpMethod method = request.method();
            if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
                return new Response(405, "text/plain; charset=utf-8",
                        "method not allowed\n".getBytes(StandardCharsets.UTF_8), Map.of("Allow", "GET, HEAD"));
            }
            return response.get();
        }

        private static void send(ChannelHandlerContext ctx, HttpRequest request, Response response,
                boolean keepAlive) {
            boolean head = request.method().equals(HttpMethod.HEAD);
            FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(response.status()),
                    head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(response.body()));
            out.headers().set(HttpHeaderNames.CONTENT_TYPE, response.contentType());
            out.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.body().length);
            out.headers().set("X-Content-Type-Options", "nosniff");
            response.headers().forEach((k, v) -> out.headers().set(k, v));
            if (keepAlive) {
                out.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(out);
            } else {
                out.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Handshake failures, resets and timeouts from strangers: not worth more than a debug line.
            LOG.debug("connection from {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
