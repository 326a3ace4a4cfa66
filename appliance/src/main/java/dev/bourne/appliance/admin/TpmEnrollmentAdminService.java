package dev.bourne.appliance.admin;

import dev.bourne.api.v1.BatchCreateEnrollmentRequest;
import dev.bourne.api.v1.BatchCreateEnrollmentResponse;
import dev.bourne.api.v1.CreateEnrollmentRequest;
import dev.bourne.api.v1.Enrollment;
import dev.bourne.api.v1.GetEnrollmentRequest;
import dev.bourne.api.v1.ListEnrollmentsRequest;
import dev.bourne.api.v1.ListEnrollmentsResponse;
import dev.bourne.api.v1.RevokeEnrollmentRequest;
import dev.bourne.api.v1.TpmEnrollmentGrpc;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.appliance.datastore.Limits;
import dev.bourne.appliance.datastore.Page;
import dev.bourne.appliance.datastore.PageRequest;
import dev.bourne.tpm.common.EkHash;
import dev.bourne.tpm.server.TpmEnrollment;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The TpmEnrollment service: a security team enrols TPMs by EK certificate, EK public key or EK hash, lists, shows and
 * revokes them. The server computes the EK hash itself. When the server runs the {@code tpm} node attestor, an
 * enrolment may only name one of its PCR policies: a typo would otherwise lock the node out at its first attestation,
 * far from where the mistake was made.
 */
final class TpmEnrollmentAdminService extends TpmEnrollmentGrpc.TpmEnrollmentImplBase {
    /** The most enrolments of one batch call (a CSV of a rack or a delivery of machines). */
    static final int MAX_BATCH = 1000;
    static final String BATCH_TOO_LARGE = "more than " + MAX_BATCH + " items";
    /** Format arguments: the policy name (already checked to be a well-formed name), the configured names. */
    static final String PCR_POLICY_UNKNOWN = "\"%s\" is not a PCR policy of this server's tpm node attestor"
            + " (configured: %s)";
    static final String BY_REVOKED_INVALID = "must be 0 (all), 1 (revoked) or 2 (not revoked)";
    /** Format argument: the EK hash. */
    static final String NOT_FOUND = "no TPM enrolment for EK hash %s";

    private final DataStore dataStore;
    private final Optional<SortedSet<String>> pcrPolicies;
    private final Clock clock;

    /**
     * @param pcrPolicies the PCR policy names of the server's {@code tpm} node attestor; empty when the server runs
     *     none, and then any well-formed name is accepted (the attestor, once configured, refuses a node whose
     *     enrolment names a policy it does not define)
     */
    TpmEnrollmentAdminService(DataStore dataStore, Optional<Set<String>> pcrPolicies, Clock clock) {
        this.dataStore = dataStore;
        this.pcrPolicies = pcrPolicies.map(TreeSet::new).map(java.util.Collections::unmodifiableSortedSet);
        this.clock = clock;
    }

    @Override
    public void createEnrollment(CreateEnrollmentRequest request, StreamObserver<Enrollment> observer) {
        AdminErrors.unary(observer, () -> TpmEnrollmentProtos.toProto(create(request)));
    }

    @Override
    public void batchCreateEnrollment(BatchCreateEnrollmentRequest request,
            StreamObserver<BatchCreateEnrollmentResponse> observer) {
        AdminErrors.unary(observer, () -> {
            if (request.getEnrollmentsCount() == 0) {
                throw new InvalidRequestException("enrollments", AdminLimits.BATCH_EMPTY);
            }
            if (request.getEnrollmentsCount() > MAX_BATCH) {
                throw new InvalidRequestException("enrollments", BATCH_TOO_LARGE);
            }
            BatchCreateEnrollmentResponse.Builder b = BatchCreateEnrollmentResponse.newBuilder();
            for (CreateEnrollmentRequest item : request.getEnrollmentsList()) {
                BatchCreateEnrollmentResponse.Result.Builder result = BatchCreateEnrollmentResponse.Result.newBuilder();
                try {
                    result.setEnrollment(TpmEnrollmentProtos.toProto(create(item))).setStatus(AdminErrors.OK);
                } catch (RuntimeException e) {
                    // A bug, not the caller's input: logged with an error ID, never echoed.
                    result.setStatus(AdminErrors.of(new IllegalStateException(e)).toProto());
                } catch (Exception e) {
                    result.setStatus(AdminErrors.of(e).toProto());
                }
                b.addResults(result);
            }
            return b.build();
        });
    }

    private TpmEnrollment create(CreateEnrollmentRequest request) throws InvalidRequestException,
            DataStoreException {
        TpmEnrollment enrollment = TpmEnrollmentProtos.enrollment(request, clock.instant());
        if (enrollment.pcrPolicy().isPresent() && pcrPolicies.isPresent()) {
            String name = enrollment.pcrPolicy().get();
            if (!Limits.isPcrPolicyName(name)) {
                throw new InvalidRequestException("pcr_policy", Limits.PCR_POLICY_NAME_INVALID);
            }
            if (!pcrPolicies.get().contains(name)) {
                String configured = pcrPolicies.get().isEmpty() ? "none" : String.join(", ", pcrPolicies.get());
                throw new InvalidRequestException("pcr_policy", String.format(PCR_POLICY_UNKNOWN, name, configured));
            }
        }
        return dataStore.createTpmEnrollment(enrollment);
    }

    @Override
    public void listEnrollments(ListEnrollmentsRequest request, StreamObserver<ListEnrollmentsResponse> observer) {
        AdminErrors.unary(observer, () -> {
            PageRequest page = AdminLimits.page(request.getPageSize(), request.getPageToken());
            Optional<Boolean> revoked = switch (request.getFilter().getByRevoked()) {
                case 0 -> Optional.empty();
                case 1 -> Optional.of(true);
                case 2 -> Optional.of(false);
                default -> throw new InvalidRequestException("filter.by_revoked", BY_REVOKED_INVALID);
            };
            Page<TpmEnrollment> result = dataStore.listTpmEnrollments(revoked, page);
            ListEnrollmentsResponse.Builder b = ListEnrollmentsResponse.newBuilder();
            result.items().forEach(e -> b.addEnrollments(TpmEnrollmentProtos.toProto(e)));
            result.nextPageToken().ifPresent(b::setNextPageToken);
            return b.build();
        });
    }

    @Override
    public void getEnrollment(GetEnrollmentRequest request, StreamObserver<Enrollment> observer) {
        AdminErrors.unary(observer, () -> {
            String ekHash = ekHash(request.getEkHash());
            return dataStore.getTpmEnrollment(ekHash).map(TpmEnrollmentProtos::toProto)
                    .orElseThrow(() -> new UnknownResourceException(String.format(NOT_FOUND, ekHash)));
        });
    }

    @Override
    public void revokeEnrollment(RevokeEnrollmentRequest request, StreamObserver<Enrollment> observer) {
        AdminErrors.unary(observer, () -> TpmEnrollmentProtos.toProto(
                dataStore.revokeTpmEnrollment(ekHash(request.getEkHash()))));
    }

    private static String ekHash(String value) throws InvalidRequestException {
        try {
            return EkHash.parse(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("ek_hash", EkHash.MALFORMED);
        }
    }
}
