package dev.bourne.core.svid.x509;

import dev.bourne.core.spiffeid.InvalidSpiffeIdException;
import dev.bourne.core.spiffeid.SpiffeId;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An X.509-SVID: a leaf certificate naming one SPIFFE ID, the intermediates up to (not including) a trust-bundle
 * authority, and, for the workload that owns it, its private key.
 *
 * <p>Instances are only built through {@link #parse} and {@link #withPrivateKey}, which enforce the X509-SVID profile
 * (section 4 and 5.2) on every certificate. Trust is a separate step: see {@link X509SvidVerifier}. The private key
 * may live in an HSM or TPM, so it is never encoded, compared or printed here.
 *
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md">X509-SVID.md</a>
 */
public final class X509Svid {
    static final String KEY_USAGE_OID = "2.5.29.15";
    static final String SERVER_AUTH_OID = "1.3.6.1.5.5.7.3.1";
    static final String CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2";
    private static final int URI_SAN = 6;
    private static final int DIGITAL_SIGNATURE = 0;
    private static final int KEY_CERT_SIGN = 5;
    private static final int CRL_SIGN = 6;
    /** Longer chains are refused before any work: real SVID chains have a leaf and zero to a few intermediates. */
    public static final int MAX_CHAIN_LENGTH = 16;

    public static final String CHAIN_EMPTY = "certificate chain is empty";
    public static final String CHAIN_TOO_LONG = "certificate chain has more than " + MAX_CHAIN_LENGTH
            + " certificates";
    public static final String NO_URI_SAN = "leaf certificate has no URI SAN";
    public static final String SEVERAL_URI_SANS = "leaf certificate has more than one URI SAN";
    public static final String LEAF_ID_HAS_NO_PATH = "leaf certificate SPIFFE ID has no path";
    public static final String LEAF_IS_CA = "leaf certificate must not be a CA";
    public static final String LEAF_NO_KEY_USAGE = "leaf certificate has no key usage extension";
    public static final String LEAF_KEY_USAGE_NOT_CRITICAL = "leaf certificate key usage must be critical";
    public static final String LEAF_NO_DIGITAL_SIGNATURE = "leaf certificate key usage must include digitalSignature";
    public static final String LEAF_KEY_CERT_SIGN = "leaf certificate key usage must not include keyCertSign";
    public static final String LEAF_CRL_SIGN = "leaf certificate key usage must not include cRLSign";
    public static final String LEAF_EKU = "leaf certificate extended key usage must include serverAuth and clientAuth";
    public static final String SIGNING_NOT_CA = "signing certificate must be a CA";
    public static final String SIGNING_NO_KEY_CERT_SIGN = "signing certificate key usage must include keyCertSign";

    private final SpiffeId spiffeId;
    private final List<X509Certificate> chain;
    private final PrivateKey privateKey;

    private X509Svid(SpiffeId spiffeId, List<X509Certificate> chain, PrivateKey privateKey) {
        this.spiffeId = spiffeId;
        this.chain = chain;
        this.privateKey = privateKey;
    }

    /**
     * Checks that {@code chain} (leaf first) follows the X509-SVID profile and returns the SVID it carries. It does
     * not check trust or validity dates.
     *
     * @throws X509SvidException naming the certificate and the rule it breaks
     */
    public static X509Svid parse(List<X509Certificate> chain) throws X509SvidException {
        Objects.requireNonNull(chain, "chain");
        if (chain.isEmpty()) {
            throw new X509SvidException(CHAIN_EMPTY);
        }
        if (chain.size() > MAX_CHAIN_LENGTH) {
            throw new X509SvidException(CHAIN_TOO_LONG);
        }
        X509Certificate leaf = chain.get(0);
        SpiffeId id = leafSpiffeId(leaf);
        checkLeaf(leaf);
        for (int i = 1; i < chain.size(); i++) {
            checkSigning(chain.get(i), i);
        }
        return new X509Svid(id, List.copyOf(chain), null);
    }

    /** This SVID together with the private key of its leaf; the caller vouches that the two belong together. */
    public X509Svid withPrivateKey(PrivateKey key) {
        return new X509Svid(spiffeId, chain, Objects.requireNonNull(key, "key"));
    }

    /** The SPIFFE ID in the leaf's URI SAN, after checking there is exactly one and that it names a workload. */
    public static SpiffeId leafSpiffeId(X509Certificate leaf) throws X509SvidException {
        List<String> uris = uriSans(leaf, "leaf certificate");
        if (uris.isEmpty()) {
            throw new X509SvidException(NO_URI_SAN);
        }
        if (uris.size() > 1) {
            throw new X509SvidException(SEVERAL_URI_SANS);
        }
        SpiffeId id;
        try {
            id = SpiffeId.parse(uris.get(0));
        } catch (InvalidSpiffeIdException e) {
            throw new X509SvidException("leaf certificate URI SAN is not a valid SPIFFE ID: " + e.getMessage(), e);
        }
        if (id.isTrustDomainId()) {
            throw new X509SvidException(LEAF_ID_HAS_NO_PATH);
        }
        return id;
    }

    private static void checkLeaf(X509Certificate leaf) throws X509SvidException {
        if (leaf.getBasicConstraints() != -1) {
            throw new X509SvidException(LEAF_IS_CA);
        }
        boolean[] usage = leaf.getKeyUsage();
        if (usage == null) {
            throw new X509SvidException(LEAF_NO_KEY_USAGE);
        }
        Set<String> critical = leaf.getCriticalExtensionOIDs();
        if (critical == null || !critical.contains(KEY_USAGE_OID)) {
            throw new X509SvidException(LEAF_KEY_USAGE_NOT_CRITICAL);
        }
        if (!bit(usage, DIGITAL_SIGNATURE)) {
            throw new X509SvidException(LEAF_NO_DIGITAL_SIGNATURE);
        }
        if (bit(usage, KEY_CERT_SIGN)) {
            throw new X509SvidException(LEAF_KEY_CERT_SIGN);
        }
        if (bit(usage, CRL_SIGN)) {
            throw new X509SvidException(LEAF_CRL_SIGN);
        }
        List<String> eku;
        try {
            eku = leaf.getExtendedKeyUsage();
        } catch (CertificateParsingException e) {
            throw new X509SvidException("leaf certificate extended key usage cannot be parsed", e);
        }
        if (eku != null && !(eku.contains(SERVER_AUTH_OID) && eku.contains(CLIENT_AUTH_OID))) {
            throw new X509SvidException(LEAF_EKU);
        }
    }

    private static void checkSigning(X509Certificate cert, int index) throws X509SvidException {
        if (cert.getBasicConstraints() < 0) {
            throw new X509SvidException(SIGNING_NOT_CA + " (certificate " + index + ")");
        }
        boolean[] usage = cert.getKeyUsage();
        if (usage == null || !bit(usage, KEY_CERT_SIGN)) {
            throw new X509SvidException(SIGNING_NO_KEY_CERT_SIGN + " (certificate " + index + ")");
        }
    }

    static List<String> uriSans(X509Certificate cert, String which) throws X509SvidException {
        Collection<List<?>> names;
        try {
            names = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new X509SvidException(which + " subject alternative names cannot be parsed", e);
        }
        List<String> uris = new ArrayList<>();
        if (names != null) {
            for (List<?> name : names) {
                if (name.size() >= 2 && Integer.valueOf(URI_SAN).equals(name.get(0))) {
                    uris.add(String.valueOf(name.get(1)));
                }
            }
        }
        return uris;
    }

    private static boolean bit(boolean[] usage, int index) {
        return usage.length > index && usage[index];
    }

    public SpiffeId spiffeId() {
        return spiffeId;
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    /** The leaf followed by its intermediates. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The leaf's private key, present only for the SVID's owner. */
    public Optional<PrivateKey> privateKey() {
        return Optional.ofNullable(privateKey);
    }

    @Override
    public String toString() {
        return "X509Svid{" + spiffeId + ", serial " + leaf().getSerialNumber().toString(16) + ", expires "
                + leaf().getNotAfter().toInstant() + (privateKey != null ? ", with private key" : "") + "}";
    }
}
