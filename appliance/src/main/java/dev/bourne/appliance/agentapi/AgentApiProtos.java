package dev.bourne.appliance.agentapi;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.FederatedBundle;
import dev.bourne.api.v1.JWTKey;
import dev.bourne.api.v1.JWTSVID;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.api.v1.X509SVID;
import dev.bourne.appliance.ca.CaSnapshot;
import dev.bourne.appliance.ca.IssuedJwtSvid;
import dev.bourne.appliance.ca.IssuedX509Svid;
import dev.bourne.appliance.ca.journal.JwtAuthorityRecord;
import dev.bourne.core.bundle.SpiffeBundle;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Map;

/** Converts the agent API's domain values to their {@code bourne.api.v1} messages; the only place that does. */
final class AgentApiProtos {
    private AgentApiProtos() {
    }

    static X509SVID x509Svid(IssuedX509Svid svid) {
        X509SVID.Builder builder = X509SVID.newBuilder().setId(svid.spiffeId().toString())
                .setExpiresAt(svid.notAfter().getEpochSecond());
        for (byte[] der : svid.chainDer()) {
            builder.addCertChain(ByteString.copyFrom(der));
        }
        return builder.build();
    }

    static JWTSVID jwtSvid(IssuedJwtSvid svid) {
        return JWTSVID.newBuilder().setToken(svid.token()).setId(svid.spiffeId().toString())
                .setExpiresAt(svid.expiresAt().getEpochSecond()).setIssuedAt(svid.issuedAt().getEpochSecond())
                .build();
    }

    /** The trust domain's bundle with its sequence number, refresh hint and JWT key expiries from the CA. */
    static TrustBundle bundle(CaSnapshot snapshot) {
        SpiffeBundle bundle = snapshot.bundle();
        TrustBundle.Builder builder = TrustBundle.newBuilder().setTrustDomain(bundle.trustDomain().name());
        addX509Authorities(builder, bundle);
        for (Map.Entry<String, PublicKey> key : bundle.jwtAuthorities().entrySet()) {
            long expiresAt = snapshot.jwtAuthorities().stream().filter(r -> r.keyId().equals(key.getKey()))
                    .map(JwtAuthorityRecord::notAfter).findFirst().map(i -> i.getEpochSecond()).orElse(0L);
            builder.addJwtAuthorities(JWTKey.newBuilder().setKeyId(key.getKey())
                    .setPublicKey(ByteString.copyFrom(key.getValue().getEncoded())).setExpiresAt(expiresAt));
        }
        bundle.sequence().ifPresent(builder::setSequenceNumber);
        bundle.refreshHint().ifPresent(hint -> builder.setRefreshHint(hint.getSeconds()));
        return builder.build();
    }

    /**
     * A federated bundle for an agent with its digest. JWT key expiries are not part of the SPIFFE bundle format, so
     * a peer's keys carry none (0).
     */
    static FederatedBundle federatedBundle(AuthorizedBundles.Versioned versioned) {
        SpiffeBundle bundle = versioned.bundle();
        TrustBundle.Builder builder = TrustBundle.newBuilder().setTrustDomain(bundle.trustDomain().name());
        addX509Authorities(builder, bundle);
        for (Map.Entry<String, PublicKey> key : bundle.jwtAuthorities().entrySet()) {
            builder.addJwtAuthorities(JWTKey.newBuilder().setKeyId(key.getKey())
                    .setPublicKey(ByteString.copyFrom(key.getValue().getEncoded())));
        }
        bundle.sequence().ifPresent(builder::setSequenceNumber);
        bundle.refreshHint().ifPresent(hint -> builder.setRefreshHint(hint.getSeconds()));
        return FederatedBundle.newBuilder().setBundle(builder)
                .setDigest(ByteString.copyFrom(HexFormat.of().parseHex(versioned.digest()))).build();
    }

    private static void addX509Authorities(TrustBundle.Builder builder, SpiffeBundle bundle) {
        for (X509Certificate certificate : bundle.x509Authorities()) {
            try {
                builder.addX509Authorities(ByteString.copyFrom(certificate.getEncoded()));
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException("a bundle certificate cannot be encoded", e);
            }
        }
    }
}
