package dev.bourne.appliance.agentapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.attestation.AttestationException;
import dev.bourne.appliance.ca.SvidIssuanceException;
import dev.bourne.appliance.ca.X509SvidIssuanceException;
import dev.bourne.appliance.datastore.ConflictException;
import dev.bourne.appliance.datastore.DataStoreFailureException;
import dev.bourne.appliance.datastore.InvalidArgumentException;
import dev.bourne.appliance.datastore.NotFoundException;
import dev.bourne.appliance.datastore.UnavailableException;
import dev.bourne.core.keymanager.KeyManagerException;
import io.grpc.Status;
import java.sql.SQLException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The edge mapping: each failure's status code, and that internal detail never reaches the caller. */
class ApiErrorsTest {
    private static final String SECRET = "jdbc:postgresql://db/bourne?password=hunter2";

    static Stream<Arguments> internalFailures() {
        return Stream.of(
                Arguments.of(new DataStoreFailureException(SECRET), Status.Code.INTERNAL),
                Arguments.of(new UnavailableException(SECRET, new SQLException(SECRET)), Status.Code.UNAVAILABLE),
                Arguments.of(new KeyManagerException(SECRET), Status.Code.UNAVAILABLE),
                Arguments.of(new X509SvidIssuanceException(SvidIssuanceException.Reason.AUTHORITY_UNUSABLE, SECRET),
                        Status.Code.INTERNAL),
                Arguments.of(new AttestationException(AttestationException.Reason.UNAVAILABLE, SECRET),
                        Status.Code.UNAVAILABLE),
                Arguments.of(new IllegalStateException(SECRET), Status.Code.INTERNAL),
                Arguments.of(new NullPointerException(SECRET), Status.Code.INTERNAL));
    }

    @ParameterizedTest
    @MethodSource("internalFailures")
    void internalFailure_genericTextWithCorrelationId(Exception failure, Status.Code code) {
        Status status = ApiErrors.toStatus(failure, "Test/Method");
        assertEquals(code, status.getCode());
        assertFalse(status.getDescription().contains("hunter2"), status.getDescription());
        assertTrue(status.getDescription().matches(".*correlation id [0-9a-f-]{36}\\)?"), status.getDescription());
    }

    static Stream<Arguments> callerFailures() {
        return Stream.of(
                Arguments.of(new ApiException(ApiException.Code.PERMISSION_DENIED, "no"), Status.Code.PERMISSION_DENIED,
                        "no"),
                Arguments.of(new AttestationException(AttestationException.Reason.REJECTED, "bad token"),
                        Status.Code.PERMISSION_DENIED, "bad token"),
                Arguments.of(new AttestationException(AttestationException.Reason.INVALID_REQUEST, "empty"),
                        Status.Code.INVALID_ARGUMENT, "empty"),
                Arguments.of(AttestationException.drift("outside policy", true), Status.Code.PERMISSION_DENIED,
                        "outside policy"),
                Arguments.of(new ApiException(ApiException.Code.FAILED_PRECONDITION, "no challenge"),
                        Status.Code.FAILED_PRECONDITION, "no challenge"),
                Arguments.of(new X509SvidIssuanceException(SvidIssuanceException.Reason.MALFORMED_REQUEST, "CSR is"
                        + " not valid DER"), Status.Code.INVALID_ARGUMENT, "CSR is not valid DER"),
                Arguments.of(new NotFoundException(SECRET), Status.Code.NOT_FOUND, "not found"),
                Arguments.of(new ConflictException(SECRET), Status.Code.ABORTED,
                        "a concurrent change came first; retry"));
    }

    @ParameterizedTest
    @MethodSource("callerFailures")
    void callerFailure_constantMessage(Exception failure, Status.Code code, String message) {
        Status status = ApiErrors.toStatus(failure, "Test/Method");
        assertEquals(code, status.getCode());
        assertEquals(message, status.getDescription());
    }

    @ParameterizedTest
    @EnumSource(ApiException.Code.class)
    void everyApiCode_mapsToItsStatus(ApiException.Code code) {
        assertEquals(code.name(), ApiErrors.toStatus(new ApiException(code, "m"), "Test/Method").getCode().name());
    }

    @org.junit.jupiter.api.Test
    void datastoreValidation_namesTheField() {
        Status status = ApiErrors.toStatus(new InvalidArgumentException("entry_id", "is too long"), "Test/Method");
        assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
        assertTrue(status.getDescription().contains("entry_id"), status.getDescription());
    }
}
