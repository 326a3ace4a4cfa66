package dev.bourne.bench.tpm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The scripted prefix is served exactly, across calls, then fresh bytes follow; a new script starts over. */
class ScriptedRandomTest {

    @Test
    void nextBytes_servesTheScriptThenFreshBytes() {
        ScriptedRandom random = new ScriptedRandom(new SecureRandom());
        byte[] script = new byte[40];
        Arrays.fill(script, (byte) 7);
        script[39] = 9;
        random.script(script);

        byte[] first = new byte[32];
        random.nextBytes(first);
        assertArrayEquals(Arrays.copyOf(script, 32), first);
        assertFalse(random.scriptConsumed());

        byte[] second = new byte[32];
        random.nextBytes(second);
        assertArrayEquals(Arrays.copyOfRange(script, 32, 40), Arrays.copyOf(second, 8));
        assertTrue(random.scriptConsumed());
        // 24 fresh bytes: all equal to the script's filler by chance with probability 2^-192.
        byte[] fresh = Arrays.copyOfRange(second, 8, 32);
        byte[] filler = new byte[24];
        Arrays.fill(filler, (byte) 7);
        assertFalse(Arrays.equals(filler, fresh));

        random.script(script);
        byte[] again = new byte[40];
        random.nextBytes(again);
        assertArrayEquals(script, again);
    }
}
