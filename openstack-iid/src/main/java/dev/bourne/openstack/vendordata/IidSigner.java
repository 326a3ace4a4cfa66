package dev.bourne.openstack.vendordata;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.openstack.common.IidClaims;
import dev.bourne.openstack.common.OpenStackIid;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Signs instance identity documents: a compact JWS (RFC 7515) whose protected header is {@code alg} (ES256, ES384 or
 * RS256, see {@link SigningKey}), {@code kid} (the signing key's thumbprint, found in the service's JWK set) and
 * {@code typ} = {@value OpenStackIid#JWS_TYPE} (so a verifier cannot mistake another JWT of ours for an IID), and whose
 * payload is {@link IidClaims#toJson()}.
 *
 * <p>{@code jti} is 128 random bits, base64url: enough that two documents never share one, which is what lets
 * verifiers refuse a replay by remembering the {@code jti}s they saw. {@code iat} is now (whole seconds) and
 * {@code exp} is {@code iat} plus the configured document lifetime.
 *
 * <p>Thread-safe.
 */
public final class IidSigner {
    /** Random bytes in a {@code jti}: 128 bits. */
    public static final int JTI_BYTES = 16;

    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final IidSigningKeys keys;
    private final String issuer;
    private final List<String> audience;
    private final Duration documentTtl;
    private final Clock clock;
    private final SecureRandom random;

    /**
     * @param issuer the {@code iss} of every document
     * @param audience the {@code aud} of every document
     * @param documentTtl {@code exp - iat}, whole seconds, at most {@link OpenStackIid#MAX_TTL}
     */
    public IidSigner(IidSigningKeys keys, String issuer, List<String> audience, Duration documentTtl, Clock clock,
            SecureRandom random) {
        this.keys = Objects.requireNonNull(keys, "keys");
        this.issuer = Objects.requireNonNull(issuer, "issuer");
        this.audience = List.copyOf(audience);
        this.documentTtl = Objects.requireNonNull(documentTtl, "documentTtl");
        if (documentTtl.getSeconds() < 1 || documentTtl.getNano() != 0
                || documentTtl.compareTo(OpenStackIid.MAX_TTL) > 0) {
            throw new IllegalArgumentException("documentTtl must be whole seconds from 1s to " + OpenStackIid.MAX_TTL);
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * Signs a document for the instance Nova described.
     *
     * @throws KeyManagerException when the key cannot sign now (see its subclasses for whether a retry helps)
     * @throws SigningKeysException when the keys were never loaded and their journal cannot be written
     */
    public SignedIid sign(VendordataRequest request) throws KeyManagerException, SigningKeysException {
        Objects.requireNonNull(request, "request");
        SigningKey key = keys.activeKey();
        Instant issuedAt = Instant.ofEpochSecond(clock.instant().getEpochSecond());
        IidClaims claims = new IidClaims(issuer, audience, newJti(), request.projectId(), request.instanceId(),
                request.imageId(), request.hostname(), request.metadata(), issuedAt, issuedAt.plus(documentTtl));

        Map<String, Object> header = new LinkedHashMap<>();
        header.put("alg", key.jwsAlgorithm().getName());
        header.put("kid", key.kid());
        header.put("typ", OpenStackIid.JWS_TYPE);
        String signingInput = encode(JSONObjectUtils.toJSONString(header)) + "."
                + encode(JSONObjectUtils.toJSONString(claims.toJson()));
        byte[] signature = key.sign(signingInput.getBytes(StandardCharsets.US_ASCII));
        return new SignedIid(signingInput + "." + BASE64URL.encodeToString(signature), claims, key.kid());
    }

    private String newJti() {
        byte[] bytes = new byte[JTI_BYTES];
        random.nextBytes(bytes);
        String jti = BASE64URL.encodeToString(bytes);
        Arrays.fill(bytes, (byte) 0);
        return jti;
    }

    private static String encode(String json) {
        return BASE64URL.encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }
}
