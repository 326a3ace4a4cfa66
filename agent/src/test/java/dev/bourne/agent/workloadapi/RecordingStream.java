package dev.bourne.agent.workloadapi;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Records what a server stream delivers: messages in order, then the final status. Cancels on close. */
final class RecordingStream<Q, T> implements ClientResponseObserver<Q, T>, AutoCloseable {
    /** An upper bound on waiting for an event that must come; reaching it fails the test, it is not timing. */
    private static final long WAIT_SECONDS = 30;

    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private volatile ClientCallStreamObserver<Q> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<Q> requestStream) {
        call = requestStream;
    }

    @Override
    public void onNext(T value) {
        events.add(value);
    }

    @Override
    public void onError(Throwable t) {
        events.add(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
        events.add(Status.OK);
    }

    /** The next message; fails if the stream ended instead. */
    @SuppressWarnings("unchecked")
    T next() throws InterruptedException {
        Object event = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (event == null) {
            throw new AssertionError("no message within " + WAIT_SECONDS + " s");
        }
        if (event instanceof Status status) {
            throw new AssertionError("stream ended with " + status);
        }
        return (T) event;
    }

    /** The status the stream ended with; fails if a message came instead. */
    Status end() throws InterruptedException {
        Object event = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (!(event instanceof Status status)) {
            throw new AssertionError("expected the end of the stream, got " + event);
        }
        return status;
    }

    /** Whether a further event is already queued (without waiting). */
    boolean hasPending() {
        return !events.isEmpty();
    }

    @Override
    public void close() {
        if (call != null) {
            call.cancel("test done", null);
        }
    }
}
