package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.health.ServerMetrics;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/** Records every call's latency and final status in {@link ServerMetrics}. */
public final class MetricsInterceptor implements ServerInterceptor {
    private final ServerMetrics metrics;
    private final Clock clock;

    public MetricsInterceptor(ServerMetrics metrics, Clock clock) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        long start = System.nanoTime();
        String method = call.getMethodDescriptor().getFullMethodName();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                metrics.rpc(method, status.getCode().name(), Duration.ofNanos(System.nanoTime() - start));
                super.close(status, trailers);
            }
        }, headers);
    }
}
