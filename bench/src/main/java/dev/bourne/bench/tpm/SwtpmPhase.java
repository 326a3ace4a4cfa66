package dev.bourne.bench.tpm;

import dev.bourne.api.tpm.v1.TpmChallenge;
import dev.bourne.api.tpm.v1.TpmChallengeResponse;
import dev.bourne.bench.workload.Latencies;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.tpm.agent.AgentTpm;
import dev.bourne.tpm.agent.AkType;
import dev.bourne.tpm.agent.TpmAgentAttestor;
import dev.bourne.tpm.agent.TpmAgentSettings;
import dev.bourne.tpm.server.EkCaStore;
import dev.bourne.tpm.server.TpmEnrollment;
import dev.bourne.tpm.server.TpmServerAttestor;
import dev.bourne.tpm.server.TpmServerSettings;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import tss.Tpm;
import tss.tpm.StartAuthSessionResponse;
import tss.tpm.TPMS_ID_OBJECT;
import tss.tpm.TPMS_NULL_SIG_SCHEME;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMT_SYM_DEF;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;
import tss.tpm.TPM_SE;

/**
 * The part of the TPM suite that needs the TPM: against one swtpm, for each AK type, runs full attestations through
 * the agent's real code ({@link AgentTpm}, {@link TpmAgentAttestor}) answering challenges made by the real server
 * ({@link TpmServerAttestor}), timing the agent's side, and records them for the server measurements; then times the
 * raw TPM commands the agent cannot avoid (TPM2_Quote, the credential activation sequence, TPM2_PCR_Read) through
 * TSS.Java directly: the agent's limit. Every recorded session is verified once by the server here, so the server
 * measurements start from evidence known to be good.
 */
final class SwtpmPhase {
    /** The AK handles the benchmark persists in its (throw-away) swtpm, one per AK type. */
    static final Map<AkType, Integer> AK_HANDLES = Map.of(AkType.ECC_P256, TpmAgentSettings.DEFAULT_AK_HANDLE,
            AkType.RSA_2048, TpmAgentSettings.DEFAULT_AK_HANDLE + 1);
    /** The quote selection of the server's defaults (sha256 bank, PCRs 0-7). */
    static final int[] QUOTE_PCRS = TpmServerSettings.DEFAULT_QUOTE_PCRS.stream().mapToInt(Integer::intValue)
            .toArray();
    /** Untimed attestations before the timed ones, per AK type. */
    static final int WARMUP = 5;
    private static final int SCRIPT_BYTES = TpmServerAttestor.SECRET_BYTES + TpmServerAttestor.NONCE_BYTES;

    /** The agent-side latency rows, in report order, and what each AK type left for the server measurements. */
    record Result(Map<String, Latencies> latencies, Map<AkType, Recording> recordings) {
    }

    private final Swtpm swtpm;
    private final Path noEventLog;
    private final SecureRandom random = new SecureRandom();

    /**
     * @param swtpm a running swtpm, disconnected (one client at a time: the agent connects on its own)
     * @param scratch a directory without an event log file: swtpm has no firmware, so the agent sends none
     */
    SwtpmPhase(Swtpm swtpm, Path scratch) {
        this.swtpm = swtpm;
        this.noEventLog = scratch.resolve("no-binary_bios_measurements");
    }

    /**
     * @param samples attestations (and each raw command) timed per AK type
     * @param coldSamples first attestations after opening the TPM, per AK type
     */
    Result run(int samples, int coldSamples) throws Exception {
        Map<String, Latencies> latencies = new LinkedHashMap<>();
        Map<AkType, Recording> recordings = new LinkedHashMap<>();
        for (AkType type : List.of(AkType.ECC_P256, AkType.RSA_2048)) {
            recordings.put(type, agentSide(type, samples, coldSamples, latencies));
            rawCommands(type, recordings.get(type), samples, latencies);
        }
        return new Result(latencies, recordings);
    }

