/**
 * The server half of TPM node attestation (ARCHITECTURE.md section 3): EK trust by enrolment ({@link
 * dev.bourne.tpm.server.TpmEnrollments}) or manufacturer CA chain ({@link dev.bourne.tpm.server.EkCaStore}) as
 * {@code ek_trust} says ({@link dev.bourne.tpm.server.EkTrustMode}), AK checks, the credential challenge, quote and
 * event-log verification, PCR policy ({@link dev.bourne.tpm.server.PcrPolicies}) and continuous attestation on renewal,
 * all in {@code TpmServerAttestor}; configuration in {@link dev.bourne.tpm.server.TpmServerSettings}. Every refusal is
 * a {@link dev.bourne.tpm.server.TpmAttestationException} with a message safe to send to the agent.
 */
package dev.bourne.tpm.server;
