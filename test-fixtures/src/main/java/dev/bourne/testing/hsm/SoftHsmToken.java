package dev.bourne.testing.hsm;

import java.io.IOException;
import java.nio.file.Path;
import java.security.AuthProvider;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;

/**
 * One initialised SoftHSM2 token leased to one test class: its label, its slot, its user PIN and a SunPKCS11 provider
 * logged in to it.
 *
 * <p>Tokens come from the JVM's {@link SoftHsmPool}, because SoftHSM2 only sees tokens that existed when this JVM first
 * initialised the library. A token is never handed out twice, so a test class sees only the keys it made.
 *
 * <p>The provider is configured for this token's slot only and never registered with {@link Security#addProvider}:
 * pass it to {@code getInstance(algorithm, provider)}, as production code does with its own SunPKCS11 instance. Its
 * generation template makes private keys sensitive and never extractable, as in production; without it SoftHSM2 makes
 * keys readable in clear (FIELD-NOTES.md).
 *
 * <p>Holds a PIN, so {@link #toString()} is redacted and equality is identity.
 */
public final class SoftHsmToken {

    private final String label;
    private final long slot;
    private final char[] pin;
    private final Path pinFile;
    private final Path library;
    private final Path conf;
    private Provider provider;
    private KeyStore keyStore;
    private boolean released;

    SoftHsmToken(String label, long slot, char[] pin, Path pinFile, Path library, Path conf) {
        this.label = label;
        this.slot = slot;
        this.pin = pin.clone();
        this.pinFile = pinFile;
        this.library = library;
        this.conf = conf;
    }

    /** The token label, {@code bourne-test-<run>-<n>}, unique to this JVM's pool. */
    public String label() {
        return label;
    }

    /** The PKCS#11 slot id holding the token, resolved by label after initialisation (SoftHSM2 reassigns it). */
    public long slot() {
        return slot;
    }

    /** A copy of the user PIN; wipe it after use. */
    public char[] pin() {
        return pin.clone();
    }

    /**
     * A file holding the user PIN and nothing else (no newline), mode 0600 in a 0700 directory, for code under test that
     * reads its PIN from a file, as the appliance does.
     */
    public Path pinFile() {
        return pinFile;
    }

    /** The absolute path of {@code libsofthsm2.so}, the same for every token of the JVM. */
    public Path library() {
        return library;
    }

    /** The SoftHSM2 configuration file of this JVM ({@code SOFTHSM2_CONF}). */
    public Path conf() {
        return conf;
    }

    /**
     * The SunPKCS11 configuration text for this token (without the leading {@code --} that
     * {@link Provider#configure(String)} needs for inline text). Private keys generated through it are token objects,
     * private, sensitive, never extractable and can sign (inside the token only).
     */
    public String sunPkcs11Config() {
        return "name = " + label + "\n"
                + "library = " + library + "\n"
                + "slot = " + slot + "\n"
                + "attributes(generate, CKO_PRIVATE_KEY, *) = {\n"
                + "  CKA_TOKEN = true\n"
                + "  CKA_PRIVATE = true\n"
                + "  CKA_SENSITIVE = true\n"
                + "  CKA_EXTRACTABLE = false\n"
                + "  CKA_SIGN = true\n"
                + "}\n"
                + "attributes(generate, CKO_PUBLIC_KEY, *) = {\n"
                + "  CKA_TOKEN = true\n"
                + "  CKA_VERIFY = true\n"
                + "}\n";
    }

    /**
     * A SunPKCS11 provider for this token, logged in with the user PIN; the same instance on every call. Never
     * registered globally.
     */
    public synchronized Provider provider() {
        login();
        return provider;
    }

    /** The token's PKCS#11 key store, loaded (logged in) through {@link #provider()}; the same instance on every call. */
    public synchronized KeyStore keyStore() {
        login();
        return keyStore;
    }

    private void login() {
        if (released) {
            throw new IllegalStateException("SoftHSM token " + label + " was released after its test class");
        }
        if (provider != null) {
            return;
        }
        Provider sunPkcs11 = Security.getProvider("SunPKCS11");
        if (sunPkcs11 == null) {
            throw new IllegalStateException("this JDK has no SunPKCS11 provider (module jdk.crypto.cryptoki)");
        }
        Provider configured = sunPkcs11.configure("--" + sunPkcs11Config());
        char[] pinCopy = pin();
        try {
            KeyStore store = KeyStore.getInstance("PKCS11", configured);
            store.load(null, pinCopy);
            keyStore = store;
            provider = configured;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot log in to SoftHSM token " + label + " in slot " + slot, e);
        } finally {
            Arrays.fill(pinCopy, '\0');
        }
    }

    /**
     * Logs out, forgets the provider and wipes the PIN held in memory; called by the pool when the token is deleted.
     * False when the token was already released.
     */
    synchronized boolean release() {
        if (released) {
            return false;
        }
        released = true;
        try {
            if (provider instanceof AuthProvider auth) {
                auth.logout();
            }
        } catch (javax.security.auth.login.LoginException e) {
            // The token is deleted right after this; a failed logout only means its session was already gone.
        } finally {
            provider = null;
            keyStore = null;
            Arrays.fill(pin, '\0');
        }
        return true;
    }

    @Override
    public String toString() {
        return "SoftHsmToken[label=" + label + ", slot=" + slot + ", pin=<redacted>]";
    }
}
