/**
 * The server half of TPM node attestation: EK trust (enrolment, manufacturer CA chains), AK checks, the challenge,
 * quote and PCR policy decisions, and continuous attestation on renewal.
 */
package dev.bourne.tpm.server;
