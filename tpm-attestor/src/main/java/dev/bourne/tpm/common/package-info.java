/**
 * What both halves of TPM node attestation share: the TPM 2.0 structures as the TPM marshals them (TCG TPM 2.0 Library
 * Part 2), the EK hash, MakeCredential, quote verification and boot event-log replay. Plain JCA and BouncyCastle, no
 * TPM needed: the server runs all of it.
 */
package dev.bourne.tpm.common;
