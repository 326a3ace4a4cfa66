package dev.bourne.core.workloadattestor;

/** A workload's facts could not be established; the caller gets no identity (Workload API status UNAVAILABLE). */
public class WorkloadAttestationException extends Exception {
    private static final long serialVersionUID = 1L;

    public WorkloadAttestationException(String message) {
        super(message);
    }

    public WorkloadAttestationException(String message, Throwable cause) {
        super(message, cause);
    }
}
