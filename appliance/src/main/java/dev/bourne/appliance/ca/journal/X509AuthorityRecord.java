package dev.bourne.appliance.ca.journal;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The public, persisted part of one X.509 authority: which key manager slot holds its key, its CA certificate and
 * upstream chain, its state and whether it is tainted. No key material.
 *
 * @param authorityId the hex subject key identifier of {@code certificate}
 * @param slotId the key manager key ID, such as {@code x509-CA-A}
 * @param upstreamChain upstream intermediates above {@code certificate}, nearest first; empty for a self-signed root
 */
public record X509AuthorityRecord(String authorityId, String slotId, X509Certificate certificate,
        List<X509Certificate> upstreamChain, AuthorityState state, boolean tainted) {

    public X509AuthorityRecord {
        Objects.requireNonNull(authorityId, "authorityId");
        Objects.requireNonNull(slotId, "slotId");
        Objects.requireNonNull(certificate, "certificate");
        upstreamChain = List.copyOf(upstreamChain);
        Objects.requireNonNull(state, "state");
    }

    public Instant notAfter() {
        return certificate.getNotAfter().toInstant();
    }

    public Instant notBefore() {
        return certificate.getNotBefore().toInstant();
    }

    public X509AuthorityRecord withState(AuthorityState newState) {
        return new X509AuthorityRecord(authorityId, slotId, certificate, upstreamChain, newState, tainted);
    }

    public X509AuthorityRecord withTainted() {
        return new X509AuthorityRecord(authorityId, slotId, certificate, upstreamChain, state, true);
    }
}
