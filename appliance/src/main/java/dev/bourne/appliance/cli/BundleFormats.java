package dev.bourne.appliance.cli;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.JWTKey;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** The CLI's bundle formats: PEM (the X.509 authorities) and the SPIFFE bundle JSON document (a JWKS). */
final class BundleFormats {
    static final String NO_CERTIFICATES = "holds no PEM certificate";
    static final String NOT_PEM = "is not a PEM file of X.509 certificates";
    static final String UNREADABLE_KEY = "the server returned a JWT key that cannot be decoded";

    private BundleFormats() {
    }

    /** The server's bundle as a domain value, for printing. */
    static SpiffeBundle fromProto(TrustBundle proto) throws CliException {
        TrustDomain td = TrustDomain.parse(proto.getTrustDomain());
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (ByteString der : proto.getX509AuthoritiesList()) {
                certificates.add((X509Certificate) factory.generateCertificate(
                        new ByteArrayInputStream(der.toByteArray())));
            }
        } catch (CertificateException e) {
            throw new CliException("the server returned a certificate that cannot be decoded", e);
        }
        Map<String, PublicKey> keys = new LinkedHashMap<>();
        for (JWTKey key : proto.getJwtAuthoritiesList()) {
            keys.put(key.getKeyId(), publicKey(key.getPublicKey().toByteArray()));
        }
        return new SpiffeBundle(td, certificates, keys,
                proto.getSequenceNumber() > 0 ? OptionalLong.of(proto.getSequenceNumber()) : OptionalLong.empty(),
                proto.getRefreshHint() > 0 ? Optional.of(Duration.ofSeconds(proto.getRefreshHint()))
                        : Optional.empty());
    }

    private static PublicKey publicKey(byte[] der) throws CliException {
        for (String algorithm : List.of("EC", "RSA")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // The DER names its algorithm; only one factory accepts it.
            }
        }
        throw new CliException(UNREADABLE_KEY);
    }

    static TrustBundle toProto(SpiffeBundle bundle) throws CliException {
        TrustBundle.Builder b = TrustBundle.newBuilder().setTrustDomain(bundle.trustDomain().name());
        try {
            for (X509Certificate certificate : bundle.x509Authorities()) {
                b.addX509Authorities(ByteString.copyFrom(certificate.getEncoded()));
            }
        } catch (CertificateEncodingException e) {
            throw new CliException("a certificate of the bundle cannot be encoded", e);
        }
        bundle.jwtAuthorities().forEach((kid, key) -> b.addJwtAuthorities(JWTKey.newBuilder().setKeyId(kid)
                .setPublicKey(ByteString.copyFrom(key.getEncoded()))));
        bundle.refreshHint().ifPresent(h -> b.setRefreshHint(h.getSeconds()));
        bundle.sequence().ifPresent(b::setSequenceNumber);
        return b.build();
    }

    /** The X.509 authorities as concatenated PEM blocks. */
    static String pem(TrustBundle proto) {
        StringBuilder out = new StringBuilder();
        proto.getX509AuthoritiesList().forEach(der -> out.append(pemBlock("CERTIFICATE", der.toByteArray())));
        return out.toString();
    }

    static String pemBlock(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    static String spiffe(TrustBundle proto) throws CliException {
        return SpiffeBundleJson.encode(fromProto(proto));
    }

    /** Reads a bundle file of {@code td} in {@code format} ("pem" or "spiffe"); {@code flag} names the file's flag. */
    static SpiffeBundle read(TrustDomain td, byte[] content, String format, String flag) throws CliException {
        if (format.equals("spiffe")) {
            try {
                return SpiffeBundleJson.decode(td, content);
            } catch (RuntimeException e) {
                throw new CliException(flag + ": " + e.getMessage());
            }
        }
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(content))) {
                certificates.add((X509Certificate) c);
            }
        } catch (CertificateException | RuntimeException e) {
            throw new CliException(flag + ": " + NOT_PEM);
        }
        if (certificates.isEmpty()) {
            throw new CliException(flag + ": " + NO_CERTIFICATES);
        }
        return SpiffeBundle.of(td, certificates, Map.of());
    }
}
