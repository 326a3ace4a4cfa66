package dev.bourne.bench.workload;

import com.google.protobuf.ByteString;
import dev.bourne.agent.cache.CacheContents;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.workload.v1.SpiffeWorkloadAPIGrpc;
import dev.bourne.workload.v1.X509SVIDRequest;
import dev.bourne.workload.v1.X509SVIDResponse;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.security.cert.CertificateEncodingException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Opens {@code streams} FetchX509SVID watch streams, then rotates the entry's SVID again and again and times, for each
 * rotation, the span from the {@code IdentityCache.update} call until the last stream has received a response whose
 * leaf is the new one.
 */
final class RotationRun {
    /** Upper bound on waiting for streams to open or a rotation to arrive everywhere; reaching it fails the run. */
    static final long WAIT_SECONDS = 120;

    /** Per rotation, in nanoseconds. */
    record Result(long toLast, long toMedianStream, long updateReturned) {
    }

    private final BenchAgent agent;
    private final List<Watch> watches = new ArrayList<>();
    private final AtomicReference<Rotation> current = new AtomicReference<>();
    private final AtomicInteger unexpected = new AtomicInteger();
    private final CountDownLatch opened;

    private RotationRun(BenchAgent agent, int streams) {
        this.agent = agent;
        this.opened = new CountDownLatch(streams);
    }

    /**
     * Opens the streams, {@code streamsPerConnection} on each channel, and runs {@code warmup} untimed and
     * {@code rotations} timed rotations.
     */
    static List<Result> run(BenchAgent agent, ClientTransport transport, int streams, int streamsPerConnection,
            int warmup, int rotations) throws Exception {
        RotationRun run = new RotationRun(agent, streams);
        Channel channel = null;
        for (int i = 0; i < streams; i++) {
            if (i % streamsPerConnection == 0) {
                channel = transport.connect(agent.socket());
            }
            Watch watch = run.new Watch(i);
            run.watches.add(watch);
            SpiffeWorkloadAPIGrpc.newStub(channel).fetchX509SVID(X509SVIDRequest.getDefaultInstance(), watch);
        }
        try {
            if (!run.opened.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException(run.opened.getCount() + " of " + streams
                        + " FetchX509SVID streams got no first response within " + WAIT_SECONDS + " s");
            }
            run.failIfBroken();
            if (agent.watchers() != streams) {
                throw new IllegalStateException("the agent serves " + agent.watchers() + " watches, expected "
                        + streams);
            }
            List<Result> results = new ArrayList<>();
            for (int r = 0; r < warmup + rotations; r++) {
                Result result = run.rotateOnce(streams);
                if (r >= warmup) {
                    results.add(result);
                }
            }
            return results;
        } finally {
            for (Watch watch : run.watches) {
                watch.cancel();
            }
        }
    }

    private Result rotateOnce(int streams) throws Exception {
        // The new SVID (key generation, signing) and the next contents are made before the clock starts.
        WorkloadX509Svid svid = agent.newSvid();
        CacheContents next = agent.contents().withSvid(svid);
        Rotation rotation;
        try {
            rotation = new Rotation(ByteString.copyFrom(svid.chain().get(0).getEncoded()), streams);
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode the new leaf", e);
        }
        current.set(rotation);
        long start = System.nanoTime();
        agent.publish(next);
        long returned = System.nanoTime();
        if (!rotation.arrived.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException(rotation.arrived.getCount() + " of " + streams
                    + " streams did not receive the rotated SVID within " + WAIT_SECONDS + " s");
        }
        failIfBroken();
        long[] times = rotation.times.clone();
        Arrays.sort(times);
        return new Result(times[times.length - 1] - start, times[(times.length - 1) / 2] - start, returned - start);
    }

    private void failIfBroken() {
        if (unexpected.get() > 0) {
            throw new IllegalStateException(unexpected.get() + " stream events were not the expected SVID update");
        }
    }

    /** One rotation: its new leaf and when each stream received it. */
    private static final class Rotation {
        final ByteString leaf;
        final long[] times;
        final CountDownLatch arrived;

        Rotation(ByteString leaf, int streams) {
            this.leaf = leaf;
            this.times = new long[streams];
            this.arrived = new CountDownLatch(streams);
        }
    }

    /** One watch stream; gRPC calls its methods one at a time, so {@code received} needs no lock. */
    private final class Watch implements ClientResponseObserver<X509SVIDRequest, X509SVIDResponse> {
        private final int index;
        private volatile ClientCallStreamObserver<X509SVIDRequest> call;
        private int received;

        Watch(int index) {
            this.index = index;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<X509SVIDRequest> requestStream) {
            call = requestStream;
        }

        @Override
        public void onNext(X509SVIDResponse response) {
            long now = System.nanoTime();
            if (received++ == 0) {
                opened.countDown();
                return;
            }
            Rotation rotation = current.get();
            // The x509_svid field is the leaf's DER followed by the intermediates': the leaf must lead it.
            if (rotation != null && response.getSvidsCount() == 1
                    && response.getSvids(0).getX509Svid().startsWith(rotation.leaf)) {
                rotation.times[index] = now;
                rotation.arrived.countDown();
            } else {
                unexpected.incrementAndGet();
            }
        }

        @Override
        public void onError(Throwable t) {
            if (Status.fromThrowable(t).getCode() != Status.Code.CANCELLED) {
                unexpected.incrementAndGet();
                opened.countDown();
            }
        }

        @Override
        public void onCompleted() {
            unexpected.incrementAndGet();
        }

        void cancel() {
            ClientCallStreamObserver<X509SVIDRequest> c = call;
            if (c != null) {
                c.cancel("benchmark done", null);
            }
        }
    }
}
