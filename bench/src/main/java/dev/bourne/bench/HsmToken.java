package dev.bourne.bench;

import dev.bourne.core.keymanager.KeyType;
import dev.bourne.testing.hsm.SoftHsmPool;
import dev.bourne.testing.hsm.SoftHsmToken;

/**
 * The SoftHSM2 token of one benchmark fork, leased from the fork's {@link SoftHsmPool} exactly as the tests lease
 * theirs: a real token in a private directory, with a SunPKCS11 provider whose generation template makes keys
 * sensitive and non-extractable. {@code bench/run} gives every fork its own {@code SOFTHSM2_CONF}.
 */
final class HsmToken {
    private HsmToken() {
    }

    static SoftHsmToken lease() {
        return SoftHsmPool.jvmPool().lease();
    }

    static void release(SoftHsmToken token) {
        if (token != null) {
            SoftHsmPool.jvmPool().release(token);
        }
    }

    static KeyType keyType(String configName) {
        return KeyType.fromConfigName(configName)
                .orElseThrow(() -> new IllegalArgumentException("unknown key type " + configName + "; known: "
                        + KeyType.allConfigNames()));
    }
}
