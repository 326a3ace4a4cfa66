package dev.bourne.appliance.admin;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.AttestedAgent;
import dev.bourne.api.v1.AuthorityState;
import dev.bourne.api.v1.EntryMask;
import dev.bourne.api.v1.JWTKey;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.appliance.ca.journal.JwtAuthorityRecord;
import dev.bourne.appliance.ca.journal.X509AuthorityRecord;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.EntryField;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.protos.EntryProtos;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.ByteArrayInputStream;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Converts between the admin API's protobuf messages and the domain records, in both directions. Parsing failures
 * name the request field ({@code spiffe_id}, {@code selectors[2]}, ...). Times on the wire are Unix seconds, TTLs
 * seconds.
 */
final class AdminProtos {
    static final String INVALID_SPIFFE_ID = "is not a valid SPIFFE ID: %s";
    static final String INVALID_TRUST_DOMAIN = "is not a valid trust domain: %s";
    static final String INVALID_SELECTOR = "is not a valid selector: %s";
    static final String INVALID_CERTIFICATE = "is not a DER X.509 certificate";
    static final String INVALID_PUBLIC_KEY = "is not a DER SubjectPublicKeyInfo of an EC or RSA key";
    static final String INVALID_BUNDLE = "is not a valid bundle: %s";
    static final String KEY_ID_DUPLICATE = "is listed twice";
    static final String MAX_DER_BYTES_TEXT = "is larger than 65536 bytes";
    static final int MAX_DER_BYTES = 65536;

    private AdminProtos() {
    }

    // Identifiers

    static SpiffeId spiffeId(String field, String value) throws InvalidRequestException {
        if (value.isEmpty()) {
            throw new InvalidRequestException(field, EntryValidator.REQUIRED);
        }
        try {
            return SpiffeId.parse(value);
        } catch (IllegalArgumentException e) {
            // The parser's message quotes the (escaped, truncated) input: safe and helpful to return.
            throw new InvalidRequestException(field, String.format(INVALID_SPIFFE_ID, e.getMessage()));
        }
    }

