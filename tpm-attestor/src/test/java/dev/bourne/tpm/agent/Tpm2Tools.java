package dev.bourne.tpm.agent;

import dev.bourne.testing.Exec;
import dev.bourne.testing.RequiredTool;
import dev.bourne.testing.tpm.Swtpm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import tss.Tpm;
import tss.tpm.GetCapabilityResponse;
import tss.tpm.TPML_HANDLE;
import tss.tpm.TPM_CAP;

/**
 * tpm2-tools as an independent oracle against a test's swtpm, and helpers to open {@link AgentTpm} on it. swtpm serves
 * one client at a time: every helper disconnects the fixture's own Java connection first, and callers close their
 * AgentTpm before running a tool.
 */
final class Tpm2Tools {

    private final Swtpm swtpm;
    private final Path directory;

    Tpm2Tools(Swtpm swtpm, Path directory) {
        this.swtpm = swtpm;
        this.directory = directory;
    }

    /** The defaults on this swtpm's data port. */
    static TpmAgentSettings settings(Swtpm swtpm) {
        return TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort());
    }

    /** An AgentTpm on the swtpm, after releasing the fixture's own connection. */
    static AgentTpm open(Swtpm swtpm, TpmAgentSettings settings) throws AgentTpmException {
        swtpm.disconnect();
        return AgentTpm.open(settings);
    }

    Path file(String name) {
        return directory.resolve(name);
    }

    /** Runs a tpm2-tools program against the swtpm; fails the test on a non-zero exit. */
    Exec.Result run(String... command) {
        return runAllowingFailure(command).requireSuccess();
    }

    Exec.Result runAllowingFailure(String... command) {
        swtpm.disconnect();
        List<String> full = new ArrayList<>(Arrays.asList(command));
        full.set(0, tool(command[0]));
        return Exec.run(full, Map.of("TPM2TOOLS_TCTI", swtpm.tcti()), Duration.ofSeconds(60));
    }

    /** A program from the tpm2-tools package (openssl too), located like RequiredTool does. */
    private static String tool(String name) {
        RequiredTool.TPM2_GETCAP.path(); // fails with the package name when tpm2-tools is missing
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/bin")) {
            Path candidate = Path.of(dir, name);
            if (java.nio.file.Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IllegalStateException(name + " is not installed (Debian package tpm2-tools or openssl)");
    }

    /** Transient objects and loaded sessions on the TPM, read through the fixture's own connection. */
    static List<Integer> loadedHandles(Swtpm swtpm) {
        Tpm tpm = swtpm.tpm();
        List<Integer> handles = new ArrayList<>();
        for (int first : new int[] {0x80000000, 0x02000000, 0x03000000}) {
            GetCapabilityResponse answer = tpm.GetCapability(TPM_CAP.HANDLES, first, 64);
            for (var handle : ((TPML_HANDLE) answer.capabilityData).handle) {
                if ((handle.handle >>> 24) == (first >>> 24)) {
                    handles.add(handle.handle);
                }
            }
        }
        swtpm.disconnect();
        return handles;
    }

    /**
     * The PCR file tpm2_quote writes and tpm2_checkquote reads (tpm2-tools 5.x): the C structs as laid out in memory
     * on x86-64, little-endian: TPML_PCR_SELECTION (count, 16 x {hash, sizeofSelect, pcrSelect[4], pad}), a uint32
     * number of TPML_DIGESTs, then each TPML_DIGEST (count, 8 x {size, buffer[64]}).
     */
    static byte[] checkquotePcrFile(int hashAlg, SortedMap<Integer, byte[]> values) {
        if (values.size() > 8) {
            throw new IllegalArgumentException("this helper writes one TPML_DIGEST: at most 8 PCRs");
        }
        ByteBuffer out = ByteBuffer.allocate(4 + 16 * 8 + 4 + 4 + 8 * 66).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(1);
        byte[] select = new byte[4];
        values.keySet().forEach(pcr -> select[pcr / 8] |= (byte) (1 << (pcr % 8)));
        out.putShort((short) hashAlg).put((byte) 3).put(select).put((byte) 0);
        out.position(4 + 16 * 8);
        out.putInt(1);
        out.putInt(values.size());
        for (byte[] value : values.values()) {
            int start = out.position();
            out.putShort((short) value.length).put(value);
            out.position(start + 66);
        }
        return out.array();
    }

    /** What tpm2_makecredential produced: TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET contents. */
    record Credential(byte[] blob, byte[] encryptedSecret) {
    }

    /**
     * {@code tpm2_makecredential -T none} offline against the RSA EK's PEM; its output file is magic 0xBADCC0DE,
     * version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET (all big-endian).
     */
    Credential makeCredential(byte[] name, byte[] secret) throws java.io.IOException {
        run("tpm2_readpublic", "-c", "0x81010001", "-f", "pem", "-o", file("ek.pem").toString());
        java.nio.file.Files.write(file("secret"), secret);
        run("tpm2_makecredential", "-T", "none", "-u", file("ek.pem").toString(), "-G", "rsa", "-s",
                file("secret").toString(), "-n", java.util.HexFormat.of().formatHex(name), "-o",
                file("credential").toString());
        ByteBuffer in = ByteBuffer.wrap(java.nio.file.Files.readAllBytes(file("credential")));
        if (in.getInt() != 0xBADCC0DE || in.getInt() != 1) {
            throw new IllegalStateException("unexpected tpm2_makecredential output header");
        }
        byte[] blob = new byte[Short.toUnsignedInt(in.getShort())];
        in.get(blob);
        byte[] encrypted = new byte[Short.toUnsignedInt(in.getShort())];
        in.get(encrypted);
        if (in.hasRemaining()) {
            throw new IllegalStateException("trailing bytes in tpm2_makecredential output");
        }
        return new Credential(blob, encrypted);
    }

    /** TPM2B_NAME contents of a public area with a SHA-256 name: 0x000B || SHA-256(TPMT_PUBLIC). */
    static byte[] name(byte[] publicArea) {
        try {
            return ByteBuffer.allocate(34).putShort((short) 0x000b)
                    .put(java.security.MessageDigest.getInstance("SHA-256").digest(publicArea)).array();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
