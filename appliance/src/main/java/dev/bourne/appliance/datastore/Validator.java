package dev.bourne.appliance.datastore;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.tpm.common.EkHash;
import dev.bourne.tpm.server.TpmEnrollment;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The datastore's input checks; each failure names the field and gives a {@link Limits} reason. */
final class Validator {
    static final String PEM_BEGIN = "-----BEGIN CERTIFICATE-----\n";
    static final String PEM_END = "-----END CERTIFICATE-----";

    private Validator() {
    }

    static String entryId(String field, String id) throws InvalidArgumentException {
        if (id == null || id.isEmpty()) {
            throw new InvalidArgumentException(field, Limits.REQUIRED);
        }
        if (id.length() > Limits.MAX_ENTRY_ID_LENGTH) {
            throw new InvalidArgumentException(field, Limits.ENTRY_ID_INVALID);
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                    || c == '_' || c == '.' || c == '~';
            if (!ok) {
                throw new InvalidArgumentException(field, Limits.ENTRY_ID_INVALID);
            }
        }
        return id;
    }

    static void spiffeId(String field, SpiffeId id, boolean requirePath) throws InvalidArgumentException {
        if (id == null) {
            throw new InvalidArgumentException(field, Limits.REQUIRED);
        }
        // SpiffeId enforces this already; checked again because it sizes a database column.
        if (id.toString().getBytes(StandardCharsets.UTF_8).length > Limits.MAX_SPIFFE_ID_BYTES) {
            throw new InvalidArgumentException(field, Limits.SPIFFE_ID_TOO_LONG);
        }
        if (requirePath && id.isTrustDomainId()) {
            throw new InvalidArgumentException(field, Limits.SPIFFE_ID_NO_PATH);
        }
    }

    static void selectors(String field, List<Selector> selectors, boolean required) throws InvalidArgumentException {
        if (required && selectors.isEmpty()) {
            throw new InvalidArgumentException(field, Limits.SELECTORS_EMPTY);
        }
        if (selectors.size() > Limits.MAX_SELECTORS) {
            throw new InvalidArgumentException(field, Limits.TOO_MANY_SELECTORS);
        }
    }

    static void selectorMatch(String field, Optional<SelectorMatch> match) throws InvalidArgumentException {
        if (match.isPresent()) {
            selectors(field, match.get().selectors(), true);
        }
    }

    static void ttl(String field, Duration ttl) throws InvalidArgumentException {
        if (ttl.isNegative()) {
            throw new InvalidArgumentException(field, Limits.TTL_NEGATIVE);
        }
        if (ttl.compareTo(Limits.MAX_TTL) > 0) {
            throw new InvalidArgumentException(field, Limits.TTL_TOO_LONG);
        }
        if (ttl.getNano() != 0) {
            throw new InvalidArgumentException(field, Limits.TTL_SUBSECOND);
        }
    }

    static void dnsNames(List<String> names) throws InvalidArgumentException {
        if (names.size() > Limits.MAX_DNS_NAMES) {
            throw new InvalidArgumentException("dns_names", Limits.TOO_MANY_DNS_NAMES);
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < names.size(); i++) {
            String field = "dns_names[" + i + "]";
            String name = names.get(i);
            if (name == null || name.isEmpty()) {
                throw new InvalidArgumentException(field, Limits.REQUIRED);
            }
            if (name.length() > Limits.MAX_DNS_NAME_LENGTH) {
                throw new InvalidArgumentException(field, Limits.DNS_NAME_TOO_LONG);
            }
            if (!Limits.isDnsName(name)) {
                throw new InvalidArgumentException(field, Limits.DNS_NAME_INVALID);
            }
            if (!seen.add(name.toLowerCase(Locale.ROOT))) {
                throw new InvalidArgumentException(field, Limits.DNS_NAME_DUPLICATE);
            }
        }
    }

    static void federatesWith(List<TrustDomain> domains) throws InvalidArgumentException {
        if (domains.size() > Limits.MAX_FEDERATES_WITH) {
            throw new InvalidArgumentException("federates_with", Limits.TOO_MANY_FEDERATES_WITH);
        }
    }

