/**
 * The agent half of TPM node attestation: the TPM command layer on TSS.Java ({@code /dev/tpmrm0}, or TCP to swtpm),
 * EK and AK, credential activation, quotes, the boot event log, and sealing the agent's credential to PCRs.
 */
package dev.bourne.tpm.agent;
