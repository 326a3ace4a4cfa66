package dev.bourne.bench.workload;

import dev.bourne.workload.v1.SpiffeWorkloadAPIGrpc;
import dev.bourne.workload.v1.X509SVIDRequest;
import dev.bourne.workload.v1.X509SVIDResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The three things one client times, each over its own connection. */
final class Probes {
    /** How long one call may take before the run fails: a bound on a hang, not part of any measurement. */
    static final long CALL_BOUND_SECONDS = 30;
    static final int MESSAGE_BYTES = 64;

    private Probes() {
    }

    /** One client's connection and the operation it times. */
    interface Probe extends AutoCloseable {
        /** One operation; its latency in nanoseconds. */
        long once() throws Exception;

        @Override
        default void close() throws Exception {
        }
    }

    /** A bare round trip of {@link #MESSAGE_BYTES} through the JDK echo server. */
    static Probe echo(Path socket) throws IOException {
        UdsEchoServer.Client client = new UdsEchoServer.Client(socket, MESSAGE_BYTES);
        return new Probe() {
            @Override
            public long once() throws IOException {
                return client.roundTrip();
            }

            @Override
            public void close() throws IOException {
                client.close();
            }
        };
    }

    /** A unary no-op gRPC call with a {@link #MESSAGE_BYTES} payload: call started to response received. */
    static Probe noop(Channel channel) {
        byte[] payload = new byte[MESSAGE_BYTES];
        Arrays.fill(payload, (byte) 0x5a);
        return () -> {
            CompletableFuture<Long> answered = new CompletableFuture<>();
            long start = System.nanoTime();
            ClientCalls.asyncUnaryCall(channel.newCall(NoopService.ECHO,
                    CallOptions.DEFAULT.withDeadlineAfter(CALL_BOUND_SECONDS, TimeUnit.SECONDS)), payload,
                    new StreamObserver<>() {
                        @Override
                        public void onNext(byte[] value) {
                            long end = System.nanoTime();
                            if (Arrays.equals(value, payload)) {
                                answered.complete(end);
                            } else {
                                answered.completeExceptionally(new IOException("the no-op answered other bytes"));
                            }
                        }

                        @Override
                        public void onError(Throwable t) {
                            answered.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                            answered.completeExceptionally(new IOException("the no-op ended without an answer"));
                        }
                    });
            return await(answered, "gRPC no-op") - start;
        };
    }

    /**
     * FetchX509SVID from the start of the call to its first X509SVIDResponse, which must carry the workload's SVID;
     * the stream is then cancelled, as a library that fetches once does.
     */
    static Probe fetchX509Svid(Channel channel) {
        SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIStub stub = SpiffeWorkloadAPIGrpc.newStub(channel);
        X509SVIDRequest request = X509SVIDRequest.getDefaultInstance();
        String expected = BenchAgent.WORKLOAD_ID.toString();
        return () -> {
            CompletableFuture<Long> first = new CompletableFuture<>();
            long start = System.nanoTime();
            stub.fetchX509SVID(request, new ClientResponseObserver<X509SVIDRequest, X509SVIDResponse>() {
                private ClientCallStreamObserver<X509SVIDRequest> call;

                @Override
                public void beforeStart(ClientCallStreamObserver<X509SVIDRequest> requestStream) {
                    call = requestStream;
                }

                @Override
                public void onNext(X509SVIDResponse response) {
                    long end = System.nanoTime();
                    if (response.getSvidsCount() == 1 && response.getSvids(0).getSpiffeId().equals(expected)
                            && !response.getSvids(0).getX509Svid().isEmpty()) {
                        first.complete(end);
                    } else {
                        first.completeExceptionally(new IOException("FetchX509SVID answered without the SVID of "
                                + expected));
                    }
                    call.cancel("first response received", null);
                }

                @Override
                public void onError(Throwable t) {
                    first.completeExceptionally(t); // after our own cancel: no effect, the future is complete
                }

                @Override
                public void onCompleted() {
                    first.completeExceptionally(new IOException("FetchX509SVID ended before its first response"));
                }
            });
            return await(first, "FetchX509SVID") - start;
        };
    }

    private static long await(CompletableFuture<Long> future, String what) throws Exception {
        try {
            return future.get(CALL_BOUND_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new TimeoutException(what + ": no answer within " + CALL_BOUND_SECONDS + " s");
        } catch (ExecutionException e) {
            throw new IOException(what + " failed: " + e.getCause(), e.getCause());
        }
    }
}
