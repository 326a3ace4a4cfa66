package dev.bourne.appliance.admin;

import dev.bourne.api.v1.CreateEnrollmentRequest;
import dev.bourne.api.v1.Enrollment;
import dev.bourne.tpm.common.EkHash;
import dev.bourne.tpm.server.TpmEnrollment;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Converts between the TpmEnrollment service's messages and {@link TpmEnrollment}. The EK hash is computed here, by
 * the server, from whichever of certificate, key or hash the request carries; failures name the request field and
 * never quote the bytes sent.
 */
final class TpmEnrollmentProtos {
    static final String EK_REQUIRED = "one of ek_certificate, ek_public or ek_hash is required";

    private TpmEnrollmentProtos() {
    }

    /**
     * The enrolment a create request describes, stamped {@code now} (the datastore stamps its own time). Labels and
     * the PCR policy name are checked by the datastore, which names the field.
     *
     * @throws InvalidRequestException when the EK material is missing or malformed
     */
    static TpmEnrollment enrollment(CreateEnrollmentRequest request, Instant now) throws InvalidRequestException {
        String ekHash;
        Optional<String> pem = Optional.empty();
        switch (request.getEkCase()) {
            case EK_CERTIFICATE -> {
                X509Certificate certificate;
                try {
                    certificate = EkEncodings.certificate(request.getEkCertificate().toByteArray());
                } catch (IllegalArgumentException e) {
                    throw new InvalidRequestException("ek_certificate", e.getMessage());
                }
                ekHash = EkHash.of(certificate.getPublicKey());
                pem = Optional.of(EkEncodings.pem(certificate));
            }
            case EK_PUBLIC -> {
                try {
                    ekHash = EkHash.of(EkEncodings.publicKey(request.getEkPublic().toByteArray()));
                } catch (IllegalArgumentException e) {
                    throw new InvalidRequestException("ek_public", e.getMessage());
                }
            }
            case EK_HASH -> {
                try {
                    ekHash = EkHash.parse(request.getEkHash());
                } catch (IllegalArgumentException e) {
                    throw new InvalidRequestException("ek_hash", EkHash.MALFORMED);
                }
            }
            default -> throw new InvalidRequestException("ek", EK_REQUIRED);
        }
        Optional<String> policy = request.getPcrPolicy().isEmpty() ? Optional.empty()
                : Optional.of(request.getPcrPolicy());
        return new TpmEnrollment(ekHash, new TreeMap<>(request.getLabelsMap()), policy, pem, now, Optional.empty());
    }

    static Enrollment toProto(TpmEnrollment enrollment) {
        return Enrollment.newBuilder()
                .setEkHash(enrollment.ekHash())
                .putAllLabels(enrollment.labels())
                .setPcrPolicy(enrollment.pcrPolicy().orElse(""))
                .setEkCertificatePem(enrollment.ekCertificatePem().orElse(""))
                .setCreatedAt(enrollment.createdAt().getEpochSecond())
                .setRevokedAt(enrollment.revokedAt().map(Instant::getEpochSecond).orElse(0L))
                .setRevoked(enrollment.revoked())
                .build();
    }
}
