package dev.bourne.appliance.admin;

import dev.bourne.appliance.ca.LocalAuthorityException;
import dev.bourne.appliance.ca.SvidIssuanceException;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.core.keymanager.KeyManagerException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place the admin API turns a domain failure into a gRPC status. Messages that name the caller's field or
 * record go back as they are; anything internal (database, key manager) is logged with a correlation ID and the
 * caller gets only that ID.
 */
final class AdminErrors {
    private static final Logger LOG = LoggerFactory.getLogger(AdminErrors.class);

    /** Format argument: correlation ID. */
    static final String DATASTORE_UNAVAILABLE = "the datastore is unavailable (error id %s)";
    /** Format argument: correlation ID. */
    static final String INTERNAL = "internal error (error id %s)";
    /** Format argument: correlation ID. */
    static final String CA_UNAVAILABLE = "the CA cannot issue now (error id %s)";

    /** A status the caller may see: its code and a message free of internal detail. */
    record ApiError(Status.Code code, String message) {
        StatusRuntimeException toException() {
            return Status.fromCode(code).withDescription(message).asRuntimeException();
        }

        dev.bourne.api.v1.Status toProto() {
            return dev.bourne.api.v1.Status.newBuilder().setCode(code.value()).setMessage(message).build();
        }
    }

    static final dev.bourne.api.v1.Status OK = dev.bourne.api.v1.Status.newBuilder().setCode(0).setMessage("OK").build();

    private AdminErrors() {
    }

    static ApiError of(Exception e) {
        if (e instanceof InvalidRequestException invalid) {
            return new ApiError(Status.Code.INVALID_ARGUMENT, invalid.getMessage());
        }
        if (e instanceof UnknownResourceException unknown) {
            return new ApiError(Status.Code.NOT_FOUND, unknown.getMessage());
        }
        if (e instanceof RefreshFailedException refresh) {
            return new ApiError(Status.Code.FAILED_PRECONDITION, refresh.getMessage());
        }
        if (e instanceof DataStoreException ds) {
            return switch (ds.kind()) {
                case INVALID_ARGUMENT -> new ApiError(Status.Code.INVALID_ARGUMENT, ds.getMessage());
                case NOT_FOUND -> new ApiError(Status.Code.NOT_FOUND, ds.getMessage());
                case ALREADY_EXISTS -> new ApiError(Status.Code.ALREADY_EXISTS, ds.getMessage());
                case CONFLICT -> new ApiError(Status.Code.FAILED_PRECONDITION, ds.getMessage());
                case UNAVAILABLE -> internal(Status.Code.UNAVAILABLE, DATASTORE_UNAVAILABLE, e);
                case FAILURE -> internal(Status.Code.INTERNAL, INTERNAL, e);
            };
        }
        if (e instanceof LocalAuthorityException la) {
            return new ApiError(la.notFound() ? Status.Code.NOT_FOUND : Status.Code.FAILED_PRECONDITION,
                    la.getMessage());
        }
        if (e instanceof SvidIssuanceException svid) {
            return svid.reason().badRequest()
                    ? new ApiError(Status.Code.INVALID_ARGUMENT, svid.getMessage())
                    : internal(Status.Code.UNAVAILABLE, CA_UNAVAILABLE, e);
        }
        if (e instanceof KeyManagerException) {
            // The HSM or key store cannot sign now: retryable, and none of its detail is the caller's business.
            return internal(Status.Code.UNAVAILABLE, CA_UNAVAILABLE, e);
        }
        // CaException (journal, upstream) and bugs: logged, never echoed.
        return internal(Status.Code.INTERNAL, INTERNAL, e);
    }

    private static ApiError internal(Status.Code code, String format, Exception e) {
        String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        LOG.warn("admin API call failed, error id {}", id, e);
        return new ApiError(code, String.format(format, id));
    }

    /** Ends a unary call with the status for {@code e}. */
    static void fail(StreamObserver<?> observer, Exception e) {
        observer.onError(of(e).toException());
    }

    /** A unary call body that may throw domain exceptions. */
    @FunctionalInterface
    interface Call<T> {
        T run() throws Exception;
    }

    /** Runs {@code call} and completes {@code observer} with its result or the mapped status. */
    static <T> void unary(StreamObserver<T> observer, Call<T> call) {
        T result;
        try {
            result = call.run();
        } catch (RuntimeException e) {
            // A bug, not the caller's input: never echo its text.
            fail(observer, new IllegalStateException(e));
            return;
        } catch (Exception e) {
            fail(observer, e);
            return;
        }
        observer.onNext(result);
        observer.onCompleted();
    }
}
