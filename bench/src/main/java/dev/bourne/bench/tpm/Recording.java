package dev.bourne.bench.tpm;

import java.util.List;
import java.util.Map;

/**
 * What one AK type's attestations through swtpm left behind, for the server measurements: the agent's payload, the
 * recorded sessions (each the 64 scripted random bytes the server drew for the credential secret and nonce, and the
 * agent's answer), the renewals (the challenge the server issued and the agent's evidence), and the PCR values the
 * TPM quoted (to build a PCR policy that matches). Benchmark data, not secrets: the sessions are spent.
 */
final class Recording {
    final String akType;
    final byte[] payload;
    final String ekHash;
    final byte[] akPublic;
    final List<Session> sessions;
    final List<Renewal> renewals;
    final Map<Integer, byte[]> pcrValues;

    Recording(String akType, byte[] payload, String ekHash, byte[] akPublic, List<Session> sessions,
            List<Renewal> renewals, Map<Integer, byte[]> pcrValues) {
        this.akType = akType;
        this.payload = payload;
        this.ekHash = ekHash;
        this.akPublic = akPublic;
        this.sessions = List.copyOf(sessions);
        this.renewals = List.copyOf(renewals);
        this.pcrValues = Map.copyOf(pcrValues);
    }

    /** One first attestation: the server's scripted secret and nonce, and the agent's TpmChallengeResponse. */
    static final class Session {
        final byte[] script;
        final byte[] response;

        Session(byte[] script, byte[] response) {
            this.script = script;
            this.response = response;
        }
    }

    /** One continuous-attestation renewal: the TpmRenewalChallenge as issued and the agent's TpmRenewalEvidence. */
    static final class Renewal {
        final byte[] challenge;
        final byte[] evidence;

        Renewal(byte[] challenge, byte[] evidence) {
            this.challenge = challenge;
            this.evidence = evidence;
        }
    }
}
