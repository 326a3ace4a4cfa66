package dev.bourne.agent.cli;

import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bourne.agent.files.PemFiles;
import dev.bourne.agent.runtime.AgentPlugins;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.tpm.agent.AgentTpm;
import dev.bourne.tpm.agent.AgentTpmException;
import dev.bourne.tpm.agent.EndorsementKey;
import dev.bourne.tpm.agent.TpmAgentSettings;
import dev.bourne.tpm.agent.TpmDevices;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bourne-agent tpm ...}: what a security team needs from a node's TPM to enrol it ({@code bourne-server tpm
 * enroll}). Reads public material only and creates no key: the AK is made by the agent on first attestation.
 */
@Command(name = "tpm", description = "Commands on this node's TPM.", subcommands = {TpmCommands.Ek.class})
final class TpmCommands implements Callable<Integer> {
    public static final String TPM_FAILED = "cannot read the endorsement key from the TPM: ";
    public static final String NO_CERTIFICATE = "none (the TPM holds no EK certificate in NV 0x01C00002 or "
            + "0x01C0000A); enrol the EK hash or the public key below";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: ek");
    }

    /** How {@code tpm ek} prints: for people, or JSON for scripts. */
    enum Output {
        PRETTY, JSON
    }

    @Command(name = "ek", description = "Prints the EK hash, type and certificate (or public key) of this node's TPM, "
            + "for bourne-server tpm enroll.")
    static final class Ek implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "-config", paramLabel = "FILE",
                description = "agent configuration: its NodeAttestor \"tpm\" tpm_device is used")
        Path config;
        @Option(names = "-tpmDevice", paramLabel = "DEV",
                description = "TPM device: /dev/tpmrm0 (default) or tcp://host:port (swtpm); wins over -config")
        String tpmDevice;
        @Option(names = "-output", paramLabel = "pretty|json", defaultValue = "pretty",
                description = "Output format: pretty (default) or json")
        Output output;

        @Override
        public Integer call() throws CliException {
            if (tpmDevice != null) {
                Optional<String> problem = TpmDevices.check(tpmDevice);
                if (problem.isPresent()) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "-tpmDevice " + problem.get());
                }
            }
            TpmAgentSettings settings = TpmAgentSettings.defaults(TpmDevices.DEFAULT_DEVICE);
            if (config != null) {
                Optional<AgentSettings> agent = AgentCli.Validate.load(config, spec.commandLine().getErr());
                if (agent.isEmpty()) {
                    return AgentCli.FAILED;
                }
                settings = AgentPlugins.tpm(agent.get()).orElse(settings);
            }
            String device = tpmDevice != null ? tpmDevice : settings.device();
            EndorsementKey ek;
            try (AgentTpm tpm = AgentTpm.open(new TpmAgentSettings(device, settings.akHandle(), settings.akType(),
                    settings.eventLogPath(), settings.sealPcrs(), settings.sealPcrBank()))) {
                ek = tpm.endorsementKey();
            } catch (AgentTpmException e) {
                throw new CliException(TPM_FAILED + e.getMessage(), e);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (output == Output.JSON) {
                out.println(json(ek));
            } else {
                pretty(out, ek);
            }
            out.flush();
            return AgentCli.OK;
        }
    }

    static String type(EndorsementKey ek) {
        return ek.type().name().toLowerCase(Locale.ROOT);
    }

    static String publicKeyPem(EndorsementKey ek) {
        return PemFiles.pem("PUBLIC KEY", ek.publicKey().getEncoded());
    }

    static Optional<String> certificatePem(EndorsementKey ek) {
        return ek.certificate().map(der -> PemFiles.pem("CERTIFICATE", der));
    }

    static String certificateIndex(EndorsementKey ek) {
        return String.format(Locale.ROOT, "0x%08X", ek.type() == EndorsementKey.Type.RSA
                ? AgentTpm.RSA_EK_CERTIFICATE_INDEX : AgentTpm.ECC_EK_CERTIFICATE_INDEX);
    }

    static void pretty(PrintWriter out, EndorsementKey ek) {
        out.println("EK hash:          " + ek.ekHash());
        out.println("EK type:          " + type(ek));
        Optional<String> certificate = certificatePem(ek);
        if (certificate.isPresent()) {
            out.println("EK certificate:   NV index " + certificateIndex(ek));
            out.print(certificate.get());
            out.println();
            out.println("Enrol this node with: bourne-server tpm enroll -ekHash " + ek.ekHash());
            out.println("                  or: bourne-server tpm enroll -ekCert FILE (the certificate above)");
        } else {
            out.println("EK certificate:   " + NO_CERTIFICATE);
            out.println("EK public key:");
            out.print(publicKeyPem(ek));
            out.println();
            out.println("Enrol this node with: bourne-server tpm enroll -ekHash " + ek.ekHash());
            out.println("                  or: bourne-server tpm enroll -ekPub FILE (the public key above)");
        }
    }

    /** {@code ek_hash}, {@code ek_type}, {@code ek_certificate} (PEM, or null), {@code ek_public_key} (PEM). */
    static String json(EndorsementKey ek) {
        Struct.Builder struct = Struct.newBuilder()
                .putFields("ek_hash", Value.newBuilder().setStringValue(ek.ekHash()).build())
                .putFields("ek_type", Value.newBuilder().setStringValue(type(ek)).build())
                .putFields("ek_certificate", certificatePem(ek)
                        .map(pem -> Value.newBuilder().setStringValue(pem).build())
                        .orElse(Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build()))
                .putFields("ek_public_key", Value.newBuilder().setStringValue(publicKeyPem(ek)).build());
        return AgentCli.json(Value.newBuilder().setStructValue(struct).build());
    }
}
