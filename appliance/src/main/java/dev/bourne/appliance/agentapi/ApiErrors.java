package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.attestation.AttestationException;
import dev.bourne.appliance.ca.CaException;
import dev.bourne.appliance.ca.SvidIssuanceException;
import dev.bourne.appliance.datastore.AlreadyExistsException;
import dev.bourne.appliance.datastore.ConflictException;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.appliance.datastore.InvalidArgumentException;
import dev.bourne.appliance.datastore.NotFoundException;
import dev.bourne.appliance.datastore.UnavailableException;
import dev.bourne.core.keymanager.KeyManagerException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where the agent API turns domain failures into gRPC statuses. Refusals the caller can act on
 * (bad input, not authorised, not found) carry their constant message; everything else (datastore, key manager, CA
 * failures, bugs) is logged here with a correlation ID and reaches the caller as a generic text holding only that ID,
 * so no internal detail leaves the server.
 */
public final class ApiErrors {
    public static final String INTERNAL = "internal error; correlation id %s";
    public static final String UNAVAILABLE = "the server cannot serve this request now; retry later (correlation id %s)";

    private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);

    private ApiErrors() {
    }

    /** The status to answer with for {@code failure}, logging what must not be sent. */
    public static Status toStatus(Throwable failure, String method) {
        if (failure instanceof StatusRuntimeException e) {
            return e.getStatus();
        }
        if (failure instanceof ApiException e) {
            return switch (e.code()) {
                case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT.withDescription(e.getMessage());
                case UNAUTHENTICATED -> Status.UNAUTHENTICATED.withDescription(e.getMessage());
                case PERMISSION_DENIED -> Status.PERMISSION_DENIED.withDescription(e.getMessage());
                case NOT_FOUND -> Status.NOT_FOUND.withDescription(e.getMessage());
                case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION.withDescription(e.getMessage());
                case UNAVAILABLE -> Status.UNAVAILABLE.withDescription(e.getMessage());
            };
        }
        if (failure instanceof AttestationException e) {
            return switch (e.reason()) {
                case INVALID_REQUEST -> Status.INVALID_ARGUMENT.withDescription(e.getMessage());
                case REJECTED -> Status.PERMISSION_DENIED.withDescription(e.getMessage());
                case REFUSED -> Status.PERMISSION_DENIED.withDescription(e.getMessage());
                case DRIFT -> Status.PERMISSION_DENIED.withDescription(e.getMessage());
                case UNAVAILABLE -> unavailable(e, method);
            };
        }
        if (failure instanceof SvidIssuanceException e) {
            // The issuer's bad-request messages are constants about the caller's CSR, audience or entry: safe.
            return e.reason().badRequest() ? Status.INVALID_ARGUMENT.withDescription(e.getMessage())
                    : internal(e, method);
        }
        if (failure instanceof DataStoreException e) {
            if (e instanceof UnavailableException) {
                return unavailable(e, method);
            }
            if (e instanceof NotFoundException) {
                return Status.NOT_FOUND.withDescription("not found");
            }
            if (e instanceof ConflictException || e instanceof AlreadyExistsException) {
                return Status.ABORTED.withDescription("a concurrent change came first; retry");
            }
            if (e instanceof InvalidArgumentException) {
                // Datastore validation texts name the field and the rule, never stored data.
                return Status.INVALID_ARGUMENT.withDescription(e.getMessage());
            }
            return internal(e, method);
        }
        if (failure instanceof KeyManagerException || failure instanceof CaException) {
            return unavailable(failure, method);
        }
        return internal(failure, method);
    }

    private static Status internal(Throwable failure, String method) {
        String id = UUID.randomUUID().toString();
        LOG.error("{} failed [correlation id {}]", method, id, failure);
        return Status.INTERNAL.withDescription(String.format(INTERNAL, id));
    }

    private static Status unavailable(Throwable failure, String method) {
        String id = UUID.randomUUID().toString();
        LOG.warn("{} unavailable [correlation id {}]: {}", method, id, failure.toString());
        return Status.UNAVAILABLE.withDescription(String.format(UNAVAILABLE, id));
    }
}
