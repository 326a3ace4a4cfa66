package dev.bourne.appliance.ca.upstream;

import dev.bourne.appliance.ca.UpstreamAuthority;
import dev.bourne.appliance.ca.UpstreamAuthorityException;
import dev.bourne.appliance.ca.internal.CaCertificates;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Instant;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.ContentSigner;

/** What both upstream authorities share: the intermediate they mint, from the request, in Bourne's CA profile. */
final class UpstreamCertificates {
    static final String SAME_SUBJECT = "the CA subject (ca_subject) equals the upstream certificate's subject %s;"
            + " set another ca_subject so Bourne's CA is not mistaken for the upstream one";
    static final String EXPIRED = "the upstream certificate expired at %s";

    private UpstreamCertificates() {
    }

    /** The JCA signature name an upstream key of this kind signs certificates with (its curve's hash, or SHA-256). */
    static String signatureName(PublicKey issuerKey) {
        if (issuerKey instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            return bits > 384 ? "SHA512withECDSA" : bits > 256 ? "SHA384withECDSA" : "SHA256withECDSA";
        }
        return "SHA256withRSA";
    }

    /**
     * Signs the intermediate for {@code request} under {@code issuer}, its NotAfter capped at {@code limit}.
     */
    static X509Certificate mint(UpstreamAuthority.CaRequest request, X509Certificate issuer, Instant limit,
            ContentSigner signer, SecureRandom random) throws UpstreamAuthorityException {
        if (!request.notBefore().isBefore(limit)) {
            throw new UpstreamAuthorityException(String.format(EXPIRED, limit));
        }
        if (request.subject().equals(issuer.getSubjectX500Principal())) {
            throw new UpstreamAuthorityException(String.format(SAME_SUBJECT, issuer.getSubjectX500Principal()));
        }
        Instant notAfter = request.notAfter().isAfter(limit) ? limit : request.notAfter();
        try {
            return CaCertificates.sign(new CaCertificates.Request(X500Name.getInstance(request.subject().getEncoded()),
                    request.publicKey(), Optional.of(request.trustDomain()), request.notBefore(), notAfter),
                    X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded()), issuer.getPublicKey(), signer,
                    random);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new UpstreamAuthorityException("cannot sign the intermediate CA certificate: " + e.getMessage(), e);
        }
    }
}
