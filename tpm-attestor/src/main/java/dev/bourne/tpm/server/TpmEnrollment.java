package dev.bourne.tpm.server;

import dev.bourne.tpm.common.EkHash;
import java.time.Instant;
import java.util.Collections;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A security team's enrolment of one TPM: its EK hash, the labels that become {@code tpm:label:<k>:<v>} selectors,
 * optionally the PCR policy (by name, from the server configuration) the node must satisfy, and whether it was revoked.
 * A revoked enrolment refuses attestation and the next renewal of that node.
 *
 * @param ekHash lowercase hex SHA-256 of the EK SubjectPublicKeyInfo ({@link EkHash})
 * @param labels label keys to values, sorted
 * @param pcrPolicy the name of the PCR policy this node must match, if any
 * @param ekCertificatePem the EK certificate the enrolment was made from, if any (for {@code tpm show})
 * @param createdAt when it was enrolled
 * @param revokedAt when it was revoked, if it was
 */
public record TpmEnrollment(String ekHash, SortedMap<String, String> labels, Optional<String> pcrPolicy,
        Optional<String> ekCertificatePem, Instant createdAt, Optional<Instant> revokedAt) {

    public TpmEnrollment {
        ekHash = EkHash.parse(ekHash);
        labels = Collections.unmodifiableSortedMap(new TreeMap<>(labels));
        Objects.requireNonNull(pcrPolicy, "pcrPolicy");
        Objects.requireNonNull(ekCertificatePem, "ekCertificatePem");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(revokedAt, "revokedAt");
    }

    public boolean revoked() {
        return revokedAt.isPresent();
    }
}
