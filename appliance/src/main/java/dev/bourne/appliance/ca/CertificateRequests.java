package dev.bourne.appliance.ca;

import dev.bourne.appliance.ca.SvidIssuanceException.Reason;
import dev.bourne.core.spiffeid.SpiffeId;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.Provider;
import java.util.Objects;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1InputStream;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Parses and checks the PKCS#10 certificate signing requests agents send for X.509-SVIDs (RFC 2986).
 *
 * <p>Only the subject public key is taken from a CSR: the SPIFFE ID, DNS names and lifetime come from the
 * registration entry. The rest of the CSR is checked only so that a request for something else fails loudly instead
 * of being silently narrowed: a CSR asking to be a CA, or naming another (or a second) SPIFFE ID, is refused. The
 * signature is verified as proof that the requester holds the private key.
 */
public final class CertificateRequests {
    /** Real CSRs are well under 2 KiB (an RSA-4096 one is about 1.7 KiB); anything larger is refused unparsed. */
    public static final int MAX_CSR_BYTES = 8 * 1024;

    public static final String EMPTY = "CSR is empty";
    public static final String TOO_LARGE = "CSR is larger than " + MAX_CSR_BYTES + " bytes";
    public static final String NOT_DER = "CSR is not valid DER";
    public static final String TRAILING_BYTES = "CSR has trailing bytes after its DER structure";
    public static final String NOT_PKCS10 = "CSR is not a PKCS#10 certification request";
    public static final String BAD_VERSION = "CSR version must be 1 (encoded 0)";
    public static final String SIGNATURE_ALGORITHM_NOT_ALLOWED = "CSR signature algorithm is not allowed: use ECDSA,"
            + " RSA PKCS#1 v1.5 or RSA-PSS with SHA-256, SHA-384 or SHA-512";
    public static final String BAD_SIGNATURE =
            "CSR signature does not verify with its public key (no proof of possession)";
    public static final String EXTENSIONS_MALFORMED = "CSR extension request cannot be parsed";
    public static final String REQUESTS_CA = "CSR requests a CA certificate (basicConstraints CA:true)";
    public static final String SEVERAL_URIS = "CSR has more than one URI SAN";
    public static final String URI_NOT_SPIFFE_ID = "CSR URI SAN is not the SPIFFE ID being issued";

    /** No MD5 or SHA-1: a CSR signature is a proof of possession, and a weak hash would make it forgeable. */
    private static final Set<ASN1ObjectIdentifier> SIGNATURE_ALGORITHMS = Set.of(
            X9ObjectIdentifiers.ecdsa_with_SHA256, X9ObjectIdentifiers.ecdsa_with_SHA384,
            X9ObjectIdentifiers.ecdsa_with_SHA512,
            PKCSObjectIdentifiers.sha256WithRSAEncryption, PKCSObjectIdentifiers.sha384WithRSAEncryption,
            PKCSObjectIdentifiers.sha512WithRSAEncryption, PKCSObjectIdentifiers.id_RSASSA_PSS);

    /**
     * BouncyCastle verifies CSR signatures (several times faster than the JDK's ECDSA here, FIELD-NOTES.md). Passed as
     * an object, never registered globally.
     */
    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

    private CertificateRequests() {
    }

    /**
     * Parses {@code der}, checks it for {@code spiffeId} and returns its subject key.
     *
     * @throws X509SvidIssuanceException naming the first rule the CSR breaks (a constant of this class or of
     *     {@link SubjectKey}); nothing else escapes for any input
     */
    public static SubjectKey parse(byte[] der, SpiffeId spiffeId) throws X509SvidIssuanceException {
        Objects.requireNonNull(spiffeId, "spiffeId");
        PKCS10CertificationRequest request = structure(der);
        if (!request.toASN1Structure().getCertificationRequestInfo().getVersion().hasValue(0)) {
            throw malformed(BAD_VERSION);
        }
        // The key first: a request for an Ed25519 or DSA key is refused for its key type, the clearer reason.
        SubjectKey key = SubjectKey.of(request.getSubjectPublicKeyInfo());
        if (!SIGNATURE_ALGORITHMS.contains(request.getSignatureAlgorithm().getAlgorithm())) {
            throw malformed(SIGNATURE_ALGORITHM_NOT_ALLOWED);
        }
        verifySignature(request);
        checkExtensions(request, spiffeId);
        return key;
    }

