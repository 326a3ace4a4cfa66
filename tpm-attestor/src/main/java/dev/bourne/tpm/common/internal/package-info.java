/**
 * Not API: the bounded big-endian reader and the writer the TPM structure parsers of {@code dev.bourne.tpm.common}
 * (and its event-log package) are built on.
 */
package dev.bourne.tpm.common.internal;
