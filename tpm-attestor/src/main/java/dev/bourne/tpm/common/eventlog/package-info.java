/**
 * TCG boot event logs (TCG PC Client Platform Firmware Profile, section 10 "Event Logging"): the firmware's record of
 * every measurement it extended into the TPM's PCRs, as Linux exposes it in
 * {@code /sys/kernel/security/tpm0/binary_bios_measurements}.
 *
 * <p>The server never trusts a log by itself: {@link dev.bourne.tpm.common.eventlog.EventLog#parse} reads the bytes an
 * agent sent, strictly and within fixed bounds, and {@link dev.bourne.tpm.common.eventlog.EventLog#mismatchedPcrs}
 * checks that the log replays to the PCR values a verified quote covers. Only then do its events say anything about how
 * the node booted.
 */
package dev.bourne.tpm.common.eventlog;
