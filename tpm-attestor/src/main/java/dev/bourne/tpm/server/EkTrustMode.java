package dev.bourne.tpm.server;

import java.util.List;

/**
 * How the server decides that an endorsement key belongs to a real TPM it may trust (ARCHITECTURE.md section 3 step 2;
 * {@code ek_trust} in the plugin configuration).
 */
public enum EkTrustMode {
    /** A security team enrolled the EK hash ({@code bourne-server tpm enroll}); no certificate needed. */
    ENROLLED("enrolled"),
    /** The EK certificate chains to a configured manufacturer CA and carries the EK presented. */
    CA("ca"),
    /** Either an enrolment or a manufacturer certificate suffices. */
    EITHER("either"),
    /** Both: the EK must be enrolled and carry a manufacturer certificate. */
    BOTH("both");

    private final String configName;

    EkTrustMode(String configName) {
        this.configName = configName;
    }

    /** The name written in the configuration file. */
    public String configName() {
        return configName;
    }

    /** Whether this mode reads manufacturer CA certificates (and so needs {@code ek_ca_paths}). */
    public boolean usesCertificates() {
        return this != ENROLLED;
    }

    /**
     * Whether this mode requires an enrolment, so that a missing one refuses attestation and renewal. Every mode reads
     * the enrolment when there is one: a revoked enrolment refuses in all of them.
     */
    public boolean requiresEnrollment() {
        return this == ENROLLED || this == BOTH;
    }

    public static List<EkTrustMode> all() {
        return List.of(values());
    }
}