    private TpmAgentSettings agentSettings(AkType type) {
        return TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort()).withAk(AK_HANDLES.get(type), type)
                .withEventLogPath(noEventLog);
    }

    /** The recording server: enrolled EK, no PCR policy (policies are built afterwards from what the TPM quoted). */
    private static TpmServerAttestor recordingServer(String ekHash, ScriptedRandom scripted) {
        TpmEnrollment enrollment = new TpmEnrollment(ekHash, new TreeMap<>(), Optional.empty(), Optional.empty(),
                Clock.systemUTC().instant(), Optional.empty());
        return new TpmServerAttestor(TpmServerSettings.defaults(), EkCaStore.of(List.of(),
                Clock.systemUTC()), hash -> hash.equals(ekHash) ? Optional.of(enrollment) : Optional.empty(),
                Clock.systemUTC(), scripted);
    }

    private Recording agentSide(AkType type, int samples, int coldSamples, Map<String, Latencies> latencies)
            throws Exception {
        String label = akLabel(type);
        List<Recording.Session> sessions = new ArrayList<>();
        List<Recording.Renewal> renewals = new ArrayList<>();
        long[] attest = new long[samples];
        long[] renew = new long[samples];
        long[] cold = new long[coldSamples];
        Map<Integer, byte[]> pcrValues;
        byte[] payload;
        String ekHash;
        byte[] akPublic;
        ScriptedRandom scripted = new ScriptedRandom(random);
        try (AgentTpm tpm = AgentTpm.open(agentSettings(type))) {
            TpmAgentAttestor agent = new TpmAgentAttestor(tpm);
            payload = agent.payload(); // creates and persists the AK on first use: not timed
            ekHash = tpm.endorsementKey().ekHash();
            akPublic = tpm.akPublic();
            TpmServerAttestor server = recordingServer(ekHash, scripted);
            for (int i = 0; i < WARMUP; i++) { // the agent code's first runs (class loading, JIT): not timed
                scripted.script(randomBytes(SCRIPT_BYTES));
                TpmServerAttestor.Pending pending = server.begin(agent.payload());
                server.finish(pending, agent.answer(pending.challenge()));
            }
            byte[] firstResponse = null;
            for (int i = 0; i < samples; i++) {
                byte[] script = randomBytes(SCRIPT_BYTES);
                scripted.script(script);
                long t0 = System.nanoTime();
                byte[] sent = agent.payload();
                long t1 = System.nanoTime();
                TpmServerAttestor.Pending pending = server.begin(sent);
                if (!scripted.scriptConsumed()) {
                    throw new IllegalStateException("the server did not draw the scripted secret and nonce");
                }
                long t2 = System.nanoTime();
                byte[] response = agent.answer(pending.challenge());
                long t3 = System.nanoTime();
                attest[i] = (t1 - t0) + (t3 - t2);
                server.finish(pending, response); // every recorded session is good
                sessions.add(new Recording.Session(script, response));
                firstResponse = firstResponse == null ? response : firstResponse;

                TpmServerAttestor.RenewalPending renewal = server.renewalChallenge(ekHash, akPublic);
                long t4 = System.nanoTime();
                byte[] evidence = agent.renewalEvidence(renewal.challenge());
                renew[i] = System.nanoTime() - t4;
                server.verifyRenewal(renewal, evidence);
                renewals.add(new Recording.Renewal(renewal.challenge(), evidence));
            }
            pcrValues = pcrValues(firstResponse);
        }
        // A first attestation after the agent starts: the TPM opened, the EK certificate read from NV, the EK and the
        // persistent AK read back, then the same payload and answer.
        TpmServerAttestor server = recordingServer(ekHash, scripted);
        for (int i = 0; i < coldSamples; i++) {
            long t0 = System.nanoTime();
            try (AgentTpm tpm = AgentTpm.open(agentSettings(type))) {
                TpmAgentAttestor agent = new TpmAgentAttestor(tpm);
                byte[] sent = agent.payload();
                long t1 = System.nanoTime();
                TpmServerAttestor.Pending pending = server.begin(sent);
                long t2 = System.nanoTime();
                byte[] response = agent.answer(pending.challenge());
                long t3 = System.nanoTime();
                cold[i] = (t1 - t0) + (t3 - t2);
                server.finish(pending, response);
            }
        }
        latencies.put("agent: attestation, TPM open (payload + answer: ActivateCredential, PCR reads, Quote), "
                + label, new Latencies(attest));
        latencies.put("agent: first attestation after start (open, EK certificate from NV, EK and AK read, payload,"
                + " answer), " + label, new Latencies(cold));
        latencies.put("agent: renewal evidence (PCR reads, Quote), " + label, new Latencies(renew));
        return new Recording(type.configName(), payload, ekHash, akPublic, sessions, renewals, pcrValues);
    }

    /** The TPM commands alone, through TSS.Java on the fixture's TCP_NODELAY connection: the agent's limit. */
    private void rawCommands(AkType type, Recording recording, int samples, Map<String, Latencies> latencies)
            throws Exception {
        String label = akLabel(type);
        ScriptedRandom scripted = new ScriptedRandom(random);
        TpmServerAttestor server = recordingServer(recording.ekHash, scripted);
        // Challenges made beforehand: the server's time is not the TPM's.
        List<byte[]> scripts = new ArrayList<>();
        List<TpmChallenge> challenges = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            byte[] script = randomBytes(SCRIPT_BYTES);
            scripted.script(script);
            challenges.add(TpmChallenge.parseFrom(server.begin(recording.payload).challenge()));
            scripts.add(script);
        }
        long[] quote = new long[samples];
        long[] activation = new long[samples];
        long[] activateOnly = new long[samples];
        long[] pcrRead = new long[samples];
        Tpm tpm = swtpm.tpm();
        try {
            TPM_HANDLE ak = new TPM_HANDLE(AK_HANDLES.get(type));
            TPM_HANDLE ek = new TPM_HANDLE(AgentTpm.RSA_EK_HANDLE);
            TPMS_PCR_SELECTION[] selection = selection(QUOTE_PCRS);
            for (int i = 0; i < samples; i++) {
                byte[] nonce = randomBytes(TpmServerAttestor.NONCE_BYTES);
                long t0 = System.nanoTime();
                tpm.Quote(ak, nonce, new TPMS_NULL_SIG_SCHEME(), selection);
                quote[i] = System.nanoTime() - t0;

                long t1 = System.nanoTime();
                tpm.PCR_Read(selection);
                pcrRead[i] = System.nanoTime() - t1;

                TpmChallenge challenge = challenges.get(i);
                byte[] blob = challenge.getCredentialBlob().toByteArray();
                int hmacSize = ((blob[0] & 0xff) << 8) | (blob[1] & 0xff);
                TPMS_ID_OBJECT idObject = new TPMS_ID_OBJECT(Arrays.copyOfRange(blob, 2, 2 + hmacSize),
                        Arrays.copyOfRange(blob, 2 + hmacSize, blob.length));
                byte[] encryptedSecret = challenge.getEncryptedSecret().toByteArray();
                long t2 = System.nanoTime();
                StartAuthSessionResponse session = tpm.StartAuthSession(TPM_HANDLE.from(TPM_RH.NULL),
                        TPM_HANDLE.from(TPM_RH.NULL), new byte[32], new byte[0], TPM_SE.POLICY,
                        new TPMT_SYM_DEF(TPM_ALG_ID.NULL, 0, TPM_ALG_ID.NULL), TPM_ALG_ID.SHA256);
                tpm.PolicySecret(TPM_HANDLE.from(TPM_RH.ENDORSEMENT), session.handle, new byte[0], new byte[0],
                        new byte[0], 0);
                long t3 = System.nanoTime();
                byte[] secret = tpm._withSessions(TPM_HANDLE.pwSession(new byte[0]), session.handle)
                        .ActivateCredential(ak, ek, idObject, encryptedSecret);
                long t4 = System.nanoTime();
                tpm.FlushContext(session.handle);
                activation[i] = System.nanoTime() - t2;
                activateOnly[i] = t4 - t3;
                if (!Arrays.equals(secret, Arrays.copyOf(scripts.get(i), TpmServerAttestor.SECRET_BYTES))) {
                    throw new IllegalStateException("raw ActivateCredential recovered another secret");
                }
            }
        } finally {
            swtpm.disconnect();
        }
        latencies.put("raw TPM2_Quote, PCRs 0-7, " + label, new Latencies(quote));
        latencies.put("raw credential activation (StartAuthSession, PolicySecret, ActivateCredential, "
                + "FlushContext), RSA-2048 EK, " + label, new Latencies(activation));
        latencies.put("raw TPM2_ActivateCredential alone, " + label, new Latencies(activateOnly));
        latencies.put("raw TPM2_PCR_Read, PCRs 0-7, " + label, new Latencies(pcrRead));
    }

    static String akLabel(AkType type) {
        return type == AkType.ECC_P256 ? "ECC P-256 AK" : "RSA-2048 AK";
    }

    private static TPMS_PCR_SELECTION[] selection(int[] pcrs) {
        byte[] bitmap = new byte[3];
        for (int index : pcrs) {
            bitmap[index / 8] |= (byte) (1 << (index % 8));
        }
        return new TPMS_PCR_SELECTION[] {new TPMS_PCR_SELECTION(TPM_ALG_ID.SHA256, bitmap)};
    }

    private static Map<Integer, byte[]> pcrValues(byte[] response) throws Exception {
        Map<Integer, byte[]> values = new TreeMap<>();
        TpmChallengeResponse.parseFrom(response).getQuote().getPcrValuesMap()
                .forEach((index, value) -> values.put(index, value.toByteArray()));
        return values;
    }

    private byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }
}
