package dev.bourne.openstack.vendordata;

/**
 * The two KeyManager slots the signing service's keys live in. One signs; the other is empty, holds the next key
 * (published before it signs) or holds the previous key (published until the documents it signed have expired).
 */
public enum KeySlot {
    A("IID-Signer-A"),
    B("IID-Signer-B");

    private final String keyId;

    KeySlot(String keyId) {
        this.keyId = keyId;
    }

    /** The key's name in the KeyManager, such as {@code IID-Signer-A}. */
    public String keyId() {
        return keyId;
    }

    public KeySlot other() {
        return this == A ? B : A;
    }

    /** The slot whose KeyManager key ID is {@code keyId}. */
    public static KeySlot fromKeyId(String keyId) {
        for (KeySlot slot : values()) {
            if (slot.keyId.equals(keyId)) {
                return slot;
            }
        }
        throw new IllegalArgumentException("not a signing key slot: " + keyId);
    }
}
