package dev.bourne.testing.hsm;

import java.util.List;
import java.util.Map;

/**
 * One object on a PKCS#11 token as {@code pkcs11-tool --list-objects} describes it: what it is, its label and id, and
 * the usage and access flags. Tests use it to check what a key really is on the token rather than what the JCA layer
 * says, for example that a private key is sensitive and never left the token.
 *
 * @param kind       the object kind before {@code Object;}, such as {@code Private Key}, {@code Public Key},
 *                   {@code Certificate}, {@code Secret Key}
 * @param type       the rest of the heading line, such as {@code EC} or {@code EC  EC_POINT 256 bits}
 * @param label      the {@code CKA_LABEL}, empty when the object has none
 * @param id         the {@code CKA_ID} in lowercase hex, empty when the object has none
 * @param usage      the {@code Usage:} flags, such as {@code sign}, {@code verify}
 * @param access     the {@code Access:} flags, such as {@code sensitive}, {@code always sensitive},
 *                   {@code never extractable}, {@code local}
 * @param attributes every {@code name: value} line of the object, in order
 */
public record Pkcs11Object(String kind, String type, String label, String id, List<String> usage,
        List<String> access, Map<String, String> attributes) {

    public Pkcs11Object {
        usage = List.copyOf(usage);
        access = List.copyOf(access);
        attributes = Map.copyOf(attributes);
    }

    public boolean isPrivateKey() {
        return kind.equals("Private Key");
    }

    public boolean isPublicKey() {
        return kind.equals("Public Key");
    }

    /** {@code CKA_SENSITIVE}: the token refuses to reveal the key value in clear. */
    public boolean sensitive() {
        return access.contains("sensitive");
    }

    /** {@code CKA_ALWAYS_SENSITIVE}: the key was sensitive from the moment it existed. */
    public boolean alwaysSensitive() {
        return access.contains("always sensitive");
    }

    /** {@code CKA_NEVER_EXTRACTABLE}: the key was never extractable, not even wrapped. */
    public boolean neverExtractable() {
        return access.contains("never extractable");
    }

    /** {@code CKA_LOCAL}: the key was generated on the token, not imported. */
    public boolean local() {
        return access.contains("local");
    }
}
