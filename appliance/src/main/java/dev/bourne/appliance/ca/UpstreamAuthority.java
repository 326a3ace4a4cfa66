package dev.bourne.appliance.ca;

import dev.bourne.core.spiffeid.TrustDomain;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import javax.security.auth.x500.X500Principal;

/**
 * A CA above Bourne's own: it signs Bourne's X.509 CA certificates (intermediates) instead of Bourne signing its own
 * root, and its roots are what relying parties trust. Built-ins: {@code disk} (an operator's CA certificate and key in
 * files) and {@code pkcs11} (a root key held by a key manager, normally on the HSM). Implementations are thread-safe.
 */
public interface UpstreamAuthority extends AutoCloseable {

    /** The plugin name, such as {@code disk}. */
    String name();

    /**
     * Signs an intermediate CA certificate for {@code request}'s key, in Bourne's CA profile (name constrained to the
     * trust domain). Its NotAfter never exceeds {@link #notAfterLimit()}.
     */
    MintedCa mintX509Ca(CaRequest request) throws UpstreamAuthorityException;

    /** The roots that go in the trust domain's bundle in place of Bourne's own CA certificates. */
    List<X509Certificate> upstreamRoots();

    /** The latest NotAfter an intermediate can have: the end of the upstream certificate (or chain). */
    Instant notAfterLimit();

    @Override
    void close();

    /**
     * What Bourne asks its upstream to certify.
     *
     * @param notBefore the intended start (certificates are back-dated a little from it)
     * @param notAfter the requested end; upstreams cap it at {@link #notAfterLimit()}
     */
    record CaRequest(PublicKey publicKey, X500Principal subject, TrustDomain trustDomain, Instant notBefore,
            Instant notAfter) {
        public CaRequest {
            Objects.requireNonNull(publicKey, "publicKey");
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(trustDomain, "trustDomain");
            Objects.requireNonNull(notBefore, "notBefore");
            Objects.requireNonNull(notAfter, "notAfter");
        }
    }

    /**
     * An intermediate CA certificate and the upstream certificates an SVID chain must carry above it.
     *
     * @param upstreamChain upstream intermediates above {@code certificate}, nearest first, without the root
     */
    record MintedCa(X509Certificate certificate, List<X509Certificate> upstreamChain) {
        public MintedCa {
            Objects.requireNonNull(certificate, "certificate");
            upstreamChain = List.copyOf(upstreamChain);
        }
    }
}
