package dev.bourne.core.svid.x509;

import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.SpiffeId;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Verifies a presented X.509-SVID: the X509-SVID profile ({@link X509Svid#parse}), then an RFC 5280 path from the leaf
 * through the presented intermediates to an X.509 authority of the leaf's own trust domain, at the clock's time.
 *
 * <p>The trust anchors come only from the bundle of the trust domain named in the leaf, so a CA trusted for one
 * domain can never vouch for an ID in another (SPIFFE Trust Domain and Bundle, section 6.4). Revocation is not
 * checked: SPIFFE relies on short lifetimes instead.
 */
public final class X509SvidVerifier {
    private final BundleSource bundles;
    private final Clock clock;

    public X509SvidVerifier(BundleSource bundles, Clock clock) {
        this.bundles = Objects.requireNonNull(bundles, "bundles");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Returns the verified SVID, without private key.
     *
     * @throws X509SvidException naming why the chain is not acceptable
     */
    public X509Svid verify(List<X509Certificate> chain) throws X509SvidException {
        X509Svid svid = X509Svid.parse(chain);
        SpiffeId id = svid.spiffeId();
        SpiffeBundle bundle = bundles.bundleFor(id.trustDomain())
                .orElseThrow(() -> new X509SvidException("no bundle for trust domain " + id.trustDomain()));
        if (bundle.x509Authorities().isEmpty()) {
            throw new X509SvidException("the bundle of trust domain " + id.trustDomain()
                    + " has no X.509 authorities");
        }
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate authority : bundle.x509Authorities()) {
            anchors.add(new TrustAnchor(authority, null));
        }
        try {
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(clock.instant()));
            CertPath path = CertificateFactory.getInstance("X.509").generateCertPath(chain);
            CertPathValidator.getInstance("PKIX").validate(path, params);
        } catch (CertPathValidatorException e) {
            throw new X509SvidException("certificate chain does not verify against the bundle of "
                    + id.trustDomain() + ": " + describe(e), e);
        } catch (InvalidAlgorithmParameterException e) {
            throw new X509SvidException("the bundle of trust domain " + id.trustDomain() + " is unusable", e);
        } catch (GeneralSecurityException e) {
            throw new X509SvidException("certificate chain cannot be verified: " + e.getMessage(), e);
        }
        return svid;
    }

    private static String describe(CertPathValidatorException e) {
        String where = e.getIndex() >= 0 ? " (certificate " + e.getIndex() + ")" : "";
        return e.getReason() + where + ": " + e.getMessage();
    }
}