    private static PKCS10CertificationRequest structure(byte[] der) throws X509SvidIssuanceException {
        if (der == null || der.length == 0) {
            throw malformed(EMPTY);
        }
        if (der.length > MAX_CSR_BYTES) {
            throw malformed(TOO_LARGE);
        }
        ByteArrayInputStream bytes = new ByteArrayInputStream(der);
        ASN1Primitive primitive;
        // The limit keeps every declared length within the input, so a hostile length cannot make the parser
        // allocate more than the 8 KiB it was given.
        try (ASN1InputStream in = new ASN1InputStream(bytes, der.length)) {
            primitive = in.readObject();
        } catch (IOException | RuntimeException e) {
            throw malformed(NOT_DER, e);
        }
        if (primitive == null) {
            throw malformed(NOT_DER);
        }
        if (bytes.available() > 0) {
            throw malformed(TRAILING_BYTES);
        }
        try {
            return new PKCS10CertificationRequest(CertificationRequest.getInstance(primitive));
        } catch (RuntimeException e) {
            // BouncyCastle reports structural problems with IllegalArgumentException, ClassCastException and the
            // like: all mean the bytes are not a CertificationRequest.
            throw malformed(NOT_PKCS10, e);
        }
    }

    private static void verifySignature(PKCS10CertificationRequest request) throws X509SvidIssuanceException {
        ContentVerifierProvider verifier;
        try {
            verifier = new JcaContentVerifierProviderBuilder().setProvider(BOUNCY_CASTLE)
                    .build(request.getSubjectPublicKeyInfo());
        } catch (OperatorCreationException | RuntimeException e) {
            // The key passed the allowlist but the provider cannot build it: a point off the curve and the like.
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, SubjectKey.KEY_MALFORMED, e);
        }
        boolean valid;
        try {
            valid = request.isSignatureValid(verifier);
        } catch (PKCSException | RuntimeException e) {
            throw malformed(BAD_SIGNATURE, e);
        }
        if (!valid) {
            throw malformed(BAD_SIGNATURE);
        }
    }

    private static void checkExtensions(PKCS10CertificationRequest request, SpiffeId spiffeId)
            throws X509SvidIssuanceException {
        try {
            for (Attribute attribute : request.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
                for (ASN1Encodable value : attribute.getAttributeValues()) {
                    check(Extensions.getInstance(value), spiffeId);
                }
            }
        } catch (RuntimeException e) {
            throw malformed(EXTENSIONS_MALFORMED, e);
        }
    }

    private static void check(Extensions extensions, SpiffeId spiffeId) throws X509SvidIssuanceException {
        Extension basicConstraints = extensions.getExtension(Extension.basicConstraints);
        if (basicConstraints != null && BasicConstraints.getInstance(basicConstraints.getParsedValue()).isCA()) {
            throw new X509SvidIssuanceException(Reason.FORBIDDEN_REQUEST, REQUESTS_CA);
        }
        Extension san = extensions.getExtension(Extension.subjectAlternativeName);
        if (san == null) {
            return;
        }
        String uri = null;
        for (GeneralName name : GeneralNames.getInstance(san.getParsedValue()).getNames()) {
            if (name.getTagNo() == GeneralName.uniformResourceIdentifier) {
                if (uri != null) {
                    throw new X509SvidIssuanceException(Reason.FORBIDDEN_REQUEST, SEVERAL_URIS);
                }
                uri = ((ASN1String) name.getName()).getString();
            }
        }
        if (uri != null && !uri.equals(spiffeId.toString())) {
            throw new X509SvidIssuanceException(Reason.FORBIDDEN_REQUEST, URI_NOT_SPIFFE_ID);
        }
    }

    private static X509SvidIssuanceException malformed(String message) {
        return new X509SvidIssuanceException(Reason.MALFORMED_REQUEST, message);
    }

    private static X509SvidIssuanceException malformed(String message, Throwable cause) {
        return new X509SvidIssuanceException(Reason.MALFORMED_REQUEST, message, cause);
    }
}