    static TrustDomain trustDomain(String field, String value) throws InvalidRequestException {
        if (value.isEmpty()) {
            throw new InvalidRequestException(field, EntryValidator.REQUIRED);
        }
        try {
            return TrustDomain.parse(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(field, String.format(INVALID_TRUST_DOMAIN, e.getMessage()));
        }
    }

    static Selector selector(String field, dev.bourne.api.v1.Selector proto) throws InvalidRequestException {
        try {
            return new Selector(proto.getType(), proto.getValue());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(field, String.format(INVALID_SELECTOR, e.getMessage()));
        }
    }

    static List<Selector> selectors(String field, List<dev.bourne.api.v1.Selector> protos)
            throws InvalidRequestException {
        List<Selector> out = new ArrayList<>();
        for (int i = 0; i < protos.size(); i++) {
            out.add(selector(field + "[" + i + "]", protos.get(i)));
        }
        return out;
    }

    // Entries

    /** The domain entry a request describes; only shapes are checked here, {@link EntryValidator} checks rules. */
    static RegistrationEntry entry(dev.bourne.api.v1.RegistrationEntry proto) throws InvalidRequestException {
        List<TrustDomain> federatesWith = new ArrayList<>();
        for (int i = 0; i < proto.getFederatesWithCount(); i++) {
            federatesWith.add(trustDomain("federates_with[" + i + "]", proto.getFederatesWith(i)));
        }
        if (proto.getX509SvidTtl() < 0) {
            throw new InvalidRequestException("x509_svid_ttl", EntryValidator.TTL_NEGATIVE);
        }
        if (proto.getJwtSvidTtl() < 0) {
            throw new InvalidRequestException("jwt_svid_ttl", EntryValidator.TTL_NEGATIVE);
        }
        if (proto.getExpiresAt() != 0) {
            // Entry expiry is not stored by Bourne's datastore: refuse rather than silently ignore it.
            throw new InvalidRequestException("expires_at", EntryValidator.EXPIRY_UNSUPPORTED);
        }
        return RegistrationEntry.builder()
                .id(proto.getId())
                .spiffeId(spiffeId("spiffe_id", proto.getSpiffeId()))
                .parentId(spiffeId("parent_id", proto.getParentId()))
                .selectors(selectors("selectors", proto.getSelectorsList()))
                .x509SvidTtl(Duration.ofSeconds(proto.getX509SvidTtl()))
                .jwtSvidTtl(Duration.ofSeconds(proto.getJwtSvidTtl()))
                .federatesWith(federatesWith)
                .admin(proto.getAdmin())
                .downstream(proto.getDownstream())
                .dnsNames(proto.getDnsNamesList())
                .storeSvid(proto.getStoreSvid())
                .hint(proto.getHint())
                .build();
    }

    /** The datastore fields an update mask names; an absent mask means every field, as SPIRE. */
    static Set<EntryField> mask(Optional<EntryMask> mask) {
        if (mask.isEmpty()) {
            return EntryField.all();
        }
        EntryMask m = mask.get();
        Set<EntryField> out = EnumSet.noneOf(EntryField.class);
        if (m.getSpiffeId()) {
            out.add(EntryField.SPIFFE_ID);
        }
        if (m.getParentId()) {
            out.add(EntryField.PARENT_ID);
        }
        if (m.getSelectors()) {
            out.add(EntryField.SELECTORS);
        }
        if (m.getX509SvidTtl()) {
            out.add(EntryField.X509_SVID_TTL);
        }
        if (m.getJwtSvidTtl()) {
            out.add(EntryField.JWT_SVID_TTL);
        }
        if (m.getFederatesWith()) {
            out.add(EntryField.FEDERATES_WITH);
        }
        if (m.getAdmin()) {
            out.add(EntryField.ADMIN);
        }
        if (m.getDownstream()) {
            out.add(EntryField.DOWNSTREAM);
        }
        if (m.getDnsNames()) {
            out.add(EntryField.DNS_NAMES);
        }
        if (m.getStoreSvid()) {
            out.add(EntryField.STORE_SVID);
        }
        if (m.getHint()) {
            out.add(EntryField.HINT);
        }
        return out;
    }

    /** {@code base} with the masked fields taken from {@code update}: what the stored entry will look like. */
    static RegistrationEntry merge(RegistrationEntry base, RegistrationEntry update, Set<EntryField> mask) {
        RegistrationEntry.Builder b = base.toBuilder();
        for (EntryField field : mask) {
            switch (field) {
                case SPIFFE_ID -> b.spiffeId(update.spiffeId());
                case PARENT_ID -> b.parentId(update.parentId());
                case SELECTORS -> b.selectors(update.selectors());
                case X509_SVID_TTL -> b.x509SvidTtl(update.x509SvidTtl());
                case JWT_SVID_TTL -> b.jwtSvidTtl(update.jwtSvidTtl());
                case FEDERATES_WITH -> b.federatesWith(update.federatesWith());
                case ADMIN -> b.admin(update.admin());
                case DOWNSTREAM -> b.downstream(update.downstream());
                case DNS_NAMES -> b.dnsNames(update.dnsNames());
                case STORE_SVID -> b.storeSvid(update.storeSvid());
                case HINT -> b.hint(update.hint());
            }
        }
        return b.build();
    }

    // Agents

    static AttestedAgent toProto(AttestedNode node) {
        AttestedAgent.Builder b = AttestedAgent.newBuilder()
                .setId(node.spiffeId().toString())
                .setAttestationType(node.attestationDataType())
                .setBanned(node.banned())
                .setCanReattest(node.canReattest());
        node.certificate().ifPresent(c -> b.setX509SvidSerialNumber(c.serialNumber())
                .setX509SvidExpiresAt(c.notAfter().getEpochSecond()));
        node.selectors().forEach(s -> b.addSelectors(EntryProtos.toProto(s)));
        return b.build();
    }

    // Bundles

    static TrustBundle toProto(SpiffeBundle bundle) {
        TrustBundle.Builder b = TrustBundle.newBuilder().setTrustDomain(bundle.trustDomain().name());
        for (X509Certificate certificate : bundle.x509Authorities()) {
            try {
                b.addX509Authorities(ByteString.copyFrom(certificate.getEncoded()));
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException("a bundle certificate cannot be encoded", e);
            }
        }
        bundle.jwtAuthorities().forEach((kid, key) -> b.addJwtAuthorities(JWTKey.newBuilder()
                .setKeyId(kid).setPublicKey(ByteString.copyFrom(key.getEncoded())).build()));
        bundle.refreshHint().ifPresent(h -> b.setRefreshHint(h.getSeconds()));
        bundle.sequence().ifPresent(b::setSequenceNumber);
        return b.build();
    }

    static SpiffeBundle bundle(String field, TrustBundle proto) throws InvalidRequestException {
        TrustDomain td = trustDomain(field + ".trust_domain", proto.getTrustDomain());
        List<X509Certificate> certificates = new ArrayList<>();
        for (int i = 0; i < proto.getX509AuthoritiesCount(); i++) {
            certificates.add(certificate(field + ".x509_authorities[" + i + "]", proto.getX509Authorities(i)));
        }
        Map<String, PublicKey> keys = new LinkedHashMap<>();
        for (int i = 0; i < proto.getJwtAuthoritiesCount(); i++) {
            JWTKey key = proto.getJwtAuthorities(i);
            String keyField = field + ".jwt_authorities[" + i + "]";
            if (key.getKeyId().isEmpty()) {
                throw new InvalidRequestException(keyField + ".key_id", EntryValidator.REQUIRED);
            }
            if (keys.put(key.getKeyId(), publicKey(keyField + ".public_key", key.getPublicKey())) != null) {
                throw new InvalidRequestException(keyField + ".key_id", KEY_ID_DUPLICATE);
            }
        }
        try {
            return new SpiffeBundle(td, certificates, keys,
                    proto.getSequenceNumber() > 0 ? OptionalLong.of(proto.getSequenceNumber()) : OptionalLong.empty(),
                    proto.getRefreshHint() > 0 ? Optional.of(Duration.ofSeconds(proto.getRefreshHint()))
                            : Optional.empty());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(field, String.format(INVALID_BUNDLE, e.getMessage()));
        }
    }

    private static X509Certificate certificate(String field, ByteString der) throws InvalidRequestException {
        if (der.size() > MAX_DER_BYTES) {
            throw new InvalidRequestException(field, MAX_DER_BYTES_TEXT);
        }
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der.toByteArray()));
        } catch (CertificateException | RuntimeException e) {
            throw new InvalidRequestException(field, INVALID_CERTIFICATE);
        }
    }

    private static PublicKey publicKey(String field, ByteString der) throws InvalidRequestException {
        if (der.isEmpty()) {
            throw new InvalidRequestException(field, EntryValidator.REQUIRED);
        }
        if (der.size() > MAX_DER_BYTES) {
            throw new InvalidRequestException(field, MAX_DER_BYTES_TEXT);
        }
        for (String algorithm : List.of("EC", "RSA")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der.toByteArray()));
            } catch (java.security.GeneralSecurityException | RuntimeException e) {
                // Try the next algorithm: the DER names its own, and only one factory accepts it.
            }
        }
        throw new InvalidRequestException(field, INVALID_PUBLIC_KEY);
    }

    // Local authorities

    static AuthorityState toProto(X509AuthorityRecord record) {
        return AuthorityState.newBuilder()
                .setAuthorityId(record.authorityId())
                .setExpiresAt(record.notAfter().getEpochSecond())
                .setState(record.state().journalName())
                .setTainted(record.tainted())
                .setSlot(record.slotId())
                .build();
    }

    static AuthorityState toProto(JwtAuthorityRecord record) {
        return AuthorityState.newBuilder()
                .setAuthorityId(record.keyId())
                .setExpiresAt(record.notAfter().getEpochSecond())
                .setState(record.state().journalName())
                .setTainted(record.tainted())
                .setSlot(record.slotId())
                .build();
    }
}