    static void hint(String hint) throws InvalidArgumentException {
        if (hint.length() > Limits.MAX_HINT_LENGTH) {
            throw new InvalidArgumentException("hint", Limits.HINT_TOO_LONG);
        }
        noControlCharacters("hint", hint);
    }

    static void noControlCharacters(String field, String value) throws InvalidArgumentException {
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                // A newline or escape in a stored string would forge lines in logs and CLI output.
                throw new InvalidArgumentException(field, Limits.CONTROL_CHARACTER);
            }
        }
    }

    static void entry(RegistrationEntry entry) throws InvalidArgumentException {
        spiffeId("spiffe_id", entry.spiffeId(), true);
        spiffeId("parent_id", entry.parentId(), false);
        selectors("selectors", entry.selectors(), true);
        ttl("x509_svid_ttl", entry.x509SvidTtl());
        ttl("jwt_svid_ttl", entry.jwtSvidTtl());
        federatesWith(entry.federatesWith());
        dnsNames(entry.dnsNames());
        hint(entry.hint());
    }

    static void attestationType(String type) throws InvalidArgumentException {
        if (type.isEmpty() || type.length() > Limits.MAX_ATTESTATION_TYPE_LENGTH) {
            throw new InvalidArgumentException("attestation_data_type", Limits.ATTESTATION_TYPE_INVALID);
        }
        for (int i = 0; i < type.length(); i++) {
            char c = type.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
                throw new InvalidArgumentException("attestation_data_type", Limits.ATTESTATION_TYPE_INVALID);
            }
        }
    }

    static void certificate(String field, Optional<NodeCertificate> certificate) throws InvalidArgumentException {
        if (certificate.isEmpty()) {
            return;
        }
        String serial = certificate.get().serialNumber();
        if (serial.isEmpty() || serial.length() > Limits.MAX_SERIAL_NUMBER_LENGTH) {
            throw new InvalidArgumentException(field, Limits.SERIAL_NUMBER_INVALID);
        }
        for (int i = 0; i < serial.length(); i++) {
            if (serial.charAt(i) < '0' || serial.charAt(i) > '9') {
                throw new InvalidArgumentException(field, Limits.SERIAL_NUMBER_INVALID);
            }
        }
    }

    static void node(AttestedNode node) throws InvalidArgumentException {
        spiffeId("spiffe_id", node.spiffeId(), true);
        attestationType(node.attestationDataType());
        certificate("cert_serial_number", node.certificate());
        certificate("new_cert_serial_number", node.newCertificate());
        selectors("selectors", node.selectors(), false);
    }

    static void printableAscii(String field, String value, int maxLength, String reason)
            throws InvalidArgumentException {
        if (value == null || value.isEmpty() || value.length() > maxLength) {
            throw new InvalidArgumentException(field, reason);
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw new InvalidArgumentException(field, reason);
            }
        }
    }

    static void joinToken(String token) throws InvalidArgumentException {
        printableAscii("join_token", token, Limits.MAX_JOIN_TOKEN_LENGTH, Limits.JOIN_TOKEN_INVALID);
    }

    static void serverId(String serverId) throws InvalidArgumentException {
        printableAscii("server_id", serverId, Limits.MAX_SERVER_ID_LENGTH, Limits.SERVER_ID_INVALID);
    }

    static String ekHash(String ekHash) throws InvalidArgumentException {
        try {
            return EkHash.parse(ekHash);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException("ek_hash", EkHash.MALFORMED);
        }
    }

    static void tpmEnrollment(TpmEnrollment enrollment) throws InvalidArgumentException {
        Map<String, String> labels = enrollment.labels();
        if (labels.size() > Limits.MAX_TPM_LABELS) {
            throw new InvalidArgumentException("labels", Limits.TOO_MANY_TPM_LABELS);
        }
        for (Map.Entry<String, String> label : labels.entrySet()) {
            if (!Limits.isTpmLabelKey(label.getKey())) {
                // The key is not quoted: it may hold characters that forge output.
                throw new InvalidArgumentException("labels", Limits.TPM_LABEL_KEY_INVALID);
            }
            if (!Limits.isTpmLabelValue(label.getValue())) {
                throw new InvalidArgumentException("labels." + label.getKey(), Limits.TPM_LABEL_VALUE_INVALID);
            }
        }
        if (enrollment.pcrPolicy().isPresent() && !Limits.isPcrPolicyName(enrollment.pcrPolicy().get())) {
            throw new InvalidArgumentException("pcr_policy", Limits.PCR_POLICY_NAME_INVALID);
        }
        if (enrollment.ekCertificatePem().isPresent()) {
            String pem = enrollment.ekCertificatePem().get();
            if (pem.length() > Limits.MAX_EK_CERTIFICATE_PEM_LENGTH || !pem.startsWith(PEM_BEGIN)
                    || !pem.stripTrailing().endsWith(PEM_END) || pem.indexOf(PEM_BEGIN, 1) >= 0) {
                throw new InvalidArgumentException("ek_certificate", Limits.EK_CERTIFICATE_PEM_INVALID);
            }
            for (int i = 0; i < pem.length(); i++) {
                char c = pem.charAt(i);
                if (c != '\n' && (c < 0x20 || c > 0x7e)) {
                    throw new InvalidArgumentException("ek_certificate", Limits.EK_CERTIFICATE_PEM_INVALID);
                }
            }
        }
    }

    static void akBinding(byte[] akPublic, byte[] akName) throws InvalidArgumentException {
        if (akPublic == null || akPublic.length == 0 || akPublic.length > Limits.MAX_AK_PUBLIC_BYTES) {
            throw new InvalidArgumentException("ak_public", Limits.AK_PUBLIC_INVALID);
        }
        if (akName == null || akName.length < Limits.MIN_AK_NAME_BYTES || akName.length > Limits.MAX_AK_NAME_BYTES) {
            throw new InvalidArgumentException("ak_name", Limits.AK_NAME_INVALID);
        }
    }

    static void iidJti(String issuer, String jti, Instant expiresAt) throws InvalidArgumentException {
        noControls("issuer", issuer, Limits.MAX_IID_ISSUER_LENGTH, Limits.IID_ISSUER_INVALID);
        noControls("jti", jti, Limits.MAX_IID_JTI_LENGTH, Limits.IID_JTI_INVALID);
        if (expiresAt == null) {
            throw new InvalidArgumentException("expires_at", "is required");
        }
    }

    private static void noControls(String field, String value, int maxLength, String problem)
            throws InvalidArgumentException {
        if (value == null || value.isEmpty() || value.length() > maxLength) {
            throw new InvalidArgumentException(field, problem);
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                throw new InvalidArgumentException(field, problem);
            }
        }
    }

    /** The key after which the requested page starts, or null for the first page. */
    static String pageStart(PageRequest page) throws InvalidArgumentException {
        if (page.pageSize() < 0 || page.pageSize() > Limits.MAX_PAGE_SIZE) {
            throw new InvalidArgumentException("page_size", Limits.PAGE_SIZE_INVALID);
        }
        if (page.pageToken().isEmpty() || page.pageToken().get().isEmpty()) {
            return null;
        }
        String token = page.pageToken().get();
        if (token.length() > Limits.MAX_PAGE_TOKEN_LENGTH) {
            throw new InvalidArgumentException("page_token", Limits.PAGE_TOKEN_INVALID);
        }
        try {
            byte[] bytes = Base64.getUrlDecoder().decode(token);
            String key = new String(bytes, StandardCharsets.UTF_8);
            if (key.isEmpty() || !pageToken(key).equals(token)) {
                throw new InvalidArgumentException("page_token", Limits.PAGE_TOKEN_INVALID);
            }
            return key;
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException("page_token", Limits.PAGE_TOKEN_INVALID);
        }
    }

    static String pageToken(String lastKey) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(lastKey.getBytes(StandardCharsets.UTF_8));
    }
}
