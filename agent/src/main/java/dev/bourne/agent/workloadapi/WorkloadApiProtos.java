package dev.bourne.agent.workloadapi;

import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.svid.jwt.JwtSvid;
import dev.bourne.workload.v1.JWTBundlesResponse;
import dev.bourne.workload.v1.JWTSVID;
import dev.bourne.workload.v1.JWTSVIDResponse;
import dev.bourne.workload.v1.ValidateJWTSVIDResponse;
import dev.bourne.workload.v1.X509BundlesResponse;
import dev.bourne.workload.v1.X509SVID;
import dev.bourne.workload.v1.X509SVIDResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Converts between the agent's domain values and {@code workload.proto} messages: the only class that builds
 * Workload API protobufs. Trust domains are keyed by their SPIFFE ID ({@code spiffe://example.org}); certificates
 * are concatenated ASN.1 DER; JWT bundles are JWK sets holding only the JWT authorities.
 */
final class WorkloadApiProtos {

    private WorkloadApiProtos() {
    }

    static X509SVIDResponse x509SvidResponse(WorkloadIdentity identity) {
        X509SVIDResponse.Builder response = X509SVIDResponse.newBuilder();
        ByteString bundle = der(identity.bundle().x509Authorities());
        for (WorkloadX509Svid svid : identity.svids()) {
            response.addSvids(X509SVID.newBuilder()
                    .setSpiffeId(svid.spiffeId().toString())
                    .setX509Svid(der(svid.chain()))
                    .setX509SvidKey(ByteString.copyFrom(svid.key().pkcs8()))
                    .setBundle(bundle)
                    .setHint(svid.hint()));
        }
        identity.federatedBundles().forEach((td, b) -> {
            if (!b.x509Authorities().isEmpty()) {
                response.putFederatedBundles(td.idString(), der(b.x509Authorities()));
            }
        });
        return response.build();
    }

    /**
     * Every bundle of the workload with X.509 authorities. A federated bundle holding only JWT authorities is left
     * out of X.509 answers: it can validate no X.509-SVID, and an empty value makes clients such as java-spiffe
     * (which refuses a bundle without certificates) fail the whole update.
     */
    static X509BundlesResponse x509BundlesResponse(WorkloadIdentity identity) {
        X509BundlesResponse.Builder response = X509BundlesResponse.newBuilder();
        for (SpiffeBundle bundle : identity.allBundles()) {
            if (!bundle.x509Authorities().isEmpty()) {
                response.putBundles(bundle.trustDomain().idString(), der(bundle.x509Authorities()));
            }
        }
        return response.build();
    }

    static JWTBundlesResponse jwtBundlesResponse(WorkloadIdentity identity) {
        JWTBundlesResponse.Builder response = JWTBundlesResponse.newBuilder();
        for (SpiffeBundle bundle : identity.allBundles()) {
            SpiffeBundle jwtOnly = new SpiffeBundle(bundle.trustDomain(), List.of(), bundle.jwtAuthorities(),
                    OptionalLong.empty(), java.util.Optional.empty());
            response.putBundles(bundle.trustDomain().idString(),
                    ByteString.copyFrom(SpiffeBundleJson.encode(jwtOnly), StandardCharsets.UTF_8));
        }
        return response.build();
    }

    static JWTSVIDResponse jwtSvidResponse(List<MintedJwtSvid> svids) {
        JWTSVIDResponse.Builder response = JWTSVIDResponse.newBuilder();
        for (MintedJwtSvid svid : svids) {
            response.addSvids(JWTSVID.newBuilder()
                    .setSpiffeId(svid.spiffeId())
                    .setSvid(svid.token())
                    .setHint(svid.hint()));
        }
        return response.build();
    }

    static ValidateJWTSVIDResponse validateResponse(JwtSvid svid) {
        return ValidateJWTSVIDResponse.newBuilder()
                .setSpiffeId(svid.spiffeId().toString())
                .setClaims(struct(svid.claims()))
                .build();
    }

    /** A minted token with the SPIFFE ID and hint it is returned under. Not a record: the token is a secret. */
    static final class MintedJwtSvid {
        private final String spiffeId;
        private final String token;
        private final String hint;

        MintedJwtSvid(String spiffeId, String token, String hint) {
            this.spiffeId = spiffeId;
            this.token = token;
            this.hint = hint;
        }

        String spiffeId() {
            return spiffeId;
        }

        String token() {
            return token;
        }

        String hint() {
            return hint;
        }

        @Override
        public String toString() {
            return "MintedJwtSvid{" + spiffeId + "}";
        }
    }

    private static ByteString der(Collection<X509Certificate> certificates) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (X509Certificate certificate : certificates) {
            try {
                out.writeBytes(certificate.getEncoded());
            } catch (CertificateEncodingException e) {
                // The certificates were parsed from DER or built by a CA: failing here is a bug, not bad input.
                throw new IllegalStateException("cannot encode certificate " + certificate.getSubjectX500Principal(),
                        e);
            }
        }
        return ByteString.copyFrom(out.toByteArray());
    }

    private static Struct struct(Map<String, ?> map) {
        Struct.Builder struct = Struct.newBuilder();
        map.forEach((key, value) -> struct.putFields(key, value(value)));
        return struct.build();
    }

    private static Value value(Object value) {
        if (value == null) {
            return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
        }
        if (value instanceof String s) {
            return Value.newBuilder().setStringValue(s).build();
        }
        if (value instanceof Boolean b) {
            return Value.newBuilder().setBoolValue(b).build();
        }
        if (value instanceof Number n) {
            return Value.newBuilder().setNumberValue(n.doubleValue()).build();
        }
        if (value instanceof Date d) {
            return Value.newBuilder().setNumberValue(d.getTime() / 1000).build();
        }
        if (value instanceof Map<?, ?> m) {
            Struct.Builder struct = Struct.newBuilder();
            m.forEach((k, v) -> struct.putFields(String.valueOf(k), value(v)));
            return Value.newBuilder().setStructValue(struct).build();
        }
        if (value instanceof Collection<?> c) {
            ListValue.Builder list = ListValue.newBuilder();
            c.forEach(v -> list.addValues(value(v)));
            return Value.newBuilder().setListValue(list).build();
        }
        return Value.newBuilder().setStringValue(String.valueOf(value)).build();
    }
}
