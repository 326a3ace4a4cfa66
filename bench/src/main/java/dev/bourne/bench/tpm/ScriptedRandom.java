package dev.bourne.bench.tpm;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * A {@link SecureRandom} that first serves a scripted prefix, then fresh randomness from a real DRBG: what lets the
 * benchmark replay one recorded TPM attestation through the server many times with the TPM out of the loop.
 *
 * <p>{@code TpmServerAttestor.begin} draws the 32-byte credential secret, then the 32-byte quote nonce, then
 * MakeCredential's seed and padding. A session is recorded with a script of 64 fresh random bytes (secret and
 * nonce) and the agent's answer through swtpm; scripting the same 64 bytes before a later {@code begin} makes a new
 * pending challenge with that secret and nonce (the credential itself is encrypted afresh, with fresh randomness),
 * which the recorded answer satisfies. Benchmark only: a server that repeats a secret or nonce is broken by
 * definition.
 *
 * <p>Not thread-safe (one per measuring thread).
 */
final class ScriptedRandom extends SecureRandom {
    private static final long serialVersionUID = 1L;

    private final SecureRandom fresh;
    private byte[] script = new byte[0];
    private int position;

    ScriptedRandom(SecureRandom fresh) {
        this.fresh = fresh;
    }

    /** The next bytes drawn are these (a copy), then fresh ones. */
    void script(byte[] bytes) {
        script = bytes.clone();
        position = 0;
    }

    /** Whether the whole script was drawn: a check that the attestor used it as recorded. */
    boolean scriptConsumed() {
        return position == script.length;
    }

    @Override
    public void nextBytes(byte[] bytes) {
        int scripted = Math.min(bytes.length, script.length - position);
        System.arraycopy(script, position, bytes, 0, scripted);
        position += scripted;
        if (scripted < bytes.length) {
            byte[] rest = new byte[bytes.length - scripted];
            fresh.nextBytes(rest);
            System.arraycopy(rest, 0, bytes, scripted, rest.length);
            Arrays.fill(rest, (byte) 0);
        }
    }
}
